"""Fork safety for objects that hold locks.

A process forked while another thread holds a lock inherits the lock held,
and the child deadlocks on it. Objects that hold locks register here and get
`_after_fork_in_child()` called in every forked child, where they replace
their locks (and whatever native state a lock guarded). A base module: the
matchers and the engine both use it, and neither should import the other.
"""

from __future__ import annotations

import os
import weakref

# Objects whose `_after_fork_in_child` runs in every forked child, by id: a
# weak-valued dict, because some (dataclasses) are unhashable.
_live: weakref.WeakValueDictionary[int, object] = weakref.WeakValueDictionary()


def renew_after_fork(owner: object) -> None:
    """Call `owner._after_fork_in_child()` in every child process forked while
    `owner` is alive (to replace locks another thread might hold at the fork)."""
    _live[id(owner)] = owner


def _after_fork_in_child() -> None:
    for owner in list(_live.values()):
        owner._after_fork_in_child()  # type: ignore[attr-defined]


if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=_after_fork_in_child)
