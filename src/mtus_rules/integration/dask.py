"""Deciding cases past one machine, on Dask (the optional `dask` extra).

`decide_bag` decides a Dask bag of cases (mappings, or JSON text such as the
lines of `dask.bag.read_text`); `decide_frame` a Dask DataFrame of case rows.
Both decide partition by partition on the workers and give, row for row, what
`Engine.evaluate_many` (and `mtus-rules batch`) give for the same cases, in
the envelope `mtus-rules batch` writes: `{"row": n, "decision": {...}}`, or
`{"row": n, "problems": [...]}` for a bad row, worded as `batch` words it
(less its "line N: "). `row` is the case's position in the whole collection
(0-based); there is no `line`, since a collection has no file lines. A string
of whitespace only is skipped, as `batch` skips a blank line, so a bag read
from a JSON Lines file numbers its rows as `batch` does.

A bad row never fails its partition. But `dask.bag.read_text` decodes whole
blocks: give it `errors="surrogateescape"`, or one invalid byte fails the
partition before it reaches the engine (with it, that row alone is reported
as not UTF-8 text)::

    results = decide_bag(dask.bag.read_text("cases-*.jsonl", errors="surrogateescape"))
    results.map(json.dumps).to_textfiles("decided-*.jsonl")

The engine is never pickled: the tasks carry an `EngineSpec` (where each rule
pack is, its content hash, the what-if overrides, the backend), and each
worker process builds one engine from it the first time it needs one and keeps
it. A pack the worker finds with another content hash (other files, another
version of the library's bundled packs) is refused: the computation fails with
a `PackMismatchError` naming the worker, the folder and both hashes, rather
than deciding with rules the caller did not load. A bundled pack is looked up
in the worker's own installation, so workers need only the same release of
mtus-rules; a pack of your own must be at the same path on every worker.

On your own cluster, instead of a local one::

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")   # then decide_bag(...).compute() runs there

Workers need the same Python packages (`pip install 'mtus-rules[dask]'`) and,
for packs of your own, the pack folders. Any Dask scheduler works (threads,
processes, distributed); with `distributed`, one engine per worker process.

The decision log (`Engine(decision_log=...)`) is not supported here: the
decisions are made on the workers, so the call refuses such an engine rather
than leave the log with a gap. The core library never imports this module.
"""

from __future__ import annotations

import inspect
import json
import operator
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

try:
    import dask
    import dask.bag
except ModuleNotFoundError as exc:
    raise ModuleNotFoundError(
        f"mtus_rules.integration.dask needs dask ({exc.name} is not installed); "
        "install the dask extra: pip install 'mtus-rules[dask]'",
        name=exc.name,
    ) from None

from ..engine import Engine
from ..errors import MtusRulesError, Problem, RulePackError
from ..evaluation._backends import resolve as resolve_backend
from ..packs.loading import bundled_pack_dirs, content_hash, load_pack
from ..packs.model import RulePack
from ..packs.overrides import override_pack
from ..yamlio import DEFAULT_LIMITS, InputLimits
from .batch import BatchResult, decide_row
from .jsonl import UnreadableRow

if TYPE_CHECKING:
    import dask.dataframe
    import pandas

__all__ = ["EngineSpec", "PackMismatchError", "PackSource", "WorkerEngineError", "decide_bag", "decide_frame"]


class WorkerEngineError(MtusRulesError):
    """A process (a worker, or the caller) cannot build the engine the caller
    loaded: a pack folder missing there, a backend that does not run there."""

    kind = "engine for the workers"

    def __reduce__(self) -> tuple[Any, ...]:
        # The error travels back from the worker pickled; rebuilt from its
        # problems, not from its text (which the base class would take for them).
        return (type(self), (self.problems,))


class PackMismatchError(WorkerEngineError, RulePackError):
    """A worker (or the caller) found a rule pack other than the one the engine loaded."""

    kind = "rule pack"


#: Engine()'s memo size, for the engine the workers build when none is given.
_DEFAULT_CACHE_SIZE: int = inspect.signature(Engine).parameters["cache_size"].default


class PackSource(BaseModel):
    """Where a worker finds one rule pack, and what it must find there."""

    model_config = ConfigDict(frozen=True)

    folder: str
    bundled: str | None = None  # the folder's name among the worker's own bundled packs
    content_hash: str  # as the engine decides with it: what-if overrides included
    limits: tuple[tuple[str, int], ...] = ()
    disabled: tuple[str, ...] = ()


class EngineSpec(BaseModel):
    """What a worker needs to build the caller's engine: small, and pickled instead of it."""

    model_config = ConfigDict(frozen=True)

    packs: tuple[PackSource, ...]
    backend: str
    cache_size: int

    @classmethod
    def of(cls, engine: Engine) -> EngineSpec:
        if engine.decision_log is not None:
            raise ValueError(
                "an engine with a decision log cannot decide on Dask: the workers decide, and the log would have a gap"
            )
        bundled = {p.resolve(): p.name for p in bundled_pack_dirs()}
        return cls(packs=tuple(_source(pack, bundled) for pack in engine.packs), backend=engine.backend, cache_size=engine.cache_size)

    @classmethod
    def bundled(cls) -> EngineSpec:
        """The spec of `Engine()`, from the packs' files alone: only the workers load and compile them."""
        packs = tuple(
            PackSource(folder=str(folder), bundled=folder.name, content_hash=content_hash(folder))
            for folder in bundled_pack_dirs()
        )
        return cls(packs=packs, backend=resolve_backend(None), cache_size=_DEFAULT_CACHE_SIZE)

    def build(self) -> Engine:
        """The engine, from the pack folders here; PackMismatchError when one
        differs, WorkerEngineError when it cannot be built here."""
        packs = [pack_here(source) for source in self.packs]
        try:
            return Engine(packs, cache_size=self.cache_size, backend=self.backend)
        except MtusRulesError as exc:  # e.g. a backend this worker cannot run
            raise WorkerEngineError([_located(p) for p in exc.problems]) from None


def _source(pack: RulePack, bundled: Mapping[Path, str]) -> PackSource:
    if not pack.folder:
        raise ValueError(f"rule pack {pack.name} {pack.version} was not loaded from a folder; workers load packs from folders")
    overrides = pack.overrides or {}
    return PackSource(
        folder=pack.folder,
        bundled=bundled.get(Path(pack.folder).resolve()),
        content_hash=pack.content_hash,
        limits=tuple(sorted(overrides.get("limits", {}).items())),
        disabled=tuple(overrides.get("disabled", ())),
    )


def _here() -> str:
    try:
        from distributed import get_worker

        return f"worker {get_worker().address}"
    except (ImportError, ValueError):  # not on a distributed worker: the client, or a local scheduler
        return f"process {os.getpid()}"


def _located(problem: Problem) -> Problem:
    return problem.model_copy(update={"message": f"{_here()}: {problem.message}"})


def pack_here(source: PackSource) -> RulePack:
    """The pack `source` names, loaded in this process and checked against its hash."""
    folder = source.folder
    if source.bundled is not None:
        mine = [p for p in bundled_pack_dirs() if p.name == source.bundled]
        if not mine:
            raise PackMismatchError(
                [Problem(file=folder, message=f"{_here()} has no bundled rule pack '{source.bundled}' (another release of mtus-rules?)")]
            )
        folder = str(mine[0])
    try:
        pack = load_pack(folder)
    except RulePackError as exc:  # no such folder here, or a pack that does not load
        raise PackMismatchError([_located(p) for p in exc.problems]) from None
    if source.limits or source.disabled:
        pack = override_pack(pack, dict(source.limits), source.disabled)
    if pack.content_hash != source.content_hash:
        raise PackMismatchError(
            [
                Problem(
                    file=folder,
                    message=(
                        f"{_here()} found rule pack {pack.name} {pack.version} with content hash {pack.content_hash}, "
                        f"not {source.content_hash} as the engine loaded it: every worker must have the same pack files"
                    ),
                )
            ]
        )
    return pack


# -- on the workers ------------------------------------------------------------------

# One engine per spec per process, kept: compiling a pack costs far more than a partition's rows.
_engines: dict[EngineSpec, Engine] = {}
_building = threading.Lock()
#: How many engines this process has built, per spec (the tests check it is one).
_builds: dict[EngineSpec, int] = {}


def engine_for(spec: EngineSpec) -> Engine:
    engine = _engines.get(spec)
    if engine is None:
        with _building:  # a worker with several threads still builds it once
            engine = _engines.get(spec)
            if engine is None:
                _builds[spec] = _builds.get(spec, 0) + 1
                engine = _engines[spec] = spec.build()
    return engine


_BLANK = " \t\n\r\x0b\x0c"  # ASCII whitespace, as `batch` tells a blank line


class _Skip:
    """A string of whitespace only: no row, as a blank line in `batch`."""


def _from_text(text: str | bytes, limits: InputLimits) -> Any:
    """A case read from JSON text, or an UnreadableRow saying why it cannot be
    (as `batch` words it, less the "line N: " a collection cannot know)."""
    if isinstance(text, str) and not _is_unicode(text):
        # Read with errors="surrogateescape": the bytes as they were in the file,
        # so that a bad byte is reported as `batch` reports it.
        try:
            text = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            pass  # other lone surrogates: the case's checks name them
    if isinstance(text, bytes):
        if len(text) > limits.max_bytes:
            return UnreadableRow(f"longer than {limits.max_bytes:,} bytes; not read (input limit max_bytes)")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return UnreadableRow(f"not UTF-8 text ({exc.reason} at byte {exc.start + 1})")
    elif len(text) > limits.max_bytes:  # characters, at least as many bytes: refused before it is parsed
        return UnreadableRow(f"longer than {limits.max_bytes:,} bytes; not read (input limit max_bytes)")
    if not text.strip(_BLANK):
        return _Skip
    try:
        return json.loads(text, parse_int=_checked_int(limits.max_int_digits))
    except json.JSONDecodeError as exc:
        where = f"column {exc.colno}" if exc.lineno == 1 else f"line {exc.lineno} of the text, column {exc.colno}"
        return UnreadableRow(f"invalid JSON: {exc.msg} ({where})")
    except RecursionError:
        return UnreadableRow(f"nested more than {limits.max_depth} levels deep (input limit max_depth)")
    except ValueError as exc:
        return UnreadableRow(str(exc))


def _is_text(data: Any) -> bool:
    # An UnreadableRow is text too, but it already says why there is no case.
    return isinstance(data, (str, bytes)) and not isinstance(data, UnreadableRow)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _checked_int(digits: int) -> Any:
    def parse_int(text: str) -> int:
        if len(text.lstrip("-")) > digits:
            raise ValueError(f"an integer longer than {digits} digits (input limit max_int_digits)")
        return int(text)

    return parse_int


def _decided(engine: Engine, row: int, data: Any, what_if: bool) -> BatchResult:
    try:
        return decide_row(engine, row, data, what_if)
    except BaseException as exc:  # noqa: BLE001 - decide_row lets only non-Exceptions through; still this row's alone
        message = f"internal error ({type(exc).__name__}) while deciding this row; the other rows are not affected"
        return BatchResult(row=row, problems=[Problem(message=message)])


def _record(result: BatchResult) -> dict[str, Any]:
    """The result as `mtus-rules batch` writes it, less the file line."""
    if result.decision is not None:
        return {"row": result.row, "decision": result.decision.model_dump(mode="json")}
    return {"row": result.row, "problems": [p.model_dump(mode="json", exclude_none=True) for p in result.problems or []]}


def _decide_rows(spec: EngineSpec, rows: Iterable[Any], what_if: bool, limits: InputLimits) -> list[dict[str, Any]]:
    """One partition: its results numbered from 0 (`_renumbered` shifts them)."""
    engine = engine_for(spec)
    out: list[dict[str, Any]] = []
    for data in rows:
        if _is_text(data):
            data = _from_text(data, limits)
            if data is _Skip:
                continue
        out.append(_record(_decided(engine, len(out), data, what_if)))
    return out


def _renumbered(records: list[dict[str, Any]], offset: int) -> list[dict[str, Any]]:
    return [{**record, "row": record["row"] + offset} for record in records] if offset else records


def _numbered(parts: list[Any]) -> list[Any]:
    """Each partition's results shifted by the rows of the partitions before it.

    The offsets are a chain of small sums over the partitions' lengths, so a
    partition waits only for the lengths before it, and nothing is decided or
    read twice."""
    out, offset = [], 0
    for part in parts:
        out.append(dask.delayed(_shift)(part, offset))
        offset = dask.delayed(operator.add)(offset, dask.delayed(len)(part))
    return out


def _shift(part: Any, offset: int) -> Any:
    if isinstance(part, list):
        return _renumbered(part, offset)
    return part.assign(row=part["row"] + offset) if offset else part


def decide_bag(
    cases: dask.bag.Bag,
    engine: Engine | None = None,
    *,
    what_if: bool = False,
    limits: InputLimits = DEFAULT_LIMITS,
) -> dask.bag.Bag:
    """A bag of results, one per case of `cases` in order (see the module docstring).

    `cases` holds mappings (or `Case`s) or JSON text (str or bytes); `engine`
    defaults to the bundled packs. Nothing is decided until the bag is computed
    (`.compute()`, `.map(json.dumps).to_textfiles(...)`). Raises ValueError for
    an engine with a decision log or a pack not loaded from a folder, and
    PackMismatchError (here, or from the workers) for a pack whose files differ
    from the ones the engine loaded."""
    spec = _checked_spec(engine)
    parts = [
        dask.delayed(_decide_rows)(spec, part, what_if, limits) for part in cases.to_delayed(optimize_graph=True)
    ]
    return dask.bag.from_delayed(_numbered(parts))


def _unchanged(source: PackSource) -> bool:
    """The pack's files are the ones the engine loaded: hashing them is enough here
    (loading them is the workers' job). Overrides need the pack loaded to check."""
    if source.limits or source.disabled:
        return False
    try:
        return content_hash(Path(source.folder)) == source.content_hash
    except OSError:
        return False  # pack_here says what is missing


def _checked_spec(engine: Engine | None) -> EngineSpec:
    if engine is None:  # the bundled packs, loaded but not compiled: only the workers decide
        return EngineSpec.bundled()
    spec = EngineSpec.of(engine)
    # Here too, so that a pack whose files changed since the engine loaded them
    # (or an engine overridden twice, which no folder rebuilds) is refused
    # before any work is sent.
    for source in spec.packs:
        if _unchanged(source):
            continue
        try:
            pack_here(source)
        except PackMismatchError as exc:
            hint = Problem(
                message="the pack's files changed since the engine loaded them, or its what-if overrides were made "
                "on top of other overrides (the workers rebuild one with_overrides call from the folder)"
            )
            raise PackMismatchError([*exc.problems, hint]) from None
    return spec


# -- DataFrames ---------------------------------------------------------------------

def _frame(records: list[dict[str, Any]], index: pandas.Index) -> pandas.DataFrame:
    import pandas as pd

    def text(key: str) -> pandas.Series:
        values = [json.dumps(r[key]) if key in r else None for r in records]
        return pd.Series(values, index=index, dtype="string")

    rows = pd.Series([r["row"] for r in records], index=index, dtype="int64")
    return pd.DataFrame({"row": rows, "decision": text("decision"), "problems": text("problems")}, index=index)


def _missing(value: Any) -> bool:
    # A column a row has no value in is a field the case leaves out (NaN, None, NA).
    import pandas as pd

    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _case_rows(part: pandas.DataFrame, column: str | None) -> list[Any]:
    if column is not None:
        empty = UnreadableRow(f"no case: the column '{column}' is empty on this row")
        return [empty if _missing(v) else v for v in part[column].tolist()]
    return [{k: v for k, v in row.items() if not _missing(v)} for row in part.to_dict("records")]


def _decide_part(
    spec: EngineSpec, part: pandas.DataFrame, column: str | None, what_if: bool, limits: InputLimits
) -> pandas.DataFrame:
    engine = engine_for(spec)
    records = []
    for row, data in enumerate(_case_rows(part, column)):
        if _is_text(data):
            data = _from_text(data, limits)
            if data is _Skip:  # a row of the frame has a result, always: its index is kept
                data = UnreadableRow("blank: no case")
        records.append(_record(_decided(engine, row, data, what_if)))
    return _frame(records, part.index)


def decide_frame(
    cases: dask.dataframe.DataFrame,
    engine: Engine | None = None,
    *,
    column: str | None = None,
    what_if: bool = False,
    limits: InputLimits = DEFAULT_LIMITS,
) -> dask.dataframe.DataFrame:
    """A DataFrame with the index of `cases` and the columns `row`, `decision`
    and `problems` (JSON text; one of the two is missing), one row per row.

    With `column`, each value of that column is a case (JSON text or a
    mapping); without it, a row's columns are the case's fields and a missing
    value leaves its field out. Note that Dask turns object columns into text
    (`dataframe.convert-string`): nested fields (`diagnoses`,
    `requested_items`, ...) survive only in a JSON text column, or with that
    setting off. Otherwise as `decide_bag`."""
    import dask.dataframe as dd

    spec = _checked_spec(engine)
    if column is not None and column not in cases.columns:
        raise ValueError(f"no column '{column}' in the DataFrame (it has {', '.join(map(str, cases.columns))})")
    meta = _frame([], cases._meta.index)
    parts = [
        dask.delayed(_decide_part)(spec, part, column, what_if, limits)
        for part in cases.to_delayed(optimize_graph=True)
    ]
    divisions = cases.divisions if cases.known_divisions else None
    return dd.from_delayed(_numbered(parts), meta=meta, divisions=divisions, verify_meta=False)
