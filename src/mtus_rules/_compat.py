"""The import paths of the flat layout (before 0.2), kept for one release.

`import mtus_rules.batch`, `from mtus_rules.decision import Outcome` and
`importlib.import_module("mtus_rules.whatif")` still work, and warn
(DeprecationWarning) naming where the module went. One meta-path finder does
it for every old path, instead of a shim file per module: the old name becomes
a small module that looks each attribute up in the new module(s), in order,
so a module whose names went to two places (whatif) still answers for all of
them. `mtus_rules.case` is not here: it is the name of the new subpackage,
which exports what the old module did.

Installed by `mtus_rules/__init__.py`; nothing inside the package imports an
old path (the test suite runs with DeprecationWarning as an error).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

#: Old module (under mtus_rules) -> the modules that now hold its names, the main one first.
MOVED: dict[str, tuple[str, ...]] = {
    "alternatives": ("explanation.alternatives", "explanation.changes"),
    "audit": ("integration.audit",),
    "batch": ("integration.batch",),
    "codes": ("case.codes",),
    "compile": ("evaluation.compile", "evaluation.outcome"),
    "conditions": ("packs.conditions", "packs.facts"),
    "coverage": ("authoring.coverage",),
    "decision": ("explanation.decision", "evaluation.outcome"),
    "derived": ("case.derived",),
    "display": ("explanation.render", "integration.compare"),
    "facets": ("evaluation.facets",),
    "lint": ("authoring.lint",),
    "pack": ("packs.model", "packs.loading"),
    "quantity": ("case.quantity", "case.quantity_fields"),
    "rfa": ("case.rfa",),
    "ruletests": ("authoring.ruletests",),
    "trace": ("explanation.trace", "explanation.render"),
    "whatif": ("integration.compare", "packs.overrides"),
}

#: Names renamed when they moved: (old module, old name) -> new name.
RENAMED: dict[tuple[str, str], str] = {
    ("display", "render_text"): "decision_text",
    ("trace", "render"): "trace_text",
    ("ruletests", "render"): "report_text",
    ("trace", "Truth"): "TruthText",
}

_PACKAGE = __name__.rpartition(".")[0]


def _outside_the_import_system() -> int:
    """The stacklevel of the first frame outside importlib and this module, so
    the warning points at the user's import line. `warnings` itself skips the
    frames of importlib's bootstrap when it counts, so they are not counted."""
    level = 1
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        internal = "importlib" in name and "_bootstrap" in name
        if not internal and name not in (__file__, importlib.__file__):  # importlib.import_module's own frame
            return level
        if not internal:
            level += 1
        frame = frame.f_back
    return level


class _Alias(types.ModuleType):
    """An old module path: every attribute comes from the modules that hold it now."""

    def __init__(self, name: str, targets: Sequence[types.ModuleType]):
        super().__init__(name, f"Deprecated: moved to {targets[0].__name__}.")
        self._targets = tuple(targets)

    def __getattr__(self, attribute: str) -> Any:
        renamed = RENAMED.get((self.__name__.rpartition(".")[2], attribute))
        if renamed is not None:
            warnings.warn(
                f"{self.__name__}.{attribute} is deprecated; use {renamed} from {self._targets[0].__name__}",
                DeprecationWarning,
                stacklevel=2,
            )
            attribute = renamed
        for target in self._targets:
            try:
                return getattr(target, attribute)
            except AttributeError:
                continue
        raise AttributeError(f"module {self.__name__!r} (now {self._targets[0].__name__}) has no attribute {attribute!r}")

    def __dir__(self) -> list[str]:
        return sorted({name for target in self._targets for name in dir(target)})


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        old = spec.name.rpartition(".")[2]
        new = [f"{_PACKAGE}.{path}" for path in MOVED[old]]
        warnings.warn(
            f"{spec.name} is deprecated and will be removed in the next release; import from {new[0]} instead",
            DeprecationWarning,
            stacklevel=_outside_the_import_system(),
        )
        return _Alias(spec.name, [importlib.import_module(name) for name in new])

    def exec_module(self, module: types.ModuleType) -> None:
        pass  # the alias is complete when created


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        package, _, old = fullname.rpartition(".")
        if package != _PACKAGE or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader())


def install() -> None:
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
