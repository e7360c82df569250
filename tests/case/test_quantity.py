"""The free-text quantity parser (mtus_rules.case.quantity).

Every valid case asserts the parsed value; every malformed case asserts the
exact reason and that the message quotes the input and lists the forms that
are understood.
"""

from __future__ import annotations

import pytest

from mtus_rules.case import Frequency, Hours, Visits
from mtus_rules.case import QuantityError, parse_quantity, parse_quantity_field
from mtus_rules.case.quantity import UNDERSTOOD, UNDERSTOOD_FIELDS

# The notations written in the five seed determinations.
SEED_NOTATIONS = [
    ("2 x 4 weeks", Frequency(per_week=2, weeks=4)),  # seed 002: Mechanical Traction 2 x 4 weeks
    ("x 8", Visits(visits=8)),  # seed 001: chiropractic x 8
    ("X8", Visits(visits=8)),  # seed 001: PHYSICAL THERAPY X8
    ("X 8", Visits(visits=8)),  # seed 001: CHIROPRACTIC X 8
    ("x 2", Visits(visits=2)),  # seed 001: massage x 2
    ("2x/wk for 6 weeks", Frequency(per_week=2, weeks=6)),  # seed 003
    ("two (2) times a week for six (6) weeks", Frequency(per_week=2, weeks=6)),  # seed 003, UR wording
    ("twelve (12) sessions", Visits(visits=12)),  # seed 003, UR wording
    ("2 times per weeks for 3 weeks", Frequency(per_week=2, weeks=3)),  # seed 004
    ("two times three", Frequency(per_week=2, weeks=3)),  # seed 004
]

MORE_VALID = [
    ("x8", Visits(visits=8)),
    ("8 visits", Visits(visits=8)),
    ("8 sessions", Visits(visits=8)),
    ("1 visit", Visits(visits=1)),
    ("6 treatments", Visits(visits=6)),
    ("eight (8) visits", Visits(visits=8)),
    ("8 (eight) visits", Visits(visits=8)),
    ("eight visits", Visits(visits=8)),
    ("#8", Visits(visits=8)),
    ("qty 8", Visits(visits=8)),
    ("Qty. 12", Visits(visits=12)),
    ("quantity: 8", Visits(visits=8)),
    ("Quantity: #8", Visits(visits=8)),
    ("visits: 10", Visits(visits=10)),
    ("x 8 visits", Visits(visits=8)),
    ("  X 8.  ", Visits(visits=8)),
    ("1,000 visits", Visits(visits=1000)),
    ("x twenty", Visits(visits=20)),
    ("2x4", Frequency(per_week=2, weeks=4)),
    ("2 x 4", Frequency(per_week=2, weeks=4)),
    ("2x3", Frequency(per_week=2, weeks=3)),
    ("2 × 4", Frequency(per_week=2, weeks=4)),
    ("3*4", Frequency(per_week=3, weeks=4)),
    ("2x/wk x 4 wks", Frequency(per_week=2, weeks=4)),
    ("2x/wk. x 4 wks.", Frequency(per_week=2, weeks=4)),
    ("2x/week for 6 weeks", Frequency(per_week=2, weeks=6)),
    ("2X/WEEK FOR 6 WEEKS.", Frequency(per_week=2, weeks=6)),
    ("2 times a week for 6 weeks", Frequency(per_week=2, weeks=6)),
    ("2 times per week x 3 weeks", Frequency(per_week=2, weeks=3)),
    ("twice a week for 4 weeks", Frequency(per_week=2, weeks=4)),
    ("Twice weekly x 4 weeks", Frequency(per_week=2, weeks=4)),
    ("once weekly x 6 weeks", Frequency(per_week=1, weeks=6)),
    ("once a week for 6 weeks", Frequency(per_week=1, weeks=6)),
    ("1 time per week for 6 weeks", Frequency(per_week=1, weeks=6)),
    ("thrice weekly for 2 weeks", Frequency(per_week=3, weeks=2)),
    ("3x a week for 4 weeks", Frequency(per_week=3, weeks=4)),
    ("3 x per week x 4 weeks", Frequency(per_week=3, weeks=4)),
    ("2/wk x 6 wks", Frequency(per_week=2, weeks=6)),
    ("2 per week for 6 weeks", Frequency(per_week=2, weeks=6)),
    ("2 visits per week for 6 weeks", Frequency(per_week=2, weeks=6)),
    ("2x/week, 6 weeks", Frequency(per_week=2, weeks=6)),
    ("2x/w x 6", Frequency(per_week=2, weeks=6)),  # bare duration after a weekly frequency: weeks
    ("2x/week x 6", Frequency(per_week=2, weeks=6)),
    ("three times a week for four weeks", Frequency(per_week=3, weeks=4)),
    ("6 weeks at 2x/week", Frequency(per_week=2, weeks=6)),
    ("x 6 weeks @ 3x/week", Frequency(per_week=3, weeks=6)),
    ("2x/week for 6 weeks (12 visits)", Frequency(per_week=2, weeks=6)),  # agreeing count
    ("12 visits (2x/week for 6 weeks)", Frequency(per_week=2, weeks=6)),
    ("8 visits (x 8)", Visits(visits=8)),
    ("14x/week for 71 weeks", Frequency(per_week=14, weeks=71)),  # 994 visits: within bounds
    ("x 1000", Visits(visits=1000)),
    # days a week are a frequency
    ("5 days a week for 2 weeks", Frequency(per_week=5, weeks=2)),
    ("5 days/week x 4 weeks", Frequency(per_week=5, weeks=4)),
    ("3 days weekly for 4 weeks", Frequency(per_week=3, weeks=4)),
    # work programs in hours: the sessions count, the hours of each are set aside
    ("10 sessions x 6 hours", Visits(visits=10)),
    ("10 sessions of 4 hrs.", Visits(visits=10)),
    ("6 hours x 10 sessions", Visits(visits=10)),
    ("x 10 sessions (6 hrs each)", Visits(visits=10)),
    ("12 sessions x 1.5 hours", Visits(visits=12)),
    ("5x/week for 2 weeks, 6 hours a day", Frequency(per_week=5, weeks=2)),
    ("4 hrs/day, 3 days a week for 4 weeks", Frequency(per_week=3, weeks=4)),
    ("5x/week x 4 weeks (8 hours per session)", Frequency(per_week=5, weeks=4)),
]


@pytest.mark.parametrize(("text", "expected"), SEED_NOTATIONS + MORE_VALID, ids=lambda v: repr(v))
def test_parses(text, expected):
    result = parse_quantity(text)
    assert type(result) is type(expected)
    assert result == expected
    if isinstance(expected, Visits):
        assert result.visits == expected.visits
    else:
        assert (result.per_week, result.weeks) == (expected.per_week, expected.weeks)


def test_seed_totals():
    assert parse_quantity("2 x 4 weeks").total == 8
    assert parse_quantity("2x/wk for 6 weeks").total == 12
    assert parse_quantity("two times three").total == 6
    assert parse_quantity("X8").total == 8


HOURS_ALONE = (
    "hours alone ({h} hours) give no number of sessions, and how many hours make a session is not guessed: "
    "state the sessions (e.g. '10 sessions x 6 hours' or '5x/week for 2 weeks, 6 hours a day')"
)

MALFORMED = [
    ("", "empty"),
    ("   ", "empty"),
    ("...", "empty"),
    ("visits", "no number"),
    ("a few visits", "no number"),
    ("as needed", "no number"),
    ("twenty-four visits", "number words above twenty ('twenty-four') are not understood; write the number in digits"),
    ("thirty visits", "number words above twenty ('thirty') are not understood; write the number in digits"),
    ("eight (9) visits", "the number is written as 'eight' in words but (9) in digits"),
    (
        "1-2 times per week for 6 weeks",
        "a range (1-2) is not one quantity; write the single number requested "
        "(for 'up to 2', the upper bound: '2 times per week for 6 weeks')",
    ),
    ("6-8 visits", "a range (6-8) is not one quantity; write the single number requested "
                   "(for 'up to 8', the upper bound: '8 visits')"),
    ("2x/week for 4 to 6 weeks", "a range (4-6) is not one quantity; write the single number requested "
                                 "(for 'up to 6', the upper bound: '2x/week for 6 weeks')"),
    ("1 or 2 visits", "a range (1-2) is not one quantity; write the single number requested "
                      "(for 'up to 2', the upper bound: '2 visits')"),
    (
        "2x/month for 3 months",
        "a frequency per month ('2x/month'); only a frequency per week is understood: "
        "write times per week or a number of visits",
    ),
    (
        "1 time per month x 6",
        "a frequency per month ('1 time per month'); only a frequency per week is understood: "
        "write times per week or a number of visits",
    ),
    (
        "3x/day for 2 weeks",
        "a frequency per day ('3x/day'); only a frequency per week is understood: "
        "write times per week or a number of visits",
    ),
    (
        "daily x 10",
        "a frequency that is not per week ('daily'); only a frequency per week is understood: "
        "write times per week or a number of visits",
    ),
    (
        "biweekly x 6 weeks",
        "'biweekly' means both twice a week and every two weeks; only a frequency per week is understood: "
        "write times per week or a number of visits",
    ),
    (
        "every other week x 6",
        "a frequency that is not per week ('every other week'); only a frequency per week is understood: "
        "write times per week or a number of visits",
    ),
    (
        "x 4 months",
        "a duration in months ('4 months'); only a duration in weeks is understood: "
        "write it in weeks or as a number of visits",
    ),
    (
        "2x/week for 30 days",
        "a duration in days ('30 days'); only a duration in weeks is understood: "
        "write it in weeks or as a number of visits",
    ),
    (
        "2x/week for 2 weeks then 1x/week",
        "the schedule changes part-way ('then'); a tapering schedule is more than one quantity: "
        "split it into separate items or state the total number of visits",
    ),
    (
        "2x/week x 2 weeks, 1x/week x 4 weeks",
        "the schedule changes part-way (two frequencies); a tapering schedule is more than one quantity: "
        "split it into separate items or state the total number of visits",
    ),
    (
        "3x/week for 2 weeks followed by 2x/week for 4 weeks",
        "the schedule changes part-way ('followed by'); a tapering schedule is more than one quantity: "
        "split it into separate items or state the total number of visits",
    ),
    ("8 visits (12 sessions)", "two different numbers of visits (8 and 12)"),
    ("x 8, x 12", "two different numbers of visits (8 and 12)"),
    ("8 visits or 12 visits", "two different numbers of visits (8 and 12)"),
    ("x 8 x 12", "not understood"),
    (
        "2x/week for 6 weeks (10 visits)",
        "two different numbers of visits (2 a week for 6 weeks is 12, but the text also says 10)",
    ),
    ("0 visits", "zero or negative number of visits (0)"),
    ("x 0", "zero or negative number of visits (0)"),
    ("0x/week for 6 weeks", "zero or negative number (0 a week for 6 weeks)"),
    ("2x/week for 0 weeks", "zero or negative number (2 a week for 0 weeks)"),
    ("x -2", "zero or negative number"),
    ("-8 visits", "zero or negative number"),
    ("1.5x/week for 4 weeks", "not a whole number"),
    ("x 1001", "more than 1000 visits (1001)"),
    ("1,500 visits", "more than 1000 visits (1500)"),
    ("15x/week for 2 weeks", "more than 14 visits a week (15)"),
    ("2x/week for 105 weeks", "more than 104 weeks (105)"),
    ("14x/week for 100 weeks", "more than 1000 visits (14 a week for 100 weeks = 1400)"),
    ("2x/week", "a frequency (2 a week) with no duration: add 'for N weeks'"),
    ("twice weekly", "a frequency (2 a week) with no duration: add 'for N weeks'"),
    ("6 weeks", "a duration (6 weeks) with no frequency: add 'N times a week'"),
    ("x 8 weeks", "a duration (8 weeks) with no frequency: add 'N times a week'"),
    ("8", "a bare number (8) could be visits or weeks: write 'x 8' or '8 visits'"),
    ("8x", "not understood"),
    ("PT for the lumbar spine, 8", "not understood"),
    ("5 days", "a duration in days ('5 days'); only a duration in weeks is understood: "
               "write it in weeks or as a number of visits"),
    ("7.5 hours", "hours alone must be a whole number from 1 to 8000, got 7.5"),
    ("4-6 hours a day, 5x/week x 2 weeks", "a range of hours is not one quantity; write the hours of a session as one number"),
    ("10 sessions x 6 hours x 2 hours",
     "two numbers of hours; state the sessions once, with the hours of each (e.g. '10 sessions x 6 hours')"),
    ("10 x 6 hours", "with the hours of a session set aside, '10' is neither a number of sessions nor a weekly "
                     "frequency with a duration (e.g. '10 sessions x 6 hours', '5x/week for 2 weeks, 6 hours a day')"),
    ("10 sessions x 6 hours then 5 sessions", "the schedule changes part-way ('then'); a tapering schedule is more "
     "than one quantity: split it into separate items or state the total number of visits"),
]


@pytest.mark.parametrize(("text", "reason"), MALFORMED, ids=lambda v: repr(v))
def test_rejects(text, reason):
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    error = info.value
    assert error.text == text
    assert error.reason == reason
    assert str(error) == f"cannot read quantity {text!r}: {reason}; {UNDERSTOOD}"
    assert repr(text) in str(error)
    assert "understood:" in str(error)


def test_error_is_a_value_error_and_lists_the_forms():
    with pytest.raises(ValueError) as info:
        parse_quantity("2x/month for 3 months")
    message = str(info.value)
    assert message.startswith("cannot read quantity '2x/month for 3 months': a frequency per month")
    for form in ("'x 8'", "'8 visits'", "'2x/week for 6 weeks'", "'2x4'"):
        assert form in message


def test_not_text():
    with pytest.raises(QuantityError) as info:
        parse_quantity(8)  # type: ignore[arg-type]
    assert info.value.text == 8
    assert info.value.reason == "expected text, got int"


# parse_quantity_field: frequency, duration, quantity as separate RFA fields.

FIELDS_VALID = [
    (("2x/week", "6 weeks", None), Frequency(per_week=2, weeks=6)),
    (("2x/week", "6 weeks", "12"), Frequency(per_week=2, weeks=6)),  # agree
    (("twice a week", "six weeks", "12 visits"), Frequency(per_week=2, weeks=6)),
    (("3 times per week", "x 4 wks", "x 12"), Frequency(per_week=3, weeks=4)),
    (("2x/week for 6 weeks", None, None), Frequency(per_week=2, weeks=6)),  # whole quantity in one field
    (("2x/week for 6 weeks", "6 weeks", "12"), Frequency(per_week=2, weeks=6)),
    (("2x/week", "  ", "12"), Visits(visits=12)),  # no duration: the quantity is the count
    ((None, "6 weeks", "12"), Visits(visits=12)),
    ((None, None, "12"), Visits(visits=12)),
    (("", None, "twelve (12)"), Visits(visits=12)),
    ((None, None, "#8"), Visits(visits=8)),
    (("5 days/week", "4 weeks", None), Frequency(per_week=5, weeks=4)),
]


@pytest.mark.parametrize(("fields", "expected"), FIELDS_VALID, ids=lambda v: repr(v))
def test_fields_combine(fields, expected):
    result = parse_quantity_field(*fields)
    assert result == expected
    if isinstance(expected, Visits):
        assert isinstance(result, Visits) and result.visits == expected.visits
    else:
        assert isinstance(result, Frequency)
        assert (result.per_week, result.weeks) == (expected.per_week, expected.weeks)


def _fields_message(fields, reason):
    shown = ", ".join(f"{name}={value!r}" for name, value in zip(("frequency", "duration", "quantity"), fields))
    return f"cannot read quantity fields {shown}: {reason}; {UNDERSTOOD_FIELDS}"


FIELDS_INVALID = [
    (
        ("2x/week", "6 weeks", "10"),
        "frequency and duration give 2 a week for 6 weeks = 12 visits, but the quantity says 10 visits",
    ),
    (
        ("2x/week for 6 weeks", None, "10"),
        "frequency and duration give 2 a week for 6 weeks = 12 visits, but the quantity says 10 visits",
    ),
    (
        ("2x/week for 6 weeks", "4 weeks", None),
        "the frequency field says 6 weeks but the duration field says 4 weeks",
    ),
    (("2x/week", None, None), "a frequency (2 a week) with no duration or quantity"),
    ((None, "6 weeks", ""), "a duration (6 weeks) with no frequency or quantity"),
    ((None, None, None), "all three fields are empty"),
    (("", " ", "."), "all three fields are empty"),
    (("14x/week", "100 weeks", None), "more than 1000 visits (14 a week for 100 weeks = 1400)"),
]


@pytest.mark.parametrize(("fields", "reason"), FIELDS_INVALID, ids=lambda v: repr(v))
def test_fields_disagree_or_incomplete(fields, reason):
    with pytest.raises(QuantityError) as info:
        parse_quantity_field(*fields)
    assert info.value.reason == reason
    assert str(info.value) == _fields_message(fields, reason)


def test_fields_disagreement_names_both():
    with pytest.raises(QuantityError) as info:
        parse_quantity_field("2x/week", "6 weeks", "10")
    message = str(info.value)
    assert "frequency='2x/week'" in message and "duration='6 weeks'" in message and "quantity='10'" in message
    assert "= 12 visits" in message and "says 10 visits" in message


ONE_FIELD_INVALID = [
    (("2", "6 weeks", None), "frequency field", "2", "not a frequency per week (write '2x/week' or 'twice a week')"),
    (
        ("2x/month", "6 weeks", None), "frequency field", "2x/month",
        "a frequency per month ('2x/month'); only a frequency per week is understood: "
        "write times per week or a number of visits",
    ),
    (
        ("1-2x/week", "6 weeks", None), "frequency field", "1-2x/week",
        "a range (1-2) is not one quantity; write the single number requested "
        "(for 'up to 2', the upper bound: '2x/week')",
    ),
    (("2x/week", "6", None), "duration field", "6", "a duration with no unit (6): write '6 weeks'"),
    (
        ("2x/week", "3 months", None), "duration field", "3 months",
        "a duration in months ('3 months'); only a duration in weeks is understood: "
        "write it in weeks or as a number of visits",
    ),
    (("2x/week", "0 weeks", None), "duration field", "0 weeks", "zero or negative number (1 a week for 0 weeks)"),
    ((None, None, "lots"), "quantity field", "lots", "no number"),
    ((None, None, "0"), "quantity field", "0", "zero or negative number of visits (0)"),
    ((None, None, "1001"), "quantity field", "1001", "more than 1000 visits (1001)"),
    ((None, None, "2x6"), "quantity field", "2x6", "not a number of visits (write '12' or '12 visits')"),
    ((None, None, "80 hours"), "quantity field", "80 hours", HOURS_ALONE.format(h=80)),
    (("5x/week", "2 weeks", "60 hrs"), "quantity field", "60 hrs", HOURS_ALONE.format(h=60)),
    (("2x/week", "30 days", None), "duration field", "30 days",
     "a duration in days ('30 days'); only a duration in weeks is understood: "
     "write it in weeks or as a number of visits"),
]


@pytest.mark.parametrize(("fields", "label", "text", "reason"), ONE_FIELD_INVALID, ids=lambda v: repr(v))
def test_fields_bad_field(fields, label, text, reason):
    with pytest.raises(QuantityError) as info:
        parse_quantity_field(*fields)
    assert info.value.text == text
    assert info.value.reason == reason
    assert str(info.value) == f"cannot read {label} {text!r}: {reason}; {UNDERSTOOD_FIELDS}"


@pytest.mark.parametrize("text", ["80 hours", "x 80 hours", "80 hours of work hardening", "80 hrs"])
def test_hours_alone_are_a_program_quantity_in_hours(text):
    """Hours alone are read as hours, never turned into a guessed number of sessions:
    the case model makes them at least 10 sessions of up to 8 hours (sheet 10.4)."""
    quantity = parse_quantity(text)
    assert quantity == Hours(hours=80)
    assert quantity.total is None and quantity.at_least == 10
