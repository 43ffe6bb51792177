"""`run_dag`, the scheduler of the demo and the contract suite: dependency order, the parallel limit, failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from taar_testing.pipeline import Step, run_dag


def recorder() -> tuple[list[tuple[str, str]], Callable[[Step], None]]:
    """A `run_step` that logs (event, step name) and takes 50 ms, so overlapping steps overlap."""
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(step: Step) -> None:
        with lock:
            events.append(("start", step.name))
        time.sleep(0.05)
        with lock:
            events.append(("end", step.name))

    return events, run


def test_a_step_starts_only_after_every_step_it_runs_after():
    steps = [Step("c", ["c"], ["a", "b"]), Step("a", ["a"]), Step("b", ["b"], ["a"]), Step("d", ["d"])]
    events, run = recorder()
    run_dag(steps, run, parallel=2)
    assert sorted(name for event, name in events if event == "end") == ["a", "b", "c", "d"]
    assert events.index(("start", "b")) > events.index(("end", "a"))
    assert events.index(("start", "c")) > max(events.index(("end", "a")), events.index(("end", "b")))


def test_no_more_than_parallel_steps_run_at_once():
    events, run = recorder()
    run_dag([Step(name, [name]) for name in "abcde"], run, parallel=2)
    running = peak = 0
    for event, _ in events:
        running += 1 if event == "start" else -1
        peak = max(peak, running)
    assert peak == 2


def test_a_failing_step_fails_the_run_and_its_dependants_never_start():
    started: list[str] = []

    def run(step: Step) -> None:
        started.append(step.name)
        if step.name == "broken":
            raise RuntimeError("broken failed; log broken.log")

    with pytest.raises(RuntimeError, match="broken failed"):
        run_dag([Step("broken", ["x"]), Step("after_broken", ["y"], ["broken"])], run, parallel=2)
    assert started == ["broken"]


def test_a_step_after_an_unknown_step_is_refused_naming_both():
    with pytest.raises(ValueError, match=r"step spark_lite runs after \['wait_for_clients_dialy'\]"):
        run_dag([Step("spark_lite", ["x"], ["wait_for_clients_dialy"])], lambda step: None, parallel=2)
