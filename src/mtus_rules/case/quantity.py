"""Read the quantity of a Request for Authorization from free text.

RFA forms and utilization-review letters write the same quantity many ways:
"x 8", "eight (8) visits", "2x/wk for 6 weeks", "two times three". This module
turns the forms below into the case model's `Visits` or `Frequency`, and
rejects everything else with a `QuantityError` that quotes the text, says what
is wrong and lists the forms it understands. It never guesses: a text that
could mean two quantities is rejected, not read one way.

Understood (case-insensitive; extra whitespace, trailing periods and dots after
abbreviations such as "wk." or "qty." are ignored; "x" may also be written "×"):

- A number of visits -> `Visits`: "x 8", "X8", "8 visits", "8 sessions",
  "8 treatments", "#8", "qty 8", "quantity: 8", "visits: 8", "x 8 visits".
- A weekly frequency and a duration -> `Frequency`: "2x/week for 6 weeks",
  "2x/wk x 4 wks", "2 times a week for 6 weeks", "2 times per week x 3 weeks",
  "twice a week for 4 weeks", "once weekly x 6 weeks", "3x a week for 4 weeks",
  "2 visits per week for 6 weeks", "1 time a week for 6 weeks", "2/wk x 6 wks",
  "2 a week for 6 weeks", "2x/week, 6 weeks", "6 weeks at 2x/week".
- "AxB" with no unit, or with the unit only on B -> A per week for B weeks, the
  prescribers' convention the seeds use: "2x4", "2 x 4", "2 x 4 weeks",
  "two times three". After an explicit weekly frequency a bare duration is in
  weeks by the same convention: "2x/week x 6" is 2 a week for 6 weeks.
- Number words one to twenty, and once / twice / thrice, anywhere a number
  goes; a word with its digits, "eight (8)" or "8 (eight)", is one number (and
  rejected when the two differ).
- A frequency and a count of visits together, "2x/week for 6 weeks (12 visits)",
  when they agree (-> `Frequency`).
- Days a week as the frequency, "5 days a week for 2 weeks" (a day a week is a
  visit a week).
- Programs requested in hours (work conditioning, work hardening): the hours of
  each session beside the sessions, "10 sessions x 6 hours", "10 sessions of 4
  hrs", "6 hours x 10 sessions", "5x/week for 2 weeks, 6 hours a day", "4
  hrs/day, 3 days a week for 4 weeks". The count is the sessions; the hours of a
  session are set aside (the text is kept with the item, so the reader sees how
  hours became sessions).
- Hours alone, "80 hours", "x 80 hours", "80 hours of work hardening" ->
  `Hours`: the number of sessions is not guessed; the decision reads it as at
  least the sessions the hours must take at up to 8 hours a session.

Rejected, each with its own reason:

- Empty text, or text with no number ("as needed", "a few visits"), and number
  words above twenty ("twenty-four"): write the number in digits.
- Ranges ("1-2 times per week", "6-8 visits", "4 to 6 weeks", "1 or 2"): a
  request is decided against one number, and picking a bound would decide a
  different request from the one made. The message tells the requester to
  write the single number requested, and that if "up to" the range is meant,
  that is the upper bound (it shows the text rewritten with it).
- Frequencies not per week ("2x/month", "3x/day", "daily", "biweekly", "every
  other week", "prn"): the model holds visits per week, and converting (a month
  is not a whole number of weeks; "biweekly" means both twice a week and every
  two weeks) would be a guess.
- Durations not in weeks ("x 4 months", "for 30 days").
- Schedules that change ("2x/week for 2 weeks then 1x/week", anything with
  "then", "followed by", "taper", ";" or two frequencies): that is more than
  one quantity; split the item or state the total visits.
- Two different numbers of visits ("8 visits (12 sessions)", "x 8, x 12"), or a
  frequency and a visit count that disagree ("2x/week for 6 weeks (10 visits)").
- Zero or negative numbers, fractions and decimals ("1.5x/week", "1/2").
- More than 1000 visits in all, more than 14 visits a week or more than 104
  weeks (the bounds of the case model).
- A frequency with no duration ("2x/week"), a duration with no frequency
  ("6 weeks", "x 8 weeks"), and a bare number ("8": visits? weeks?).
- Two numbers of hours, or a range of hours ("4-6 hours a day"); in the
  separate quantity field of an RFA form, hours with no sessions ("80 hours").
- Anything else, as not understood.

`parse_quantity_field` (quantity_fields.py) reads RFA forms that split the quantity into frequency,
duration and quantity fields; see its docstring.
"""

from __future__ import annotations

import functools
import re

from ..errors import UNDERSTOOD, UNDERSTOOD_FIELDS, QuantityError
from .model import Frequency, Hours, Visits

__all__ = ["QuantityError", "parse_quantity"]

MAX_VISITS = 1000
MAX_PER_WEEK = 14
MAX_WEEKS = 104
MAX_HOURS = 8000

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
_ADVERBS = {"once": 1, "twice": 2, "thrice": 3}
_WORD = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_BIG_WORD = re.compile(
    r"\b(?:twenty[\s-]+(?:one|two|three|four|five|six|seven|eight|nine)|thirty|forty|fifty|sixty|seventy|eighty"
    r"|ninety|hundred|thousand)\b"
)
_WORD_THEN_DIGITS = re.compile(rf"\b({_WORD})\s*\(\s*(\d+)\s*\)")
_DIGITS_THEN_WORD = re.compile(rf"\b(\d+)\s*\(\s*({_WORD})\s*\)")

_TIMES = r"(?:x|times?|visits?|sessions?|treatments?|days?)"
_PER = r"(?:/|per|a|an|each|every)"
_WEEKS = r"(?:wks?|weeks?)"
# A weekly frequency: one group, the number a week.
_FREQ = (
    rf"(\d+)\s*(?:{_TIMES}\s*(?:{_PER}\s*)?(?:{_WEEKS}|/\s*w)\b|(?:{_TIMES}\s*)?{_PER}\s*{_WEEKS}\b"
    rf"|{_TIMES}\s*weekly\b)"
)
_SEP = r"\s*,?\s*(?:(?:x|times?|for|by|over|\*|-)\s*)?"
_DUR = rf"(?:(?:x|for|over)\s*)?(\d+)\s*{_WEEKS}"

_AXB = re.compile(rf"^(\d+)\s*(?:x|times?|\*)\s*(\d+)(?:\s*{_WEEKS})?$")
_FREQ_DUR = re.compile(rf"^{_FREQ}{_SEP}(\d+)(?:\s*{_WEEKS})?$")
_DUR_FREQ = re.compile(rf"^{_DUR}\s*,?\s*(?:(?:at|@|of)\s*)?{_FREQ}$")
_VISITS_LABEL = re.compile(
    r"^(?:x|#|qty|quantity|visits|sessions|number of visits)\s*[:=]?\s*#?\s*(\d+)"
    r"(?:\s*(?:visits?|sessions?|treatments?))?$"
)
_VISITS_COUNT = re.compile(r"^(\d+)\s*(?:visits?|sessions?|treatments?)$")
_FREQ_ONLY = re.compile(rf"^{_FREQ}$")
_DUR_ONLY = re.compile(rf"^{_DUR}$")
_BARE = re.compile(r"^(\d+)$")
_ANY_FREQ = re.compile(_FREQ)

_TAPER = re.compile(r";|\+|\b(?:then|followed by|thereafter|after which|plus|taper\w*|decreas\w*|reduc\w*)\b")
_RANGE = re.compile(r"(\d+)\s*(?:-|to|or)\s*(\d+)")
_NEGATIVE = re.compile(r"(?<![\w])-(?=\d)|\bminus\b")
_FRACTION = re.compile(r"\d\s*[./]\s*\d|\b(?:half|quarter)\b")
_NOT_WEEKLY = re.compile(
    r"(?:\d+\s*(?:x|times?)?|\bx|\btimes?)\s*(?:/|per|a|an|each|every)\s*"
    r"(mo|mos|mon|mnths?|months?|days?|d|yrs?|years?)\b"
    r"|\b(monthly|daily|yearly|annually|nightly|hourly|biweekly|bi-weekly|fortnightly|semiweekly|qd|bid|tid|qid|prn"
    r"|as needed)\b"
    r"|\bevery\s+(?:other|\d+)\s+(?:wks?|weeks?|days?|months?)\b"
)
# Days a week are a frequency ("5 days a week"), not a duration in days.
_NOT_WEEKS = re.compile(
    r"(\d+)\s*(mo|mos|mnths?|months?|days?|yrs?|years?)\b(?!\s*(?:/|per|a|an|each|every)\s*(?:wks?|weeks?|w)\b|\s*weekly\b)"
)
# The hours of each session of a program, set aside when the sessions are stated.
_HOURS = re.compile(
    r"(?:\b(?:x|of|at|for)\s*|@\s*)?(?<![\d.])(\d+(?:\.\d+)?)\s*(?:hours?|hrs?)\b"
    r"(?:\s*(?:each|per session|a session|per visit|a visit|per day|a day|/\s*day|/\s*session|daily))?"
)
_HOURS_ALONE = (
    "hours alone ({hours} hours) give no number of sessions, and how many hours make a session is not guessed: "
    "state the sessions (e.g. '10 sessions x 6 hours' or '5x/week for 2 weeks, 6 hours a day')"
)
_HOURS_RANGE = re.compile(r"\d\s*(?:-|to|or)\s*\d+(?:\.\d+)?\s*(?:hours?|hrs?)\b")
_VISIT_MENTIONS = re.compile(
    r"(\d+)\s*(?:visits?|sessions?|treatments?)\b"
    rf"|(?:^|(?<=[\s(,/]))(?:x|#|qty|quantity)\s*:?\s*(\d+)\b(?!\s*(?:{_WEEKS}|x|times|/|per))"
)
_PARENTHESIS = re.compile(r"^(.+?)\s*\(\s*([^()]+?)\s*\)$")
_COMMA = re.compile(r"^(.+?)\s*,\s*(.+)$")


def _word_as_digits(m: re.Match[str], group: int) -> str:
    return str(_NUMBER_WORDS[m.group(group)])


def _normalize(text: str, *, label: str = "quantity", understood: str = UNDERSTOOD) -> str:
    """Lower-case, one space between words, no trailing periods, digits for number words."""
    s = " ".join(text.split()).lower()
    s = s.replace("×", "x").replace("–", "-").replace("—", "-").replace("−", "-")
    s = s.rstrip(". ")
    s = re.sub(r"(?<=[a-z])\.", "", s)  # wk. qty. no.
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)  # 1,000

    def fail(reason: str) -> QuantityError:
        return QuantityError(text, reason, label=label, understood=understood)

    big = _BIG_WORD.search(s)
    if big:
        raise fail(f"number words above twenty ({big.group(0)!r}) are not understood; write the number in digits")
    for pattern, word_group, digit_group in ((_WORD_THEN_DIGITS, 1, 2), (_DIGITS_THEN_WORD, 2, 1)):
        for m in pattern.finditer(s):
            word, digits = m.group(word_group), int(m.group(digit_group))
            if _NUMBER_WORDS[word] != digits:
                raise fail(f"the number is written as {word!r} in words but ({digits}) in digits")
        s = pattern.sub(functools.partial(_word_as_digits, group=word_group), s)
    s = re.sub(rf"\b({_WORD})\b", lambda m: str(_NUMBER_WORDS[m.group(1)]), s)
    s = re.sub(r"\b(once|twice|thrice)\b", lambda m: f"{_ADVERBS[m.group(1)]} times", s)
    return s


def _visits(text: str, n: int, label: str = "quantity") -> Visits:
    understood = UNDERSTOOD if label == "quantity" else UNDERSTOOD_FIELDS
    if n <= 0:
        raise QuantityError(text, f"zero or negative number of visits ({n})", label=label, understood=understood)
    if n > MAX_VISITS:
        raise QuantityError(text, f"more than {MAX_VISITS} visits ({n})", label=label, understood=understood)
    return Visits(visits=n)


def _frequency(text: str, per_week: int, weeks: int, label: str = "quantity") -> Frequency:
    understood = UNDERSTOOD if label == "quantity" else UNDERSTOOD_FIELDS
    if per_week <= 0 or weeks <= 0:
        raise QuantityError(
            text, f"zero or negative number ({per_week} a week for {weeks} weeks)", label=label, understood=understood
        )
    if per_week > MAX_PER_WEEK:
        raise QuantityError(
            text, f"more than {MAX_PER_WEEK} visits a week ({per_week})", label=label, understood=understood
        )
    if weeks > MAX_WEEKS:
        raise QuantityError(text, f"more than {MAX_WEEKS} weeks ({weeks})", label=label, understood=understood)
    if per_week * weeks > MAX_VISITS:
        raise QuantityError(
            text, f"more than {MAX_VISITS} visits ({per_week} a week for {weeks} weeks = {per_week * weeks})",
            label=label, understood=understood,
        )
    return Frequency(per_week=per_week, weeks=weeks)


def _reject_common(text: str, s: str, label: str = "quantity", understood: str = UNDERSTOOD) -> None:
    """The families rejected wherever they appear, before any form is tried."""

    def fail(reason: str) -> QuantityError:
        return QuantityError(text, reason, label=label, understood=understood)

    if not re.search(r"\d", s):
        raise fail("no number")
    m = _TAPER.search(s)
    if m or len(_ANY_FREQ.findall(s)) > 1:
        what = repr(m.group(0)) if m else "two frequencies"
        raise fail(
            f"the schedule changes part-way ({what}); a tapering schedule is more than one quantity: "
            "split it into separate items or state the total number of visits"
        )
    m = _RANGE.search(s)
    if m:
        low, high = m.group(1), m.group(2)
        upper = s[: m.start()] + high + s[m.end():]
        raise fail(
            f"a range ({low}-{high}) is not one quantity; write the single number requested "
            f"(for 'up to {high}', the upper bound: {upper!r})"
        )
    if _NEGATIVE.search(s):
        raise fail("zero or negative number")
    if _FRACTION.search(s):
        raise fail("not a whole number")
    m = _NOT_WEEKLY.search(s)
    if m:
        word = m.group(0)
        unit = m.group(1) or ""
        if unit.startswith("m"):
            reason = f"a frequency per month ({word!r})"
        elif unit.startswith("d"):
            reason = f"a frequency per day ({word!r})"
        elif unit.startswith("y"):
            reason = f"a frequency per year ({word!r})"
        elif m.group(2) in ("biweekly", "bi-weekly"):
            reason = f"{m.group(2)!r} means both twice a week and every two weeks"
        elif m.group(2) in ("prn", "as needed"):
            reason = f"{m.group(2)!r} states no number of visits"
        else:
            reason = f"a frequency that is not per week ({word!r})"
        raise fail(f"{reason}; only a frequency per week is understood: write times per week or a number of visits")
    m = _NOT_WEEKS.search(s)
    if m:
        unit = {"m": "months", "d": "days", "y": "years"}[m.group(2)[0]]
        raise fail(
            f"a duration in {unit} ({m.group(0)!r}); only a duration in weeks is understood: "
            "write it in weeks or as a number of visits"
        )


def _match(text: str, s: str) -> Visits | Frequency | None:
    """The one form `s` is written in, or None."""
    for pattern in (_AXB, _FREQ_DUR):
        m = pattern.match(s)
        if m:
            return _frequency(text, int(m.group(1)), int(m.group(2)))
    m = _DUR_FREQ.match(s)
    if m:
        return _frequency(text, int(m.group(2)), int(m.group(1)))
    for pattern in (_VISITS_LABEL, _VISITS_COUNT):
        m = pattern.match(s)
        if m:
            return _visits(text, int(m.group(1)))
    return None


def _combined(text: str, s: str) -> Visits | Frequency | None:
    """Two forms side by side ("2x/week for 6 weeks (12 visits)"): one quantity when they agree."""
    for pattern in (_PARENTHESIS, _COMMA):
        m = pattern.match(s)
        if not m:
            continue
        first, second = _match(text, m.group(1)), _match(text, m.group(2))
        if first is None or second is None:
            continue
        if isinstance(first, Visits) and isinstance(second, Visits):
            if first.visits == second.visits:
                return first
            raise QuantityError(text, f"two different numbers of visits ({first.visits} and {second.visits})")
        if isinstance(first, Frequency) and isinstance(second, Frequency):
            if first == second:
                return first
            raise QuantityError(text, "two different frequencies")
        freq, count = (first, second) if isinstance(first, Frequency) else (second, first)
        assert isinstance(freq, Frequency) and isinstance(count, Visits)  # one of each, by the tests above
        if freq.total != count.visits:
            raise QuantityError(
                text,
                f"two different numbers of visits ({freq.per_week} a week for {freq.weeks} weeks is "
                f"{freq.total}, but the text also says {count.visits})",
            )
        return freq
    return None


def _without_hours(text: str, s: str) -> str | None:
    """`s` with the hours of a session set aside, or None when it names no hours."""
    found = list(_HOURS.finditer(s))
    if not found:
        return None
    if _HOURS_RANGE.search(s):
        raise QuantityError(text, "a range of hours is not one quantity; write the hours of a session as one number")
    if len(found) > 1:
        raise QuantityError(
            text, "two numbers of hours; state the sessions once, with the hours of each (e.g. '10 sessions x 6 hours')"
        )
    m = found[0]
    rest = re.sub(r"\(\s*\)", " ", s[: m.start()] + " " + s[m.end():])
    rest = " ".join(rest.split()).strip(" ,")
    return rest


def parse_quantity(text: str) -> Visits | Frequency | Hours:
    """Read one quantity ("x 8", "2x/week for 6 weeks", "two times three").

    Returns `Visits` or `Frequency`; raises `QuantityError` for anything not
    exactly one quantity (see the module docstring for both lists).
    """
    if not isinstance(text, str):
        raise QuantityError(text, f"expected text, got {type(text).__name__}")
    s = _normalize(text)
    if not s:
        raise QuantityError(text, "empty")
    rest = _without_hours(text, s)
    if rest is not None and not re.search(r"\d", rest):
        # Hours alone ("80 hours of work hardening"): a program quantity in
        # hours. How many sessions it makes is not guessed here; the case
        # model reads it as at least the sessions the hours must take.
        hours = _HOURS.search(s).group(1)  # type: ignore[union-attr]
        if not hours.isdigit() or not 1 <= int(hours) <= MAX_HOURS:
            raise QuantityError(text, f"hours alone must be a whole number from 1 to {MAX_HOURS}, got {hours}")
        return Hours(hours=int(hours))
    if rest is not None:
        _reject_common(text, rest)
        result = _match(text, rest) or _combined(text, rest)
        if result is None:
            raise QuantityError(
                text, f"with the hours of a session set aside, {rest!r} is neither a number of sessions nor a weekly "
                "frequency with a duration (e.g. '10 sessions x 6 hours', '5x/week for 2 weeks, 6 hours a day')"
            )
        return result
    _reject_common(text, s)
    result = _match(text, s) or _combined(text, s)
    if result is not None:
        return result
    counts = {int(a or b) for a, b in _VISIT_MENTIONS.findall(s)}
    if len(counts) > 1:
        low, high = sorted(counts)[:2]
        raise QuantityError(text, f"two different numbers of visits ({low} and {high})")
    m = _FREQ_ONLY.match(s)
    if m:
        raise QuantityError(text, f"a frequency ({m.group(1)} a week) with no duration: add 'for N weeks'")
    m = _DUR_ONLY.match(s)
    if m:
        raise QuantityError(text, f"a duration ({m.group(1)} weeks) with no frequency: add 'N times a week'")
    m = _BARE.match(s)
    if m:
        raise QuantityError(
            text, f"a bare number ({m.group(1)}) could be visits or weeks: write 'x {m.group(1)}' or "
            f"'{m.group(1)} visits'"
        )
    raise QuantityError(text, "not understood")
