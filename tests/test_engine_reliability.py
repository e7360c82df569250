"""Engine reliability (issue 10, engine half): interruptions, pack size, native
memory, fork.

Each test here fails on a30c676 (reproducers in shared/reliability-repros):
- interrupted evaluations   interrupt_corrupts_memo.py, reset_then_drop_segfault.py
- larger packs              pack_65_extra_rules (error 303), pack_150_extra_rules (error 107)
- dropped engines           engine_drop_leak.py
- fork                      fork_deadlock.py
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The durable_rules engine's own reliability: installed only before Python 3.13.
dre = pytest.importorskip("durable_rules_engine", reason="durable-rules is not installed on this Python")

from mtus_rules import Engine, RulePackError
from mtus_rules.evaluation._capacity import MAX_STACK, split_conditions
from mtus_rules.evaluation._durable import _Ruleset, definition
from mtus_rules.case import parse_case
from mtus_rules.packs import bundled_pack_dirs, load_pack

ROOT = Path(__file__).resolve().parents[1]
PACK_YAML = ROOT / "rules" / "mtus-2009" / "pack.yaml"


def _generate(items: int, seed: int) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("_bench_generate", ROOT / "benchmarks" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_dicts(items, seed=seed, extended=True)


@pytest.fixture(scope="module")
def pack():
    return load_pack(bundled_pack_dirs()[0])


@pytest.fixture(scope="module")
def checked(pack) -> tuple[list, list[str]]:
    """Cases and what a fresh, never interrupted engine decides for them."""
    cases = [parse_case(d) for d in _generate(160, seed=4242)]
    fresh = Engine([pack], cache_size=0)
    return cases, [fresh.evaluate(c).model_dump_json() for c in cases]


class Interrupt(BaseException):
    """Stands for KeyboardInterrupt or a timeout raised from a signal handler."""


_DURABLE_CALLS = ("assert_fact", "start_action_for_state", "complete_and_start_action", "retract_fact", "create_ruleset")


def _interrupt_at(n: int, only_durable: bool) -> Callable:
    """A profile hook raising Interrupt at the n-th event where CPython 3.11 can
    deliver a signal handler's exception: entering a Python function, returning
    from one, or just after a C call returned (the eval loop checks for signals
    at RESUME, JUMP_BACKWARD and at the end of CALL). Not at 'c_call', before
    a C function runs: no signal lands there, and raising there could skip the
    `lock.__exit__` call that ends a `with` block. `only_durable`: only just
    after a durable_rules C call (the narrowest windows)."""
    seen = [0]

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" or frame.f_code.co_filename == __file__:  # nor in the test's own calls
            return
        if only_durable and not (event == "c_return" and getattr(arg, "__name__", "") in _DURABLE_CALLS):
            return
        seen[0] += 1
        if seen[0] == n:
            raise Interrupt()  # CPython unsets the hook when it raises

    return hook


def _interrupt_many(engine: Engine, cases: list, count: int, seed: int) -> int:
    rng = random.Random(seed)
    interrupted = 0
    for k in range(count):
        only_durable = k % 2 == 1
        sys.setprofile(_interrupt_at(rng.randint(1, 8 if only_durable else 3000), only_durable))
        try:
            engine.evaluate(cases[rng.randrange(len(cases))], what_if=k % 5 == 0)
        except Interrupt:
            interrupted += 1
        finally:
            sys.setprofile(None)
    return interrupted


@pytest.mark.parametrize("cache_size", [4096, 0])
def test_interrupted_evaluations_leave_later_decisions_right(pack, checked, cache_size):
    cases, expected = checked
    engine = Engine([pack], cache_size=cache_size, backend="durable_rules")
    interrupted = _interrupt_many(engine, cases, 400, seed=cache_size + 1)
    assert interrupted >= 150  # the hook really landed inside many evaluations
    got = [engine.evaluate(c).model_dump_json() for c in cases]
    wrong = [json.loads(e)["case_id"] for g, e in zip(got, expected) if g != e]
    assert wrong == []


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX interval timers")
def test_timeouts_from_a_signal_handler_leave_later_decisions_right(pack, checked):
    cases, expected = checked
    engine = Engine([pack])

    def timeout(*_: Any) -> None:
        raise Interrupt()

    previous = signal.signal(signal.SIGALRM, timeout)
    rng = random.Random(7)
    interrupted = 0
    try:
        for k in range(300):
            try:
                signal.setitimer(signal.ITIMER_REAL, rng.uniform(0.00002, 0.0005))
                engine.evaluate(cases[k % len(cases)])
                signal.setitimer(signal.ITIMER_REAL, 0)
            except Interrupt:
                interrupted += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert interrupted > 0
    assert [engine.evaluate(c).model_dump_json() for c in cases] == expected


def test_an_interrupted_evaluation_memoises_nothing(pack, checked):
    cases, _ = checked
    engine = Engine([pack])
    compiled = engine._packs[0]

    def at_the_very_end(frame: Any, event: str, arg: Any) -> None:
        # Everything was decided and memoised; the exception arrives as _decide returns.
        if event == "return" and frame.f_code.co_name == "_decide":
            raise Interrupt()

    sys.setprofile(at_the_very_end)
    try:
        with pytest.raises(Interrupt):
            engine.evaluate(cases[0], what_if=True)
    finally:
        sys.setprofile(None)
    assert (len(compiled.answer_memo), len(compiled.options_memo), len(compiled.finding_memo)) == (0, 0, 0)
    engine.evaluate(cases[0], what_if=True)
    assert len(compiled.answer_memo) > 0  # a completed evaluation does memoise


# -- larger packs -------------------------------------------------------------


def _big_pack(tmp_path: Path, n: int, kind: str = "not_recommended") -> Path:
    """The bundled pack.yaml with n extra rules on massage only (make_big_pack.py)."""
    folder = tmp_path / f"pack_{kind}_{n}"
    folder.mkdir()
    (folder / "pack.yaml").write_text(PACK_YAML.read_text())
    rules = []
    for k in range(n):
        head = (
            f"  - id: mtus.extra.r{k}\n    title: Extra rule {k}\n"
            '    citation: {source: MTUS, guideline: G, section: S, pages: "60", confirmed_by: guideline_text, evidence: E}\n'
            f"    question: extra.q{k}\n    applies_to: {{treatment: [massage]}}\n"
        )
        if kind == "limit":
            body = f"    effect: limit\n    limit: {{visits: {k % 50}, counts: total_visits}}\n"
        else:
            body = "    when: {care_stage: ongoing_care}\n    effect: not_recommended\n"
        rules.append(head + body + "    statement: S.\n")
    (folder / "extra.yaml").write_text("rules:\n" + "".join(rules))
    return folder


MASSAGE = {
    "date_of_injury": "2013-01-01",
    "request_date": "2014-01-01",
    "care_stage": "ongoing_care",
    "requested_items": [{"description": "Massage x3", "treatment": "massage", "body_regions": ["lumbar"], "quantity": {"visits": 3}}],
}


@pytest.mark.parametrize("n", [62, 65, 150])
def test_packs_past_durables_tables_decide_every_rule(tmp_path, n):
    """62 extra rules fit one ruleset; 65 overflowed durable's match stack
    (error 303 at every evaluation), 150 its list of alternatives (error 107 at
    Engine()). Each rule must still be decided: all n bar the request."""
    engine = Engine([_big_pack(tmp_path, n)])
    matcher = engine._packs[0].by_treatment["massage"].matcher
    assert (matcher.rulesets == 1) == (n < 63)
    item = engine.evaluate(MASSAGE).items[0]
    assert item.outcome.value == "upheld"
    assert sorted(item.rules) == sorted(f"mtus.extra.r{k}" for k in range(n))


def test_many_limits_on_one_treatment_are_each_applied(tmp_path):
    engine = Engine([_big_pack(tmp_path, 130, kind="limit")])
    item = engine.evaluate({**MASSAGE, "treatment_history": []}).items[0]  # 0 prior + 3 requested
    within = {f.rule for f in item.findings if f.kind == "within_limit"}
    over = {f.rule for f in item.findings if f.kind == "exceeds_limit"}
    assert within | over == {f"mtus.extra.r{k}" for k in range(130)}
    assert within == {f"mtus.extra.r{k}" for k in range(130) if k % 50 >= 3}


def _extra_conditions(n: int) -> dict[str, dict]:
    both = [{"care_stage": "ongoing_care"}, {"care_stage": "not_documented"}]
    conds = {}
    for k in range(n):
        conds[f"r{k}#applies"] = {"$and": [{"treatment": "massage"}, {"care_stage": "ongoing_care"}]}
        conds[f"r{k}#undetermined"] = {"$and": [{"treatment": "massage"}, {"$or": both}, {"care_stage": "not_documented"}]}
    return conds


@pytest.mark.parametrize("n", [64, 65])
def test_the_capacity_model_never_overestimates_durable(n):
    """The real limit, measured on durable itself: 64 such rules match in one
    ruleset, 65 raise error 303. The model may split early, never late."""
    conds = _extra_conditions(n)
    ruleset = _Ruleset(f"capacity-probe-{n}", definition(conds))
    fact = json.dumps({"sid": "0", "id": 1, "treatment": "massage", "care_stage": "ongoing_care"})
    if n <= MAX_STACK:
        assert len(ruleset.run(fact)) == n
    else:
        with pytest.raises(dre.error, match="303"):
            ruleset.run(fact)
        assert len(split_conditions("massage", conds)) > 1


def test_a_rule_no_ruleset_can_hold_is_a_rule_pack_error(tmp_path):
    """Splitting cannot help one rule too large for any ruleset (here 36 of
    durable's 31 expressions): Engine() refuses the pack, naming the rule's
    file and line, the treatment and the limit, instead of durable's error 113."""
    folder = _big_pack(tmp_path, 1)
    facts = ["home_program_insufficient", "reduced_weight_bearing", "other_modalities_failed", "functional_restoration",
             "treatment_goals", "device_trial_benefit", "four_lead_justified", "interferential_indication",
             "acupuncture_indication", "job_demands_unmet", "therapy_plateau", "surgery_candidate",
             "program_participation", "return_to_work_goal", "program_completed", "home_exercise"]
    when = ", ".join(f"{f}: {{is: [yes, no]}}" for f in facts)
    text = (folder / "extra.yaml").read_text().replace("when: {care_stage: ongoing_care}", f"when: {{{when}}}")
    (folder / "extra.yaml").write_text(text)
    with pytest.raises(RulePackError) as raised:
        Engine([folder])
    (problem,) = raised.value.problems
    assert problem.file is not None and problem.file.endswith("extra.yaml") and problem.line == 2
    assert "mtus.extra.r0" in str(problem) and "treatment massage" in problem.message
    assert "durable allows 31" in problem.message


# -- native memory ---------------------------------------------------------------

EVERY_BIG_RULESET = {
    "date_of_injury": "2013-01-01",
    "request_date": "2014-01-01",
    "requested_items": [
        {"description": t, "treatment": t, "body_regions": ["lumbar"], "quantity": {"visits": 3}}
        for t in ["physical_therapy", "occupational_therapy", "aquatic_therapy", "manipulation", "massage", "tens"]
    ],
}


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_a_dropped_engine_frees_its_durable_rulesets(pack):
    engine = Engine([pack], cache_size=0)
    engine.evaluate(EVERY_BIG_RULESET)
    handles = [bt.matcher._handle for bt in engine._packs[0].by_treatment.values()]
    del engine
    gc.collect()
    for handle in handles:
        with pytest.raises(dre.error):  # durable no longer knows the handle: it was deleted
            dre.get_facts(handle, "0")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads RSS from /proc")
def test_memory_stays_flat_over_engines_created_and_dropped(pack):
    """Each engine that decided these items leaked about 5 MB on a30c676
    (engine_drop_leak.py); benchmarks/engine_churn.py runs 2,000."""
    for _ in range(5):
        Engine([pack], cache_size=0).evaluate(EVERY_BIG_RULESET)
    gc.collect()
    before = _rss_mb()
    for _ in range(20):  # the leak was about 5 MB an engine: 20 of them show it
        Engine([pack], cache_size=0).evaluate(EVERY_BIG_RULESET)
    gc.collect()
    assert _rss_mb() - before < 25


# -- fork ------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_child_forked_while_threads_evaluate_decides_correctly(pack, checked):
    """fork_deadlock.py: a child forked while another thread held a matcher or
    memo lock waited on it forever. The child must finish and decide as a
    fresh engine does."""
    cases, expected = checked
    engine = Engine([pack], cache_size=64)  # small memo: the threads keep asking durable
    stop = threading.Event()

    def hammer(offset: int) -> None:
        k = offset
        while not stop.is_set():
            engine.evaluate(cases[k % len(cases)])
            k += 1

    threads = [threading.Thread(target=hammer, args=(i * 7,), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        for fork in range(6):
            time.sleep(0.02)
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: decide, report, leave without cleanup
                try:
                    same = all(engine.evaluate(c).model_dump_json() == e for c, e in zip(cases[:25], expected[:25]))
                    os.write(write_end, b"same" if same else b"different")
                finally:
                    os._exit(0)
            os.close(write_end)
            deadline = time.monotonic() + 20
            while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            if done[0] == 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            answer = os.read(read_end, 100)
            os.close(read_end)
            assert done[0] != 0, f"child {fork} hung"
            assert answer == b"same", f"child {fork} decided differently"
    finally:
        stop.set()
        for thread in threads:
            thread.join()
