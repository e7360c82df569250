"""Which matcher decides a rule's conditions: the seam between the engine and
durable_rules.

Two backends take the same compiled conditions and must give the same
answers (tests/evaluation/test_matchers.py holds them equal):

- `durable_rules`: the inference engine the project is built on, the default
  wherever it imports. It is a C extension, unmaintained since 2020, that does
  not import on Python 3.13 and needs a compiler to install, so it is only
  installed where it builds (an environment marker in pyproject.toml).
- `python`: `_pymatch`, pure Python, used where durable_rules is missing.

`Engine(backend=...)` or the environment variable MTUS_RULES_BACKEND picks
one; every decision says which decided (`Decision.backend`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Protocol, runtime_checkable

from ..errors import BackendError, Problem

DURABLE = "durable_rules"
PYTHON = "python"
BACKENDS = (DURABLE, PYTHON)
ENVIRONMENT = "MTUS_RULES_BACKEND"


@runtime_checkable
class Matcher(Protocol):
    """A compiled set of named conditions."""

    name: str

    def match(self, fact: Mapping[str, object]) -> list[str]:
        """The names whose condition the fact meets, each once, in any order."""
        ...


MatcherFactory = Callable[[str, Mapping[str, dict]], Matcher]


@lru_cache(maxsize=1)
def _durable_import_error() -> str | None:
    """Why durable_rules cannot be used here, or None when it can."""
    try:
        from . import _durable  # noqa: F401
    except ImportError as exc:  # not installed, or built for another ABI (3.13)
        return f"{type(exc).__name__}: {exc}"
    return None


def available() -> tuple[str, ...]:
    """The backends that can run in this interpreter."""
    return BACKENDS if _durable_import_error() is None else (PYTHON,)


def resolve(backend: str | None = None) -> str:
    """The backend to use: the one asked for, else MTUS_RULES_BACKEND, else
    durable_rules where it imports and python elsewhere."""
    asked, source = (backend, "backend") if backend is not None else (os.environ.get(ENVIRONMENT) or None, ENVIRONMENT)
    if asked is None:
        return DURABLE if _durable_import_error() is None else PYTHON
    if asked not in BACKENDS:
        raise BackendError([Problem(location=source, message=f"unknown backend {asked!r}; use one of {', '.join(BACKENDS)}")])
    if asked == DURABLE and _durable_import_error() is not None:
        raise BackendError(
            [
                Problem(
                    location=source,
                    message=f"durable_rules cannot be used here ({_durable_import_error()}); "
                    f"use backend {PYTHON!r}, which decides the same conditions in pure Python",
                )
            ]
        )
    return asked


def factory(backend: str) -> MatcherFactory:
    """The matcher class of a resolved backend."""
    if backend == DURABLE:
        from ._durable import Matcher as DurableMatcher

        return DurableMatcher
    from ._pymatch import Matcher as PythonMatcher

    return PythonMatcher
