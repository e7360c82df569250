"""The worker pool under `evaluate_many`: order kept, a death costs only its own task."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from mtus_rules.integration._pool import DIED, MAX_DEATHS_IN_A_ROW, Lost, Pool, PoolError


def _nothing() -> None:
    pass


def _square(task: int) -> int:
    return task * task


def _exit_on_13(task: int) -> int:
    if task == 13:
        os._exit(13)
    return task * task


def _split_never(task: int) -> list[int]:
    return [task]


def _ident(task):
    return task


def _run(pool: Pool, func, tasks, split=_split_never, window: int = 4) -> list:
    return list(pool.imap(func, tasks, payload=_ident, split=split, window=window))


def test_outcomes_come_back_in_the_order_of_the_tasks():
    assert _run(Pool(2, _nothing), _square, range(200)) == [(n, n * n) for n in range(200)]


def test_a_task_that_kills_its_worker_is_lost_alone_and_the_others_are_decided():
    out = _run(Pool(2, _nothing), _exit_on_13, range(40))
    assert [task for task, _ in out] == list(range(40))
    assert dict(out)[13] == Lost(DIED)
    assert all(outcome == n * n for n, outcome in out if n != 13)


def _sum_or_exit(task: tuple[int, ...]) -> int:
    if 13 in task:
        os._exit(13)
    return sum(task)


def _halves(task: tuple[int, ...]) -> list[tuple[int, ...]]:
    return [task[: len(task) // 2], task[len(task) // 2 :]] if len(task) > 1 else [task]


def test_a_task_whose_worker_dies_is_split_and_only_the_guilty_part_is_lost():
    tasks = [tuple(range(n, n + 8)) for n in range(0, 32, 8)]
    out = _run(Pool(2, _nothing), _sum_or_exit, tasks, split=_halves)
    assert [task for task, _ in out][:1] == [(0, 1, 2, 3, 4, 5, 6, 7)]
    parts = dict(out)
    assert parts[(13,)] == Lost(DIED)
    assert parts[(12,)] == 12 and parts[(14, 15)] == 29 and parts[(16, 17, 18, 19, 20, 21, 22, 23)] == sum(range(16, 24))
    # Every number is covered exactly once, in order.
    assert [n for task, _ in out for n in task] == list(range(32))


def _slow_square(task: int) -> int:
    time.sleep(0.02)
    return task * task


def _kill_a_busy_worker(pool: Pool, after: float) -> None:
    time.sleep(after)
    busy = [w for w in list(pool._workers) if w.slot is not None]
    os.kill(busy[0].process.pid, signal.SIGKILL)


def test_workers_killed_from_outside_lose_nothing():
    """Killed as the OOM killer would: one between tasks, one in the middle of a task."""
    pool = Pool(2, _nothing)
    outcomes = pool.imap(_slow_square, range(100), payload=_ident, split=_split_never, window=4)
    out, killer = [], None
    for task, outcome in outcomes:
        out.append((task, outcome))
        if task == 10:
            os.kill(pool._workers[0].process.pid, signal.SIGKILL)
        if task == 50:
            killer = threading.Thread(target=_kill_a_busy_worker, args=(pool, 0.01))
            killer.start()
    assert killer is not None
    killer.join()
    assert out == [(n, n * n) for n in range(100)]


def _unpicklable_reply(task: int):
    return (lambda: task) if task == 3 else task


def test_a_reply_that_cannot_be_sent_back_is_lost_with_its_reason():
    out = dict(_run(Pool(2, _nothing), _unpicklable_reply, range(6)))
    assert isinstance(out[3], Lost) and out[3].reason.startswith("internal error (")
    assert [out[n] for n in (0, 1, 2, 4, 5)] == [0, 1, 2, 4, 5]


def _fail_to_start() -> None:
    raise RuntimeError("no rules")


def test_a_pool_that_cannot_start_says_why():
    with pytest.raises(PoolError, match="could not start: RuntimeError: no rules"):
        _run(Pool(2, _fail_to_start), _square, range(3))


def _die_at_start() -> None:
    os._exit(3)


def test_workers_that_keep_dying_stop_the_pool_instead_of_looping():
    with pytest.raises(PoolError, match=f"died {MAX_DEATHS_IN_A_ROW} times in a row"):
        _run(Pool(1, _die_at_start), _square, range(3))


def test_a_caller_that_stops_reading_leaves_no_worker_behind():
    pool = Pool(2, _nothing)
    outcomes = pool.imap(_slow_square, range(1000), payload=_ident, split=_split_never, window=4)
    next(outcomes)
    processes = [w.process for w in pool._workers]
    started = time.perf_counter()
    outcomes.close()
    assert time.perf_counter() - started < 2
    assert not any(p.is_alive() for p in processes)


_DIES_MID_REPLY = textwrap.dedent(
    """
    import os, struct, sys
    from mtus_rules.integration._pool import Pool

    def half_a_reply(task):
        if task == 2:
            # Write the start of a 1 MB reply and die, as a worker killed while
            # writing its result would: the parent must read end-of-file, not
            # wait for the rest. (The worker's pipe is the caller's `conn`.)
            conn = sys._getframe(1).f_locals["conn"]
            os.write(conn.fileno(), struct.pack("!i", 1_000_000) + b"half")
            os._exit(9)
        return task

    if __name__ == "__main__":
        out = list(Pool(2, int).imap(half_a_reply, range(5), payload=lambda t: t, split=lambda t: [t], window=2))
        print([type(o).__name__ for _, o in out])
    """
)


def test_a_worker_that_dies_halfway_through_its_reply_does_not_hang_the_parent(tmp_path):
    """The reproducer of the hang under ProcessPoolExecutor: a worker killed
    while writing its result left the parent waiting for the rest for ever."""
    script = tmp_path / "mid_reply.py"
    script.write_text(_DIES_MID_REPLY, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['int', 'int', 'Lost', 'int', 'int']"
