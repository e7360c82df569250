"""Deterministic generator of valid review cases for the benchmarks.

Standalone helper for benchmarks/bench.py and benchmarks/soak.py (not a test;
pytest only collects tests/). Cases cover the treatments of the bundled seed
rules (rules/mtus-2009):

- manipulation, with regions the rules treat differently (lumbar, cervical,
  thoracic, ankle, wrist, ...) or no region, plus maintenance purpose and the
  occasional carpal tunnel diagnosis;
- massage and myofascial_release (counted together), with care_stage
  first_evaluation / ongoing_care / not_documented;
- physical_therapy with disc_disorder / sprain_strain diagnoses;
- mechanical_traction (lumbar, thoracic, cervical, or not specified);
- nmes.

Prior visits are numbers or "not_documented"; functional improvement is
yes / no / not_documented; quantities are {visits: n}, {per_week, weeks} or
"not_specified". Request dates lie inside 2009-07-18..2017-11-30 (the mtus-2009
pack period). Most cases have one item, some have two to four.

    from generate import generate_dicts, generate_cases
    cases = generate_cases(20_000)            # list[Case] with >= 20,000 items in total

With `extended=True` (`--extended`) each case is then varied further with the
facts the 0.2.0 rules read that the plain cases never state: a listed surgery
(or `other`) dated inside, at the edge of or past its postsurgical period, or
undated, sometimes with the period stated, and start dates on prior courses;
the Labor Code 4604.5 written authorization; a reason why a home program cannot
carry on; more than 3 visits a week and more than 8 (up to 20) weeks; quantities
in hours; flare-up requests of 1-2 visits; radiculopathy, neuritis, CRPS,
myalgia and rotator cuff diagnoses; larger prior counts. The same treatments
are requested. The plain output (extended=False, the default) is unchanged.

Run directly to print a few generated cases as JSON, or as JSON Lines (one
case a line, as the batch and compare commands read them):

    PYTHONPATH=src python benchmarks/generate.py --items 5
    PYTHONPATH=src python benchmarks/generate.py --items 5 --extended
    python benchmarks/generate.py --items 1000 --jsonl > examples/history/generated-cases.jsonl
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import random
from typing import Any

DEFAULT_SEED = 20091718

PACK_START = _dt.date(2009, 7, 18)
PACK_END = _dt.date(2017, 11, 30)

TREATMENTS = (
    # (treatment, weight)
    ("manipulation", 30),
    ("massage", 15),
    ("myofascial_release", 10),
    ("physical_therapy", 25),
    ("mechanical_traction", 10),
    ("nmes", 10),
)

MANIPULATION_REGIONS = (
    ["lumbar"],
    ["lumbar"],
    ["cervical"],
    ["thoracic"],
    ["ankle"],
    ["wrist"],
    ["knee"],
    ["shoulder"],
    ["cervical", "lumbar"],
    ["lumbar", "ankle"],
    "not_specified",
    "not_specified",
)
PT_REGIONS = (["lumbar"], ["cervical"], ["thoracic"], ["lumbar", "cervical"], ["shoulder"], "not_specified")
MASSAGE_REGIONS = (["lumbar"], ["cervical"], ["shoulder"], "not_specified", "not_specified")
TRACTION_REGIONS = (["lumbar"], ["lumbar"], ["thoracic"], ["cervical"], "not_specified")
NMES_REGIONS = (["lumbar"], ["cervical"], ["knee"], "not_specified")

REGIONS_FOR = {
    "manipulation": MANIPULATION_REGIONS,
    "massage": MASSAGE_REGIONS,
    "myofascial_release": MASSAGE_REGIONS,
    "physical_therapy": PT_REGIONS,
    "mechanical_traction": TRACTION_REGIONS,
    "nmes": NMES_REGIONS,
}

DIAGNOSES = (
    # (description, body_regions, group)
    ("Lumbar disc herniation", ["lumbar"], "disc_disorder"),
    ("Thoracic and lumbar intervertebral disc syndrome", ["thoracic", "lumbar"], "disc_disorder"),
    ("Cervical disc displacement", ["cervical"], "disc_disorder"),
    ("Lumbar sprain/strain", ["lumbar"], "sprain_strain"),
    ("Cervical sprain/strain", ["cervical"], "sprain_strain"),
    ("Ankle sprain", ["ankle"], "sprain_strain"),
    ("Shoulder strain", ["shoulder"], "sprain_strain"),
    ("Disc disorder, region not stated", [], "disc_disorder"),
    ("Myalgia", [], "myalgia_myositis"),
    ("Lumbar neuritis", ["lumbar"], "neuralgia_neuritis"),
    ("Carpal tunnel syndrome", ["wrist"], "carpal_tunnel"),
    ("Chronic pain", [], None),
)
# Weights: mostly disc_disorder / sprain_strain, a little of the rest.
DIAGNOSIS_WEIGHTS = (14, 8, 6, 14, 8, 4, 4, 4, 3, 3, 2, 3)

HISTORY_TREATMENTS = ("manipulation", "massage", "myofascial_release", "physical_therapy", "acupuncture", "tens")

CARE_STAGES = ("first_evaluation", "ongoing_care", "not_documented")
DOCUMENTED = ("yes", "no", "not_documented")
PURPOSES = ("course_of_treatment",) * 8 + ("maintenance", "flare_up")
WORK_STATUS = ("full_duty", "modified_duty", "temporarily_totally_disabled", "not_working", "not_documented")

LABEL = {
    "manipulation": "Chiropractic manipulation",
    "massage": "Massage therapy",
    "myofascial_release": "Myofascial release",
    "physical_therapy": "Physical therapy",
    "mechanical_traction": "Mechanical traction",
    "nmes": "Electro-muscle stimulation",
}


def _date_between(rng: random.Random, start: _dt.date, end: _dt.date) -> _dt.date:
    return start + _dt.timedelta(days=rng.randint(0, (end - start).days))


def _quantity(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.45:
        return {"visits": rng.choice((1, 2, 4, 6, 8, 10, 12, 18))}
    if roll < 0.85:
        return {"per_week": rng.choice((1, 2, 3)), "weeks": rng.choice((2, 3, 4, 6, 8))}
    return "not_specified"


def _prior_visits(rng: random.Random) -> Any:
    if rng.random() < 0.2:
        return "not_documented"
    return rng.choice((0, 1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24))


def _describe(treatment: str, quantity: Any, regions: Any) -> str:
    description = LABEL[treatment]
    if isinstance(quantity, dict):
        if "visits" in quantity:
            description += f" x {quantity['visits']}"
        elif "per_week" in quantity:
            description += f" {quantity['per_week']}x/week for {quantity['weeks']} weeks"
        elif "sessions" in quantity:
            hours = quantity["hours_per_session"]
            description += f" {quantity['sessions']} sessions of {hours} hour{'s' if hours != 1 else ''}"
        else:
            description += f" {quantity['hours']} hours"
    if regions != "not_specified":
        description += " for the " + " and ".join(regions)
    return description


def _item(rng: random.Random) -> dict[str, Any]:
    names = [t for t, _ in TREATMENTS]
    weights = [w for _, w in TREATMENTS]
    treatment = rng.choices(names, weights)[0]
    regions = rng.choice(REGIONS_FOR[treatment])
    quantity = _quantity(rng)
    item: dict[str, Any] = {"description": _describe(treatment, quantity, regions), "treatment": treatment}
    if regions != "not_specified" or rng.random() < 0.5:  # sometimes written out, sometimes left out
        item["body_regions"] = regions
    if quantity != "not_specified" or rng.random() < 0.5:
        item["quantity"] = quantity
    if treatment == "manipulation":
        item["purpose"] = rng.choice(PURPOSES)
    return item


def generate_case_dict(rng: random.Random, index: int, n_items: int | None = None) -> dict[str, Any]:
    """One case as plain data (what a claims system would send)."""
    request_date = _date_between(rng, PACK_START, PACK_END)
    injury_earliest = request_date - _dt.timedelta(days=365 * 8)
    date_of_injury = _date_between(rng, injury_earliest, request_date)

    n_dx = rng.choice((0, 1, 1, 1, 2, 2, 3))
    diagnoses = []
    for description, regions, group in rng.choices(DIAGNOSES, DIAGNOSIS_WEIGHTS, k=n_dx):
        dx: dict[str, Any] = {"description": description}
        if regions:
            dx["body_regions"] = list(regions)
        if group:
            dx["group"] = group
        diagnoses.append(dx)

    history = []
    for treatment in rng.sample(HISTORY_TREATMENTS, rng.choice((0, 0, 1, 1, 2, 3))):
        course: dict[str, Any] = {"treatment": treatment, "visits": _prior_visits(rng)}
        fi = rng.choice(DOCUMENTED)
        if fi != "not_documented" or rng.random() < 0.5:
            course["functional_improvement"] = fi
        history.append(course)
    # Now and then two courses of the same family (massage + myofascial release
    # are counted together; two PT courses add up).
    if history and rng.random() < 0.1:
        history.append({"treatment": history[0]["treatment"], "visits": _prior_visits(rng), "functional_improvement": rng.choice(DOCUMENTED)})

    if n_items is None:
        n_items = 1 if rng.random() < 0.8 else rng.choice((2, 2, 3, 4))
    case: dict[str, Any] = {
        "case_id": f"gen-{index:07d}",
        "date_of_injury": date_of_injury.isoformat(),
        "request_date": request_date.isoformat(),
        "diagnoses": diagnoses,
        "treatment_history": history,
        "care_stage": rng.choice(CARE_STAGES),
        "requested_items": [_item(rng) for _ in range(n_items)],
    }
    if rng.random() < 0.5:
        case["work_status"] = rng.choice(WORK_STATUS)
    if rng.random() < 0.5:
        case["home_exercise"] = rng.choice(DOCUMENTED)
    if rng.random() < 0.3:
        case["claimant"] = {"age": rng.randint(18, 70), "sex": rng.choice(("female", "male"))}
    return case


# -- extended variety (extended=True): the facts the 0.2.0 rules read -------------

SURGERIES = (
    # (procedure, postsurgical period in months; vocabulary.POSTSURGICAL_PERIOD_MONTHS)
    ("lumbar_discectomy_laminectomy", 6),
    ("lumbar_fusion", 6),
    ("rotator_cuff_repair_arthroscopic", 6),
    ("rotator_cuff_repair_open", 6),
    ("carpal_tunnel_release", 3),
    ("meniscectomy", 6),
    ("acl_repair", 6),
    ("total_knee_arthroplasty", 4),
    ("other", 6),
)
EXTRA_DIAGNOSES = (
    ("Lumbar radiculopathy", ["lumbar"], "radiculopathy"),
    ("Cervical radiculitis", ["cervical"], "radiculopathy"),
    ("Cervical neuritis", ["cervical"], "neuralgia_neuritis"),
    ("Complex regional pain syndrome", [], "crps"),
    ("Complex regional pain syndrome of the knee", ["knee"], "crps"),
    ("Lumbar myalgia", ["lumbar"], "myalgia_myositis"),
    ("Rotator cuff tear", ["shoulder"], "rotator_cuff"),
    ("Shoulder sprain", ["shoulder"], "sprain_strain"),
)


def _extended_quantity(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.35:
        return {"per_week": rng.choice((2, 3, 4, 5)), "weeks": rng.choice((4, 6, 8, 10, 12, 14, 16, 20))}
    if roll < 0.55:
        return {"visits": rng.choice((1, 2, 3, 8, 12, 16, 20, 24, 30))}
    if roll < 0.65:
        return rng.choice(({"hours": 20}, {"hours": 12, "hours_per_session": 2}, {"sessions": 6, "hours_per_session": 1}))
    return None  # keep the plain quantity


def _extend(rng: random.Random, case: dict[str, Any]) -> None:
    """Vary a plain case with the facts the newer rules read (in place)."""
    request = _dt.date.fromisoformat(case["request_date"])
    injury = _dt.date.fromisoformat(case["date_of_injury"])
    for name in ("cap_authorization", "home_program_insufficient"):
        if rng.random() < 0.5:
            case[name] = rng.choice(DOCUMENTED)
    if rng.random() < 0.3:
        case.pop("care_stage")  # derived from the history and home exercise
    if rng.random() < 0.4:
        for description, regions, group in rng.sample(EXTRA_DIAGNOSES, rng.choice((1, 1, 2))):
            dx: dict[str, Any] = {"description": description, "group": group}
            if regions:
                dx["body_regions"] = list(regions)
            case["diagnoses"].append(dx)
    surgery_date = None
    if rng.random() < 0.35:
        procedure, months = rng.choice(SURGERIES)
        surgery: dict[str, Any] = {"procedure": procedure}
        roll = rng.random()
        if roll < 0.8:
            # Mostly inside the period; now and then right at its edge or past it.
            days = rng.choice((0, 10, 30, 60, 90, 120, months * 30 - 5, months * 31, months * 30 + 40, 400))
            surgery_date = max(injury, request - _dt.timedelta(days=days))
            surgery["date"] = surgery_date.isoformat()
        elif roll < 0.85:
            surgery_date = min(request + _dt.timedelta(days=30), _dt.date(2017, 11, 30))
            surgery["date"] = surgery_date.isoformat()  # after the request (or on its day)
        if rng.random() < 0.2:
            surgery["postsurgical_period"] = rng.choice(("within", "not_within"))
        case["surgery"] = surgery
    for course in case["treatment_history"]:
        if isinstance(course["visits"], int) and rng.random() < 0.3:
            course["visits"] = rng.choice((14, 20, 26, 30))
        if rng.random() < 0.6:
            anchor = surgery_date or request
            start = anchor + _dt.timedelta(days=rng.choice((-200, -30, 0, 1, 20, 60, 150)))
            start = max(injury, min(start, request))
            course["start_date"] = start.isoformat()
    if rng.random() < 0.2:
        case["treatment_history"].append(
            {"treatment": rng.choice(("aquatic_therapy", "occupational_therapy", "physical_therapy")),
             "visits": _prior_visits(rng), "functional_improvement": rng.choice(DOCUMENTED)}
        )
    if rng.random() < 0.3:
        case["work_status"] = rng.choice(WORK_STATUS)
    for item in case["requested_items"]:
        quantity = _extended_quantity(rng)
        if quantity is not None:
            item["quantity"] = quantity
        if item["treatment"] == "manipulation" and rng.random() < 0.15:
            item["purpose"] = "flare_up"
            # The flare-up interval reads the end date of the last prior course.
            for course in case["treatment_history"]:
                if course["treatment"] == "manipulation" and rng.random() < 0.7:
                    request = _dt.date.fromisoformat(case["request_date"])
                    end = request - _dt.timedelta(days=rng.choice((30, 119, 121, 125, 200)))
                    if end.isoformat() >= course.get("start_date", ""):
                        course["end_date"] = end.isoformat()
            item["quantity"] = rng.choice(({"visits": 1}, {"visits": 2}, {"visits": 4}, "not_specified"))
            if rng.random() < 0.5:
                item["body_regions"] = rng.choice((["lumbar"], "not_specified", ["lumbar", "cervical"]))
        item["description"] = _describe(
            item["treatment"], item.get("quantity", "not_specified"), item.get("body_regions", "not_specified")
        )


def generate_dicts(items: int, seed: int = DEFAULT_SEED, extended: bool = False) -> list[dict[str, Any]]:
    """Case dicts until at least `items` requested items in total (the last case may be trimmed).
    With `extended`, each case is varied further (see the module docstring)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    total = 0
    while total < items:
        case = generate_case_dict(rng, len(out))
        if extended:
            _extend(rng, case)
        room = items - total
        if len(case["requested_items"]) > room:
            case["requested_items"] = case["requested_items"][:room]
        total += len(case["requested_items"])
        out.append(case)
    return out


def generate_cases(items: int, seed: int = DEFAULT_SEED, extended: bool = False) -> list:
    """Validated `Case` objects with exactly `items` requested items in total."""
    from mtus_rules import Case

    return [Case.model_validate(d) for d in generate_dicts(items, seed, extended)]


def count_items(cases: list) -> int:
    return sum(len(c.requested_items) for c in cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jsonl", action="store_true", help="one compact case a line, as generated (not validated)")
    parser.add_argument(
        "--extended", action="store_true",
        help="vary the cases further with the facts the newer rules read (surgery, cap authorization, ...)",
    )
    args = parser.parse_args()
    if args.jsonl:
        for data in generate_dicts(args.items, args.seed, args.extended):
            print(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        return
    cases = generate_cases(args.items, args.seed, args.extended)
    for case in cases:
        print(json.dumps(case.model_dump(mode="json", exclude_defaults=True), indent=1))


if __name__ == "__main__":
    main()
