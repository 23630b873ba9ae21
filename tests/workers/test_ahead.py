"""A worker's generator stepped on its own thread: ahead of the server within bounds, every
item made handed over at once, the end and a failure after the items before them."""

from __future__ import annotations

import threading
import time

import pytest

from deepaas.exceptions import ModelError
from deepaas.model.streams import Chunk
from deepaas.workers.ahead import Ahead


def _steps(count: int, size: int = 1, fail: bool = False):
    made: list[int] = []

    def step() -> Chunk | None:
        if len(made) == count:
            if fail:
                raise ModelError("broken")
            return None
        made.append(len(made))
        return Chunk(b"x" * size, True)

    return made, step


def _until(check, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, "never happened"
        time.sleep(0.005)


@pytest.mark.parametrize("size, most", [(1, 16), (400_000, 3)])
def test_it_stops_at_its_bounds_until_items_are_taken(size, most):
    made, step = _steps(10_000, size)
    ahead = Ahead(step, limit=16, limit_bytes=2**20)
    ahead.start()
    _until(lambda: len(made) >= most)
    thread = ahead._thread
    _until(lambda: thread is not None and not _stepping(ahead))
    assert len(made) == most  # it waits there: the bound is reached
    taken = ahead.take()
    assert len(taken) == most and all(isinstance(one, Chunk) for one in taken)
    _until(lambda: len(made) >= 2 * most)  # taking lets it go on
    ahead.stop()
    assert thread is not None and not thread.is_alive()


def _stepping(ahead: Ahead) -> bool:
    """Whether its thread is not (yet) waiting at the bound."""
    with ahead._cond:
        return not ahead._full()


def test_the_end_and_a_failure_come_last():
    made, step = _steps(3)
    ahead = Ahead(step)
    taken: list = []
    while not taken or isinstance(taken[-1], Chunk):
        taken += ahead.take()
    assert len(taken) == 4 and taken[-1] is None
    made, step = _steps(2, fail=True)
    ahead = Ahead(step)
    taken = []
    while not taken or isinstance(taken[-1], Chunk):
        taken += ahead.take()
    assert len(taken) == 3 and isinstance(taken[-1], ModelError)


def test_stop_waits_for_the_step_under_way():
    entered, release = threading.Event(), threading.Event()
    count = [0]

    def step() -> Chunk:
        count[0] += 1
        entered.set()
        release.wait(10)
        return Chunk(b"x", True)

    ahead = Ahead(step)
    ahead.start()
    assert entered.wait(10)
    stopper = threading.Thread(target=ahead.stop)
    stopper.start()
    release.set()
    stopper.join(10)
    assert not stopper.is_alive() and count[0] == 1  # no step after the one under way
