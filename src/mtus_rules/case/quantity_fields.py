"""Quantities given as separate fields (an RFA line's frequency, duration and
quantity), read one field at a time and combined; they must agree. The
free-text grammar they share is in quantity.py."""

from __future__ import annotations

from ..errors import UNDERSTOOD_FIELDS, QuantityError
from .model import Frequency, Visits
from .quantity import (
    _BARE,
    _DUR_ONLY,
    _FREQ_ONLY,
    _HOURS,
    _HOURS_ALONE,
    _VISITS_COUNT,
    _VISITS_LABEL,
    MAX_VISITS,
    _frequency,
    _match,
    _normalize,
    _reject_common,
    _visits,
)

__all__ = ["parse_quantity_field"]


def _field_text(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise QuantityError(value, f"expected text, got {type(value).__name__}", label="quantity field",
                            understood=UNDERSTOOD_FIELDS)
    return value if value.strip(" .\t\n") else None


def _read_frequency(text: str) -> tuple[int, int | None]:
    """The frequency field: a number a week, and the weeks when the field also gives them."""
    label = "frequency field"
    s = _normalize(text, label=label, understood=UNDERSTOOD_FIELDS)
    _reject_common(text, s, label=label, understood=UNDERSTOOD_FIELDS)
    m = _FREQ_ONLY.match(s)
    if m:
        per_week = int(m.group(1))
        _frequency(text, per_week, 1, label=label)
        return per_week, None
    full = _match(text, s)
    if isinstance(full, Frequency):
        return full.per_week, full.weeks
    raise QuantityError(
        text, "not a frequency per week (write '2x/week' or 'twice a week')", label=label,
        understood=UNDERSTOOD_FIELDS,
    )


def _read_duration(text: str) -> int:
    label = "duration field"
    s = _normalize(text, label=label, understood=UNDERSTOOD_FIELDS)
    _reject_common(text, s, label=label, understood=UNDERSTOOD_FIELDS)
    m = _DUR_ONLY.match(s)
    if m:
        weeks = int(m.group(1))
        _frequency(text, 1, weeks, label=label)
        return weeks
    m = _BARE.match(s)
    reason = (
        f"a duration with no unit ({m.group(1)}): write '{m.group(1)} weeks'" if m
        else "not a duration in weeks (write '6 weeks')"
    )
    raise QuantityError(text, reason, label=label, understood=UNDERSTOOD_FIELDS)


def _read_count(text: str) -> int:
    label = "quantity field"
    s = _normalize(text, label=label, understood=UNDERSTOOD_FIELDS)
    _reject_common(text, s, label=label, understood=UNDERSTOOD_FIELDS)
    m = _BARE.match(s) or _VISITS_LABEL.match(s) or _VISITS_COUNT.match(s)
    if m:
        return _visits(text, int(m.group(1)), label=label).visits
    hours = _HOURS.search(s)
    if hours:
        raise QuantityError(text, _HOURS_ALONE.format(hours=hours.group(1)), label=label, understood=UNDERSTOOD_FIELDS)
    raise QuantityError(
        text, "not a number of visits (write '12' or '12 visits')", label=label, understood=UNDERSTOOD_FIELDS
    )


def parse_quantity_field(freq: str | None, duration: str | None, quantity: str | None) -> Visits | Frequency:
    """Combine an RFA form's separate frequency, duration and quantity fields.

    - frequency and duration ("2x/week", "6 weeks") -> `Frequency`; the
      frequency field may also hold the whole quantity ("2x/week for 6 weeks"),
      and then a duration given too must agree with it;
    - a quantity ("12", "12 visits", "x 12") as well must equal frequency x
      duration, or `QuantityError` names both;
    - a quantity with only a frequency or only a duration -> `Visits` (the
      quantity is the count; the other field states no total to compare);
    - a quantity alone -> `Visits`;
    - a frequency or a duration alone, or nothing at all -> `QuantityError`.

    Blank fields (None, empty or whitespace) count as absent.
    """
    shown = f"frequency={freq!r}, duration={duration!r}, quantity={quantity!r}"
    text = shown

    def fail(reason: str) -> QuantityError:
        return QuantityError(text, reason, label="quantity fields", shown=shown, understood=UNDERSTOOD_FIELDS)

    f, d, q = _field_text(freq), _field_text(duration), _field_text(quantity)
    if f is None and d is None and q is None:
        raise fail("all three fields are empty")
    per_week = weeks = None
    if f is not None:
        per_week, weeks = _read_frequency(f)
    if d is not None:
        duration_weeks = _read_duration(d)
        if weeks is not None and weeks != duration_weeks:
            raise fail(f"the frequency field says {weeks} weeks but the duration field says {duration_weeks} weeks")
        weeks = duration_weeks
    count = _read_count(q) if q is not None else None
    if per_week is not None and weeks is not None:
        if per_week * weeks > MAX_VISITS:
            raise fail(f"more than {MAX_VISITS} visits ({per_week} a week for {weeks} weeks = {per_week * weeks})")
        result = Frequency(per_week=per_week, weeks=weeks)
        if count is not None and count != result.total:
            raise fail(
                f"frequency and duration give {per_week} a week for {weeks} weeks = {result.total} visits, "
                f"but the quantity says {count} visits"
            )
        return result
    if count is not None:
        return Visits(visits=count)
    if per_week is not None:
        raise fail(f"a frequency ({per_week} a week) with no duration or quantity")
    raise fail(f"a duration ({weeks} weeks) with no frequency or quantity")
