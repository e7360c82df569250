"""Hostile mutations of cases, JSON Lines rows and case files, and the checks
every input must pass (issue 10): only documented errors, never a traceback
from the command line, never a lost row.

Shared by tests/test_fuzz_io.py (a few hundred examples, hypothesis drawing the
cases and the random source) and benchmarks/fuzz.py (the long run). Not a test
module itself.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from mtus_rules import CaseError, Decision, Engine, load_case
from mtus_rules import _commands
from mtus_rules.cli import main


def nested(depth: int, leaf: Any = None) -> Any:
    value = leaf if leaf is not None else []
    for _ in range(depth):
        value = [value]
    return value


def hostile_value(rng: random.Random) -> Any:
    """One value of a kind that has broken readers before."""
    kind = rng.randrange(22)
    if kind == 0:
        return 10 ** rng.choice([19, 20, 40, 41, 300, 4300, 4301, 6000])
    if kind == 1:
        return -(10 ** rng.randrange(1, 30))
    if kind == 2:
        return rng.choice([math.nan, math.inf, -math.inf, 1e308, -0.0, 0.5, 2**63, 2**64 + 6])
    if kind == 3:
        return rng.choice([True, False, None, 0, -1, 1001, ""])
    if kind == 4:
        return "x" * rng.choice([1000, 20_000, 20_001, 50_000])
    if kind == 5:
        return rng.choice(["\udfff", "a\ud800b", "\ud83d", "ok \udcff"])
    if kind == 6:
        return "".join(chr(rng.randrange(0, 32)) for _ in range(rng.randrange(1, 8)))
    if kind == 7:
        return nested(rng.choice([5, 31, 32, 33, 200, 994, 3000]))
    if kind == 8:
        return {str(i): i for i in range(rng.choice([1, 50, 5000]))}
    if kind == 9:
        return list(range(rng.choice([0, 10, 1000, 100_001])))
    if kind == 10:
        return rng.choice([b"bytes", bytearray(b"x"), {1, 2}, (1, 2), object(), 3 + 4j])
    if kind == 11:
        loop: dict[str, Any] = {"a": 1}
        loop["self"] = loop
        return loop
    if kind == 12:
        return rng.choice(["07/04/1952 Jane Doe", "2013-02-30", "2013-01-01T10:00:00", "20130101", "1e5", "²", "٣"])
    if kind == 13:
        return rng.choice(["not_documented", "not_specified", "yes", "no", "massage", "lumbar", "other"])
    if kind == 14:
        return {"visits": hostile_scalar(rng)}
    if kind == 15:
        return {"per_week": hostile_scalar(rng), "weeks": hostile_scalar(rng)}
    if kind == 16:
        return [hostile_scalar(rng) for _ in range(rng.randrange(1, 4))]
    if kind == 17:
        return {hostile_key(rng): hostile_scalar(rng)}
    if kind == 18:
        return "\x00\x7f\u2028\ufeff\U0010ffff"
    if kind == 19:
        return rng.choice(["!!python/object/apply:os.system [x]", "*a", "&a", "<<", "{", "]", "'", '"'])
    if kind == 20:
        return rng.randrange(-(2**70), 2**70)
    return rng.random() * 10.0 ** rng.randrange(-5, 308)


def hostile_scalar(rng: random.Random) -> Any:
    value = hostile_value(rng)
    return value if not isinstance(value, (dict, list)) or rng.random() < 0.3 else rng.randrange(-5, 2000)


def hostile_key(rng: random.Random) -> Any:
    return rng.choice(["", "\udfff", "k" * 30_000, "typo", "requested_items", 1, None, (1, 2), "a.b", "\x00"])


def _paths(data: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if len(path) > 6:  # inside a hostile value already (maybe deep, maybe a loop)
        return found
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, path + (index,))
    return found


def mutate_case(rng: random.Random, data: dict[str, Any], rounds: int | None = None) -> Any:
    """A valid case dict with one to three hostile changes: a value replaced,
    a key removed, an odd key added, or the whole case replaced."""
    data = copy.deepcopy(data)  # not a JSON round trip: rule files hold dates
    for _ in range(rounds or rng.randrange(1, 4)):
        paths = [p for p in _paths(data) if p]
        choice = rng.randrange(10)
        if choice == 0 or not paths:
            return hostile_value(rng) if rng.random() < 0.5 else data
        path = rng.choice(paths)
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        if choice == 1 and isinstance(parent, dict):
            del parent[path[-1]]
        elif choice == 2 and isinstance(parent, dict):
            parent[hostile_key(rng)] = hostile_value(rng)
        else:
            parent[path[-1]] = hostile_value(rng)
    return data


_INSERTS = [
    b"\x00", b"\xff", b"\xed\xa0\x80", b"\xc3", b"\x1b[0m", b"\r", b"\t", b"\\ud800", b"\\u0000", b"[" * 40, b"[" * 2000,
    b"9" * 4301, b"1" * 41, b"-", b"{", b"}", b",", b":", b'"', b"'", b"&a ", b"*a", b"!!python/object:os.system ",
    b"<<: *a\n", b"? ", b"%YAML 1.1\n", b"---\n", b"...\n", b"\n", b"  ", b"#", b"|\n", b">\n", b"~", b"null", b"\xef\xbb\xbf",
]


def mutate_bytes(rng: random.Random, raw: bytes, rounds: int | None = None) -> bytes:
    """Bytes with one to four hostile edits: a byte flipped, bytes inserted
    (control characters, invalid UTF-8, brackets, long digits, YAML syntax),
    a slice deleted or repeated, or the end cut off."""
    data = bytearray(raw)
    for _ in range(rounds or rng.randrange(1, 5)):
        at = rng.randrange(len(data) + 1)
        choice = rng.randrange(6)
        if choice == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif choice in (1, 2):
            data[at:at] = rng.choice(_INSERTS)
        elif choice == 3:
            del data[at : at + rng.randrange(1, 40)]
        elif choice == 4:
            data[at:at] = data[at : at + rng.randrange(1, 200)] * rng.randrange(2, 20)
        else:
            del data[at:]
    return bytes(data)


# -- the checks ----------------------------------------------------------------------


class Broken(AssertionError):
    """An input broke a promise of issue 10."""


def check_case(engine: Engine, data: Any) -> str:
    """Decide `data` through the API: a decision that serialises, or a CaseError.
    Returns 'decided' or 'case error'; raises Broken otherwise."""
    try:
        decision = engine.evaluate(data)
    except CaseError as exc:
        if not exc.problems or not all(p.message for p in exc.problems):
            raise Broken(f"a CaseError without problems: {exc!r}") from exc
        str(exc).encode("utf-8")  # the message itself can be printed
        return "case error"
    except Exception as exc:
        raise Broken(f"{type(exc).__name__} from Engine.evaluate") from exc
    if not isinstance(decision, Decision):
        raise Broken(f"evaluate returned {type(decision).__name__}")
    decision.model_dump_json().encode("utf-8")
    return "decided"


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
    except SystemExit as exc:  # argparse
        status = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:
        raise Broken(f"{type(exc).__name__} escaped from the command line: {argv}") from exc
    if status in (_commands.EXIT_INTERRUPTED, _commands.EXIT_TERMINATED):
        # `main` turned a Ctrl-C or SIGTERM meant for this harness into an exit status
        # (its handlers are installed while it runs): stop the run, as the signal asked,
        # rather than count the input as a failure and go on.
        raise SystemExit(status)
    if "Traceback" in err.getvalue():
        raise Broken(f"a traceback on standard error: {argv}")
    return status, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def cli_engine(engine: Engine) -> Iterator[None]:
    """Make the command line use `engine` instead of building one per call
    (building one takes most of a second; the reading and printing code under
    test is the same)."""
    original = _commands._engine
    _commands._engine = lambda args, packs=None, overrides=True: engine
    try:
        yield
    finally:
        _commands._engine = original


def check_file(path: Path, engine: Engine) -> str:
    """A case file: `load_case` gives a Case or a CaseError, and `mtus-rules
    evaluate` exits 0 or 2 without a traceback. Returns 'decided' or 'case error'."""
    try:
        case = load_case(path)
    except CaseError:
        outcome = "case error"
    except Exception as exc:
        raise Broken(f"{type(exc).__name__} from load_case") from exc
    else:
        outcome = check_case(engine, case)
    status, _, err = _run_cli(["evaluate", str(path), "--no-what-if"])
    if status != (0 if outcome == "decided" else 2):
        raise Broken(f"evaluate exited {status} for a file that is a {outcome}: {err[-300:]}")
    return outcome


def check_batch(source: Path, out: Path, workers: int = 1) -> tuple[int, int]:
    """`mtus-rules batch`: one result line per non-blank input line, in order,
    each a decision or problems; exit 0 or 2; no traceback. Returns (rows, bad)."""
    status, _, err = _run_cli(["batch", str(source), "-o", str(out), "--workers", str(workers)])
    if status not in (0, 2):
        raise Broken(f"batch exited {status}: {err[-300:]}")
    expected = [n for n, line in enumerate(source.read_bytes().split(b"\n"), 1) if line.strip()]
    got = [json.loads(line) for line in out.read_bytes().splitlines()]
    if [r["line"] for r in got] != expected or [r["row"] for r in got] != list(range(len(expected))):
        raise Broken(f"batch lost or reordered rows: {len(expected)} lines in, {len(got)} results out")
    bad = 0
    for record in got:
        if ("decision" in record) == ("problems" in record):
            raise Broken(f"row {record['row']} has neither or both of decision and problems")
        if "problems" in record:
            bad += 1
            if not record["problems"] or not all(p.get("message") for p in record["problems"]):
                raise Broken(f"row {record['row']} is flagged without a message")
    if (status == 2) != (bad > 0):
        raise Broken(f"batch exited {status} with {bad} bad rows")
    return len(got), bad


def case_file_bytes(rng: random.Random, data: dict[str, Any], suffix: str) -> bytes:
    """A case file (YAML or JSON) of `data` mutated as bytes, or (one time in
    three) of `data` with hostile values, written as they come."""
    if rng.randrange(3) == 0:
        hostile = mutate_case(rng, data)
        try:
            if suffix == ".json" or rng.random() < 0.5:
                text = json.dumps(hostile, default=repr, ensure_ascii=rng.random() < 0.5)
            else:
                text = yaml.safe_dump(hostile, sort_keys=False, allow_unicode=rng.random() < 0.5)
            return text.encode("utf-8", "surrogatepass")
        except (ValueError, TypeError, RecursionError, yaml.YAMLError):
            pass  # not writable as a file (a loop, an object): mutate the plain case instead
    text = json.dumps(data, indent=rng.choice([None, 1])) if suffix == ".json" else yaml.safe_dump(data, sort_keys=False)
    return mutate_bytes(rng, text.encode("utf-8"))


def jsonl_row(rng: random.Random, data: dict[str, Any]) -> bytes:
    """One JSON Lines row: a valid case, a case with hostile values, or mutated bytes."""
    choice = rng.randrange(3)
    if choice == 0:
        return json.dumps(data).encode()
    if choice == 1:
        mutated = mutate_case(rng, data)
        try:
            return json.dumps(mutated, ensure_ascii=rng.random() < 0.5, default=str, check_circular=True).encode(
                "utf-8", "surrogatepass"
            )
        except (ValueError, RecursionError, TypeError):
            return b'{"unserialisable": ' + b"[" * 50
    return mutate_bytes(rng, json.dumps(data).encode()).replace(b"\n", b" ")


# -- rule packs ----------------------------------------------------------------------

#: Rule files of the bundled pack that form a pack on their own with its pack.yaml
#: (the others override rules in other files). A one-file pack loads in tens of
#: milliseconds, the whole pack in most of a second: small packs make a long run possible.
STANDALONE_RULE_FILES = (
    "acupuncture.yaml", "aquatic_therapy.yaml", "electrotherapy.yaml", "manipulation.yaml", "massage.yaml",
    "postsurgical.yaml", "statute.yaml", "traction.yaml", "work_conditioning.yaml",
)


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def write_mutated_pack(rng: random.Random, source: Path, folder: Path) -> str:
    """Write into `folder` a pack of `source`'s pack.yaml and one standalone rule
    file, one of the two mutated, as data (hostile values, keys removed or added)
    or as bytes. Returns a short description of the mutation."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    name = rng.choice(STANDALONE_RULE_FILES)
    files = {"pack.yaml": (source / "pack.yaml").read_bytes(), name: (source / name).read_bytes()}
    target = name if rng.random() < 0.75 else "pack.yaml"
    how = "bytes"
    if rng.random() < 0.5:
        # libyaml where present: generating the input is not what is under test.
        hostile = mutate_case(rng, yaml.load(files[target], Loader=_FAST_LOADER))
        try:
            files[target] = yaml.dump(
                hostile, Dumper=_FAST_DUMPER, sort_keys=False, allow_unicode=rng.random() < 0.5
            ).encode("utf-8", "surrogatepass")
            how = "data"
        except (ValueError, TypeError, RecursionError, yaml.YAMLError):
            files[target] = mutate_bytes(rng, files[target])
    else:
        files[target] = mutate_bytes(rng, files[target])
    for file_name, raw in files.items():
        (folder / file_name).write_bytes(raw)
    return f"{target} ({how})"


def check_pack(folder: Path, case: Any) -> str:
    """A rule pack: `load_pack` gives a RulePack or a RulePackError whose every
    problem names its file; a pack that loads builds an Engine (or a
    RulePackError) that decides `case` (or raises CaseError); `mtus-rules lint`
    exits 0, 1 or 2 without a traceback. Returns 'loaded' or 'pack error'."""
    from mtus_rules import RulePackError
    from mtus_rules.packs.loading import load_pack

    try:
        load_pack(folder)
    except RulePackError as exc:
        if not exc.problems or not all(p.message and p.file for p in exc.problems):
            raise Broken(f"a RulePackError with a problem that names no file or says nothing: {exc!r}") from exc
        str(exc).encode("utf-8")
        outcome = "pack error"
    except Exception as exc:
        raise Broken(f"{type(exc).__name__} from load_pack") from exc
    else:
        outcome = "loaded"
        try:
            engine = Engine([folder])
        except RulePackError:
            outcome = "pack error at Engine()"
        except Exception as exc:
            raise Broken(f"{type(exc).__name__} from Engine() on a pack that loaded") from exc
        else:
            check_case(engine, case)
    status, _, err = _run_cli(["lint", str(folder)])
    # A pack that does not load is a lint error (status 1), like any other.
    if status not in (0, 1) or (outcome == "pack error" and status != 1):
        raise Broken(f"lint exited {status} for a pack that is a {outcome}: {err[-300:]}")
    return outcome
