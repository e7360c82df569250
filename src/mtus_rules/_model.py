"""The one pydantic base of the package's models.

Every model is frozen: a decision, a case or a rule, once made, is a value
(hashable, safe to share between threads and to keep in a memo). Models read
from a user's file or data are also strict about their keys (`StrictModel`):
a misspelt field is an error naming it, never silently ignored. Models the
library writes (decisions, traces, batch results) accept the keys of a newer
version when read back (`FrozenModel`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """A model the library makes: immutable."""

    model_config = ConfigDict(frozen=True)


class StrictModel(FrozenModel):
    """A model read from input: immutable, and an unknown key is an error."""

    model_config = ConfigDict(extra="forbid")
