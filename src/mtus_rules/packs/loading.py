"""Loading a rule pack folder: every problem in every file collected, with its
file and line, and a pack returned only when there is none (all or nothing).

A pack may be an overlay: its pack.yaml `extends` another pack (a bundled pack
by name and version, or a folder by path) and adds rules (its own rule files),
replaces base rules by id (`override`, each with a reason: by a rule of the same
id in its rule files, or by the base rule with `set` merged into it) and
switches base rules off (`disable`, each with a reason). It loads as its
effective pack, whose `layers` name every pack in it with its own hash; the
base's period is inherited unless the overlay narrows it.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .._resources import bundled_rules_dir
from ..errors import Problem, RulePackError, did_you_mean, dotted, problems_from_validation
from ..yamlio import Lines, ParseError, read_file
from .conditions import FACTS, unknown_fact
from .model import PACK_FILE, PackHeader, PackLayer, Period, Rule, RuleFile, RulePack


def _rule_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name != PACK_FILE)


def content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in [folder / PACK_FILE, *_rule_files(folder)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_pack(folder: str | Path) -> RulePack:
    """Load and validate the pack in `folder` (an overlay as its effective
    pack), or raise RulePackError listing every problem.

    Reading the YAML is most of the cost of building an Engine (pure-Python
    PyYAML, most of a second for the bundled pack), so a pack loaded before is
    given again when its files are byte for byte the same: the key is the folder
    as named, where it resolves to, and the content hash of its files. A pack is
    immutable, so sharing it is safe. Overlays are always read again, since they
    also depend on their base's files."""
    path = Path(folder)
    try:
        key = (str(path), str(path.resolve()), content_hash(path))
    except OSError:  # not a folder, no pack.yaml, unreadable: _load words it
        key = None
    if key is not None:
        with _LOADED_LOCK:
            pack = _LOADED.get(key)
            if pack is not None:
                _LOADED.move_to_end(key)
                return pack
    pack = _load(path, ())
    if key is not None and not pack.layers:
        with _LOADED_LOCK:
            _LOADED[key] = pack
            while len(_LOADED) > _LOADED_SIZE:
                _LOADED.popitem(last=False)
    return pack


_LOADED: OrderedDict[tuple[str, str, str], RulePack] = OrderedDict()
_LOADED_SIZE = 8
_LOADED_LOCK = threading.Lock()


def _load(folder: Path, chain: tuple[Path, ...]) -> RulePack:
    problems: list[Problem] = []
    header_file = folder / PACK_FILE
    if not folder.is_dir():
        raise RulePackError([Problem(file=str(folder), message="not a folder (a rule pack is a folder with pack.yaml)")])
    header: PackHeader | None = None
    header_lines: Lines = Lines()
    overlay = False  # the header says `extends`, even if it is not valid
    try:
        data, header_lines = read_file(header_file)
        overlay = isinstance(data, dict) and "extends" in data
        header = PackHeader.model_validate(data if data is not None else {})
    except ParseError as exc:
        problems.append(exc.problem)
    except ValidationError as exc:
        found = problems_from_validation(exc, file=str(header_file), lines=header_lines, columns=header_lines.columns, model=PackHeader)
        problems.extend(found)
        # The header's own check for a missing period runs only once its fields
        # are valid; say it now, with the rest.
        raw = data if data is not None else {}
        if isinstance(raw, dict) and "effective" not in raw and "extends" not in raw and not any(
            p.location == "effective" for p in found
        ):
            problems.append(Problem(file=str(header_file), line=1, location="effective", message="required field is missing"))

    base = None
    if header is not None and header.extends is not None:
        base = _base(folder, header, header_lines, (*chain, folder.resolve()), problems)
    effective = _effective(header, header_file, header_lines, base, problems)

    rules, origin = _read_rules(folder, effective, problems)
    if not overlay and not _rule_files(folder):
        # An overlay may only override or disable: its base has the rules.
        problems.append(Problem(file=str(folder), message="the pack has no rule files (*.yaml besides pack.yaml)"))

    files = {rule_id: file for rule_id, (file, _) in origin.items()}
    lines = {rule_id: line for rule_id, (_, line) in origin.items() if line is not None}
    if header is not None and base is not None:
        rules = _apply_overlay(base, header, header_file, header_lines, rules, files, lines, effective, problems)
    for rule in rules:
        for target in rule.overrides:
            if target not in files and not (base is not None and target in base.files):
                problems.append(Problem(
                    file=files[rule.id], line=lines.get(rule.id), location="overrides",
                    message=f"rule {rule.id} overrides unknown rule '{target}'",
                ))
    if problems or header is None or effective is None or (header.extends is not None and base is None):
        raise RulePackError(problems)
    own = content_hash(folder)
    layers: tuple[PackLayer, ...] = ()
    pack_hash = own
    known_gaps = tuple(header.known_gaps)
    lint_accept: dict[str, str] = {str(code): reason for code, reason in header.lint.accept.items()}
    if base is not None:
        layers = (
            *(base.layers or (PackLayer(name=base.name, version=base.version, content_hash=base.content_hash),)),
            PackLayer(name=header.name, version=header.version, content_hash=own),
        )
        pack_hash = hashlib.sha256("\n".join(f"{x.name} {x.version} {x.content_hash}" for x in layers).encode()).hexdigest()
        known_gaps = (*base.known_gaps, *known_gaps)
        lint_accept = {**base.lint_accept, **lint_accept}
    return RulePack(
        name=header.name,
        version=header.version,
        title=header.title,
        effective=effective,
        content_hash=pack_hash,
        rules=tuple(rules),
        files=files,
        lines=lines,
        folder=str(folder),
        known_gaps=known_gaps,
        lint_accept=lint_accept,
        layers=layers,
    )


def _read_rules(
    folder: Path, effective: Period | None, problems: list[Problem]
) -> tuple[list[Rule], dict[str, tuple[str, int | None]]]:
    """The rules of the folder's own rule files, and where each id is."""
    rules: list[Rule] = []
    origin: dict[str, tuple[str, int | None]] = {}
    for path in _rule_files(folder):
        try:
            data, lines = read_file(path)
        except ParseError as exc:
            problems.append(exc.problem)
            continue
        if not isinstance(data, dict) or "rules" not in data:
            problems.append(Problem(file=str(path), line=1, message="a rule file is a mapping with a `rules:` list"))
            continue
        try:
            parsed = RuleFile.model_validate(data)
        except ValidationError as exc:
            found = problems_from_validation(exc, file=str(path), lines=lines, columns=lines.columns, model=RuleFile)
            problems.extend(found)
            problems.extend(_unknown_facts(data, path, lines, {p.location for p in found}))
            continue
        for index, rule in enumerate(parsed.rules):
            line = lines.get(("rules", index, "id"))
            if rule.id in origin:
                first_file, first_line = origin[rule.id]
                problems.append(
                    Problem(
                        file=str(path),
                        line=line,
                        location=f"rules[{index}].id",
                        message=f"duplicate rule id '{rule.id}' (first defined at {first_file}:{first_line})",
                    )
                )
                continue
            origin[rule.id] = (str(path), line)
            if effective is not None and rule.effective is not None and not rule.effective.within(effective):
                problems.append(
                    Problem(
                        file=str(path),
                        line=lines.get(("rules", index, "effective"), line),
                        location=f"rules[{index}].effective",
                        message=f"rule period {rule.effective} lies outside the pack period {effective}",
                    )
                )
            rules.append(rule)
    return rules, origin


def _unknown_facts(data: dict, path: Path, lines: Lines, reported: set[str]) -> list[Problem]:
    """Every unknown fact of a rule file that did not validate. A rule's facts
    are checked after its fields, so a rule with a field error would hide a
    misspelt fact until the field was fixed: report both in one pass."""
    problems = []
    listed = data.get("rules")
    for index, rule in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(rule, dict):
            continue
        for block in ("when", "requires"):
            tests = rule.get(block)
            for fact in tests if isinstance(tests, dict) else {}:
                loc = ("rules", index, block, fact)
                if isinstance(fact, str) and fact not in FACTS and dotted(loc) not in reported:
                    problems.append(Problem(
                        file=str(path), line=lines.get(loc), column=lines.columns.get(loc), location=dotted(loc),
                        message=unknown_fact(fact),
                    ))
    return problems


# -- overlays ----------------------------------------------------------------------


def bundled_pack(name: str, version: str) -> Path | None:
    """The folder of the bundled pack with this name and version, or None."""
    for folder in bundled_pack_dirs():
        try:
            data, _ = read_file(folder / PACK_FILE)
        except ParseError:
            continue
        if isinstance(data, dict) and data.get("name") == name and str(data.get("version")) == version:
            return folder
    return None


def _bundled_names() -> str:
    names = []
    for folder in bundled_pack_dirs():
        try:
            data, _ = read_file(folder / PACK_FILE)
        except ParseError:
            continue
        if isinstance(data, dict):
            names.append(f"{data.get('name')} {data.get('version')}")
    return ", ".join(names) or "none"


def _base(folder: Path, header: PackHeader, lines: Lines, chain: tuple[Path, ...], problems: list[Problem]) -> RulePack | None:
    """The pack `header` extends, loaded; None (with the problem recorded) when
    it cannot be found, is part of a cycle or does not load."""
    assert header.extends is not None
    extends = header.extends
    where = {"file": str(folder / PACK_FILE), "line": lines.get(("extends",)), "location": "extends"}
    if extends.path is not None:
        base_folder = Path(os.path.normpath(folder / extends.path))
        if not (base_folder / PACK_FILE).is_file():
            problems.append(Problem(
                **where, message=f"the base pack {_printable(extends.path)} is not a pack folder "
                f"(no {PACK_FILE} in {_printable(base_folder)})",
            ))
            return None
    else:
        assert extends.pack is not None and extends.version is not None
        found = bundled_pack(extends.pack, extends.version)
        if found is None:
            problems.append(Problem(
                **where, message=f"no bundled pack {extends.pack} {extends.version} (the bundled packs: {_bundled_names()}); "
                "name a pack folder by `path` instead",
            ))
            return None
        base_folder = found
    if base_folder.resolve() in chain:
        names = " -> ".join(str(p) for p in (*chain, base_folder.resolve()))
        problems.append(Problem(**where, message=f"the packs extend each other in a cycle: {names}"))
        return None
    try:
        return _load(base_folder, chain)
    except RulePackError as exc:
        problems.append(Problem(**where, message=f"the base pack {extends} does not load (its problems follow)"))
        problems.extend(exc.problems)
        return None


def _printable(path: object) -> str:
    """A path as a message can show it: control characters escaped, never cut."""
    text = str(path)
    return text if text.isprintable() else ascii(text)[1:-1]


def _effective(
    header: PackHeader | None, header_file: Path, lines: Lines, base: RulePack | None, problems: list[Problem]
) -> Period | None:
    if header is None:
        return None
    if base is None or header.effective is None:
        return header.effective or (base.effective if base is not None else None)
    if not header.effective.within(base.effective):
        problems.append(Problem(
            file=str(header_file), line=lines.get(("effective",)), location="effective",
            message=f"the overlay's period {header.effective} lies outside its base's period {base.effective} "
            f"({base.name} {base.version}); an overlay may only narrow it",
        ))
    return header.effective


def _apply_overlay(
    base: RulePack,
    header: PackHeader,
    header_file: Path,
    lines: Lines,
    own: list[Rule],
    files: dict[str, str],
    rule_lines: dict[str, int],
    effective: Period | None,
    problems: list[Problem],
) -> list[Rule]:
    """The effective rules: the base's in their order with overrides put in
    place and disabled rules left out, then the overlay's added rules.
    `files` and `rule_lines` (the overlay's own rules on entry) are completed
    with where each effective rule is defined."""
    base_name = f"{base.name} {base.version}"
    by_id = {rule.id: rule for rule in base.rules}
    mine = {rule.id: rule for rule in own}
    replaced: dict[str, Rule] = {}
    taken: set[str] = set()
    own_files, own_lines = dict(files), dict(rule_lines)

    def unknown(key: str, index: int, rule_id: str) -> Problem:
        hint = did_you_mean(rule_id, by_id)
        return Problem(
            file=str(header_file), line=lines.get((key, index, "id")), location=f"{key}[{index}].id",
            message=f"{key} names rule '{rule_id}', which the base pack {base_name} does not have{hint}",
        )

    for index, entry in enumerate(header.override):
        id_line = lines.get(("override", index, "id"))
        where: dict[str, Any] = {"file": str(header_file), "line": id_line, "location": f"override[{index}].id"}
        if entry.id not in by_id:
            problems.append(unknown("override", index, entry.id))
        elif entry.id in taken:
            problems.append(Problem(**where, message=f"rule '{entry.id}' is overridden twice"))
        elif entry.set is not None:
            taken.add(entry.id)
            if "id" in entry.set:
                problems.append(Problem(
                    file=str(header_file), line=lines.get(("override", index, "set", "id")), location=f"override[{index}].set.id",
                    message="`set` cannot change a rule's id: add a rule with the new id instead (and disable this one)",
                ))
                continue
            if entry.id in mine:
                problems.append(Problem(
                    **where, message=f"rule '{entry.id}' is both changed here (`set`) and defined in "
                    f"{own_files[entry.id]}:{own_lines.get(entry.id)}; keep one",
                ))
                continue
            data = _merge_patch(base.rule(entry.id).model_dump(mode="json", exclude_none=True), entry.set)
            try:
                replaced[entry.id] = Rule.model_validate(data)
            except ValidationError as exc:
                problems.extend(problems_from_validation(
                    exc, file=str(header_file), lines=lines, prefix=("override", index, "set"), columns=lines.columns, model=Rule,
                ))
                continue
            files[entry.id], rule_lines[entry.id] = str(header_file), id_line or 1
        else:
            taken.add(entry.id)
            if entry.id not in mine:
                problems.append(Problem(
                    **where, message=f"override of '{entry.id}' has no `set`, and no rule file of the overlay defines "
                    "a rule with this id: give one of them",
                ))
                continue
            replaced[entry.id] = mine[entry.id]
    disabled: set[str] = set()
    for index, gone in enumerate(header.disable):
        if gone.id not in by_id:
            problems.append(unknown("disable", index, gone.id))
        elif gone.id in taken:
            problems.append(Problem(
                file=str(header_file), line=lines.get(("disable", index, "id")), location=f"disable[{index}].id",
                message=f"rule '{gone.id}' is both overridden and disabled",
            ))
        else:
            disabled.add(gone.id)
    added = []
    for rule in own:
        if rule.id in by_id and rule.id not in replaced and rule.id not in taken:
            problems.append(Problem(
                file=own_files[rule.id], line=own_lines.get(rule.id), location="id",
                message=f"rule '{rule.id}' is already in the base pack {base_name} ({base.files[rule.id]}:"
                f"{base.lines.get(rule.id)}); to replace it, list it under `override:` in {PACK_FILE} with a reason",
            ))
        elif rule.id not in by_id:
            added.append(rule)
    for rule_id in by_id:
        if rule_id not in replaced and rule_id not in disabled:
            files.setdefault(rule_id, base.files[rule_id])
            if rule_id in base.lines:
                rule_lines.setdefault(rule_id, base.lines[rule_id])
    for rule_id in disabled:
        files.pop(rule_id, None)
        rule_lines.pop(rule_id, None)
    if effective is not None:
        for rule_id, rule in replaced.items():
            if rule.effective is not None and not rule.effective.within(effective) and rule_id not in mine:
                problems.append(Problem(
                    file=files[rule_id], line=rule_lines.get(rule_id), location=f"override ({rule_id}).effective",
                    message=f"rule period {rule.effective} lies outside the pack period {effective}",
                ))
    return [replaced.get(rule.id, rule) for rule in base.rules if rule.id not in disabled] + added


def _merge_patch(target: Any, patch: Any) -> Any:
    """`patch` merged into `target` as a JSON merge patch (RFC 7396): mappings
    key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


def pack_folders(paths: Iterable[str | Path]) -> list[Path]:
    """Pack folders named directly, or found one level below a folder of packs."""
    found: list[Path] = []
    for path in map(Path, paths):
        if (path / PACK_FILE).is_file() or not path.is_dir():
            found.append(path)
        else:
            found.extend(sorted(p.parent for p in path.glob(f"*/{PACK_FILE}")))
    return found


def bundled_pack_dirs() -> list[Path]:
    return sorted(p.parent for p in bundled_rules_dir().glob(f"*/{PACK_FILE}"))
