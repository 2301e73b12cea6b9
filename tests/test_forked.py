"""forked.run: calls run in children forked from this process, results in order, every child
reaped, and whatever goes wrong in a child (an error, a death) raised here."""

from __future__ import annotations

import os
import time

import pytest

from lambda_glibc_gate import forked

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs os.fork and a single thread")


def square_with_pid(number: int) -> tuple[int, int]:
    return number * number, os.getpid()


def fail(message: str) -> None:
    raise ValueError(message)


def die() -> None:
    os._exit(3)


def children_of_this_process() -> set[int]:
    try:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as handle:
            return {int(pid) for pid in handle.read().split()}
    except OSError:
        return set()


@pytest.mark.parametrize("count", [1, 2, 3])
def test_results_come_back_in_order_from_every_child(count):
    calls = [(square_with_pid, (number,)) for number in range(12)]
    results = forked.run(calls, count)
    assert [value for value, _ in results] == [number * number for number in range(12)]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and len(pids) == count
    assert not children_of_this_process() & pids  # all reaped (other tests' children aside)


def test_an_error_in_a_child_is_raised_here():
    before = children_of_this_process()
    calls = [(square_with_pid, (1,)), (fail, ("the third call failed",)), (square_with_pid, (2,))]
    with pytest.raises(ValueError, match="the third call failed"):
        forked.run(calls, 2)
    assert children_of_this_process() <= before


def test_a_child_that_dies_is_an_error_here():
    before = children_of_this_process()
    calls = [(square_with_pid, (1,)), (die, ()), (square_with_pid, (2,)), (square_with_pid, (3,))]
    with pytest.raises(forked.WorkerDied):
        forked.run(calls, 2)
    assert children_of_this_process() <= before


def test_started_runs_once_the_children_exist_and_check_can_stop_them():
    """started() runs after every fork (a thread may start then); what check() raises ends the
    run while the children are still busy, and they are killed and reaped."""
    seen = []
    before = children_of_this_process()
    stop_at = time.monotonic() + 0.05

    def check():
        if time.monotonic() > stop_at:
            raise KeyboardInterrupt

    calls = [(time.sleep, (30,))] * 8  # 2 minutes on 2 children, if they were waited for
    begun = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        forked.run(calls, 2, started=lambda: seen.append(len(children_of_this_process() - before)), check=check)
    assert seen == [2]
    assert time.monotonic() - begun < 20  # killed, not waited for (a margin no machine misses)
    assert children_of_this_process() <= before


def test_a_worker_holds_depth_calls_at_once():
    """depth 2: each child is given its next call while it runs one (it never waits here)."""
    calls = [(square_with_pid, (number,)) for number in range(6)]
    given = []
    real_give = forked._Child.give

    def give(child, index):
        real_give(child, index)
        given.append(len(child.given))

    forked._Child.give = give
    try:
        forked.run(calls, 2, depth=2)
    finally:
        forked._Child.give = real_give
    assert max(given) == 2
