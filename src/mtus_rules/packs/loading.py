"""Loading a rule pack folder: every problem in every file collected, with its
file and line, and a pack returned only when there is none (all or nothing)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from .._resources import bundled_rules_dir
from ..errors import Problem, RulePackError, problems_from_validation
from ..yamlio import ParseError, read_file
from .model import PACK_FILE, PackHeader, Rule, RuleFile, RulePack


def _rule_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name != PACK_FILE)


def content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in [folder / PACK_FILE, *_rule_files(folder)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_pack(folder: str | Path) -> RulePack:
    """Load and validate the pack in `folder`, or raise RulePackError listing every problem."""
    folder = Path(folder)
    problems: list[Problem] = []
    header_file = folder / PACK_FILE
    if not folder.is_dir():
        raise RulePackError([Problem(file=str(folder), message="not a folder (a rule pack is a folder with pack.yaml)")])
    header = None
    try:
        data, lines = read_file(header_file)
        header = PackHeader.model_validate(data if data is not None else {})
    except ParseError as exc:
        problems.append(exc.problem)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, file=str(header_file), lines=lines))

    rules: list[Rule] = []
    origin: dict[str, tuple[str, int | None]] = {}
    files = _rule_files(folder)
    if not files:
        problems.append(Problem(file=str(folder), message="the pack has no rule files (*.yaml besides pack.yaml)"))
    for path in files:
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
            problems.extend(problems_from_validation(exc, file=str(path), lines=lines))
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
            if header is not None and rule.effective is not None and not rule.effective.within(header.effective):
                problems.append(
                    Problem(
                        file=str(path),
                        line=lines.get(("rules", index, "effective"), line),
                        location=f"rules[{index}].effective",
                        message=f"rule period {rule.effective} lies outside the pack period {header.effective}",
                    )
                )
            rules.append(rule)
    for rule in rules:
        for target in rule.overrides:
            if target not in origin:
                file, line = origin[rule.id]
                problems.append(
                    Problem(file=file, line=line, location="overrides", message=f"rule {rule.id} overrides unknown rule '{target}'")
                )
    if problems or header is None:
        raise RulePackError(problems)
    return RulePack(
        name=header.name,
        version=header.version,
        title=header.title,
        effective=header.effective,
        content_hash=content_hash(folder),
        rules=tuple(rules),
        files={rule_id: file for rule_id, (file, _) in origin.items()},
        lines={rule_id: line for rule_id, (_, line) in origin.items() if line is not None},
        folder=str(folder),
        known_gaps=tuple(header.known_gaps),
        lint_accept=dict(header.lint.accept),
    )


def bundled_pack_dirs() -> list[Path]:
    return sorted(p.parent for p in bundled_rules_dir().glob(f"*/{PACK_FILE}"))

