"""Worker processes that can die without taking anything else with them.

Why not `concurrent.futures.ProcessPoolExecutor`: its workers share one result
queue. A worker killed from outside (SIGKILL, the OOM killer) while writing a
result leaves half a message in that queue, and the executor's reader then
waits for the rest for ever, because the other workers still hold the queue
open (seen here: `evaluate_many` hung about once in 20 runs with a worker
killed mid-batch). A death also breaks the whole executor, losing every task
in flight.

So each worker here has its own pipe, and the parent keeps no copy of the
worker's end: when a worker dies, its pipe reports end-of-file at once, only
its own task is affected, and that task is tried again (split into smaller
tasks, or once more) on a fresh worker. One task is in flight per worker, so a
worker is always waiting to read when the parent writes to it, and neither side
can block the other. Results come back in the order the tasks were given.

Generic on purpose: it knows tasks, payloads and outcomes, not cases or rules.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

Task = TypeVar("Task")

#: Worker deaths in a row, with no task finished in between, before giving up
#: (a pool that cannot start must not be retried for ever).
MAX_DEATHS_IN_A_ROW = 20

#: Seconds to wait for a worker to leave after it was told to, before killing it.
_LEAVE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Lost:
    """The outcome of a task that did not produce a result; `reason` says why,
    in words fit for the row it belonged to."""

    reason: str


DIED = "the worker process deciding this row died; the row was not decided"


class PoolError(RuntimeError):
    """Workers cannot be started or keep dying: the pool cannot go on."""


def _serve(conn: Connection, initializer: Callable[..., None], initargs: tuple, inherited: list[int]) -> None:
    """A worker's life: set up, say ready, then answer one task at a time."""
    # A forked worker holds copies of the parent's ends of every pipe; while it
    # holds them, no worker sees end-of-file when the parent dies.
    for fd in inherited:
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the process group; the parent decides
    try:
        try:
            initializer(*initargs)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which stops the pool
            conn.send_bytes(pickle.dumps(("failed", f"{type(exc).__name__}: {exc}")))
            return
        conn.send_bytes(pickle.dumps(("ready", None)))
        while True:
            message = conn.recv_bytes()
            try:
                func, payload = pickle.loads(message)
                reply = pickle.dumps(("ok", func(payload)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - the task's failure, not the worker's
                reply = pickle.dumps(("error", type(exc).__name__))
            conn.send_bytes(reply)
    except (EOFError, OSError):  # the parent is gone or done with us: nothing to say, nobody to say it to
        return


@dataclass(eq=False)
class _Slot(Generic[Task]):
    """A task and, once known, its outcome; or the smaller tasks it was split into."""

    task: Task
    attempts: int = 0
    done: bool = False
    outcome: Any = None
    parts: list[_Slot[Task]] | None = None

    def resolved(self) -> bool:
        return self.done or (self.parts is not None and all(p.resolved() for p in self.parts))

    def leaves(self) -> Iterator[tuple[Task, Any]]:
        if self.parts is None:
            yield self.task, self.outcome
        else:
            for part in self.parts:
                yield from part.leaves()


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    slot: _Slot | None = None


@dataclass
class Pool:
    """`size` worker processes, each set up by `initializer(*initargs)`."""

    size: int
    initializer: Callable[..., None]
    initargs: tuple = ()
    _workers: list[_Worker] = field(default_factory=list, init=False)
    _deaths_in_a_row: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("a pool needs at least one worker")
        self._context = multiprocessing.get_context()

    # -- workers ---------------------------------------------------------------

    def _start(self) -> _Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        inherited = []
        if self._context.get_start_method() == "fork":
            inherited = [w.conn.fileno() for w in self._workers] + [ours.fileno()]
        process = self._context.Process(
            target=_serve, args=(theirs, self.initializer, self.initargs, inherited), daemon=True
        )
        process.start()
        theirs.close()  # only the worker may hold its end, so its death reads as end-of-file
        worker = _Worker(process, ours)
        self._workers.append(worker)
        return worker

    def _bury(self, worker: _Worker) -> _Slot | None:
        """Forget a dead worker; the slot it was working on, if any."""
        self._workers.remove(worker)
        worker.conn.close()
        worker.process.join(timeout=_LEAVE_TIMEOUT)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        self._deaths_in_a_row += 1
        if self._deaths_in_a_row > MAX_DEATHS_IN_A_ROW:
            raise PoolError(f"worker processes died {MAX_DEATHS_IN_A_ROW} times in a row without finishing a task")
        return worker.slot

    def close(self, *, wait_for_workers: bool = True) -> None:
        """Let the workers go (at once, when `wait_for_workers` is false)."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.conn.close()  # a waiting worker reads end-of-file and leaves
            if not wait_for_workers:
                worker.process.kill()
        for worker in workers:
            worker.process.join(timeout=_LEAVE_TIMEOUT)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()

    # -- tasks -----------------------------------------------------------------

    def imap(
        self,
        func: Callable[[Any], Any],
        tasks: Iterable[Task],
        *,
        payload: Callable[[Task], Any],
        split: Callable[[Task], list[Task]],
        window: int,
    ) -> Generator[tuple[Task, Any], None, None]:
        """(task, outcome) for every task, in order: outcome is `func(payload(task))`
        computed in a worker, or `Lost` saying why there is none.

        A task whose worker dies is split (`split(task)` returning two or more
        smaller tasks, whose outcomes are yielded in its place), or, when it
        cannot be split, tried once more before it is `Lost`. At most `window`
        tasks are taken from `tasks` ahead of the one being waited for.
        """
        source = iter(tasks)
        exhausted = False
        order: deque[_Slot[Task]] = deque()  # taken from `source`, not yet yielded
        queue: deque[_Slot[Task]] = deque()  # to be sent to a worker, in order
        try:
            while len(self._workers) < self.size:
                self._start()
            while True:
                while order and order[0].resolved():
                    yield from order.popleft().leaves()
                for worker in self._workers:
                    if not worker.ready or worker.slot is not None:
                        continue
                    if not queue and not exhausted and len(order) < window:
                        task = next(source, _END)
                        if task is _END:
                            exhausted = True
                        else:
                            slot: _Slot[Task] = _Slot(task)
                            order.append(slot)
                            queue.append(slot)
                    if not queue:
                        break
                    self._send(worker, queue.popleft(), func, payload)
                if exhausted and not order:
                    return
                if all(w.ready and w.slot is None for w in self._workers):
                    continue  # nothing to wait for: a task was settled without a worker
                self._await(queue, split)
        finally:
            self.close(wait_for_workers=exhausted and not order)

    def _send(self, worker: _Worker, slot: _Slot, func: Callable, payload: Callable) -> None:
        try:
            message = pickle.dumps((func, payload(slot.task)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # the payload cannot be passed to a process: the task's problem
            slot.done, slot.outcome = True, Lost(f"the row cannot be passed to a worker process ({type(exc).__name__})")
            return
        worker.slot = slot
        try:
            worker.conn.send_bytes(message)
        except OSError:  # the worker died since its last answer; `_await` finds it
            pass

    def _await(self, queue: deque[_Slot], split: Callable[[Any], list[Any]]) -> None:
        """Wait for at least one worker to answer, be ready or die, and act on it."""
        by_handle: dict[Any, _Worker] = {}
        for worker in self._workers:
            by_handle[worker.conn] = worker
            by_handle[worker.process.sentinel] = worker
        for handle in wait(list(by_handle)):
            worker = by_handle[handle]
            if worker not in self._workers:
                continue  # both its handles were ready, and it is already dealt with
            try:
                kind, value = pickle.loads(worker.conn.recv_bytes()) if worker.conn.poll() else (None, None)
            except (EOFError, OSError, pickle.UnpicklingError):
                kind, value = None, None
            if kind is None:  # died: nothing (or half a message) to read
                slot = self._bury(worker)
                if slot is not None:
                    self._retry(slot, queue, split)
                self._start()
            elif kind == "failed":
                raise PoolError(f"a worker process could not start: {value}")
            elif kind == "ready":
                worker.ready = True
            else:
                slot, worker.slot = worker.slot, None
                assert slot is not None
                self._deaths_in_a_row = 0
                slot.done = True
                slot.outcome = value if kind == "ok" else Lost(
                    f"internal error ({value}) passing this row to or from a worker process"
                )

    @staticmethod
    def _retry(slot: _Slot, queue: deque[_Slot], split: Callable[[Any], list[Any]]) -> None:
        slot.attempts += 1
        parts = split(slot.task)
        if len(parts) > 1:
            slot.parts = [_Slot(part) for part in parts]
            queue.extendleft(reversed(slot.parts))  # first, so the rows waiting on them are not held long
        elif slot.attempts < 2:
            queue.appendleft(slot)  # a worker killed from outside is not this task's fault
        else:
            slot.done, slot.outcome = True, Lost(DIED)


_END: Any = object()

__all__ = ["DIED", "MAX_DEATHS_IN_A_ROW", "Lost", "Pool", "PoolError"]
