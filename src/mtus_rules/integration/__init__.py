"""For integrators: batches that lose no row (batch), comparing two engines
(compare) and the decision log for audit (audit).

Importing this package installs the batch runner behind
`Engine.evaluate_many` (engine.install_batch_runner): the engine sits below
this package and does not import it.
"""

from ..engine import install_batch_runner
from ._pool import PoolError
from .audit import DecisionLog
from .batch import BatchResult, evaluate_many
from .compare import Comparison, Flip, compare

install_batch_runner(evaluate_many)

__all__ = [
    "BatchResult",
    "Comparison",
    "DecisionLog",
    "Flip",
    "PoolError",
    "compare",
    "evaluate_many",
]
