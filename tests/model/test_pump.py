"""The pump that steps a sync generator on a thread: it runs ahead of its reader, within
bounds, gives its thread back when the reader lags, and hands over failures in order."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import pytest

from deepaas.model.pump import Pump


async def _until_idle(pump: Pump, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while pump._running is not None:  # the run under way gave its thread back
        assert time.monotonic() < end, "the pump never paused"
        await asyncio.sleep(0.01)


def _counter(limit: int, size: int = 1) -> tuple[list[int], object]:
    made: list[int] = []

    def step() -> bytes | None:
        if len(made) == limit:
            return None
        made.append(len(made))
        return b"x" * size

    return made, step


@pytest.mark.parametrize("size, most", [(1, 16), (300_000, 4)])
async def test_it_runs_ahead_within_its_bounds_and_then_frees_the_thread(size, most):
    pool = concurrent.futures.ThreadPoolExecutor(1)
    made, step = _counter(1000, size)
    pump = Pump(step, pool, ahead=16, ahead_bytes=2**20, weigh=len)
    assert await pump.get() == b"x" * size
    await _until_idle(pump)
    assert len(made) <= most + 1  # the one read, and at most the bound unread
    # the one thread is free: other work runs on it at once
    assert await asyncio.get_running_loop().run_in_executor(pool, lambda: 42) == 42
    for _ in range(len(made) + 5):  # reading on restarts it
        assert await pump.get() is not None
    await pump.stop()
    pool.shutdown()


async def test_the_end_and_a_failure_come_after_the_items_before_them():
    made, step = _counter(3)
    pump = Pump(step, None)
    assert [await pump.get() for _ in range(4)] == [b"x", b"x", b"x", None]
    assert await pump.get() is None

    def failing() -> bytes:
        raise ValueError("broken")

    pump = Pump(failing, None)
    with pytest.raises(ValueError, match="broken"):
        await pump.get()


async def test_stop_waits_for_the_step_under_way_and_makes_no_more():
    made, step = _counter(10**9)
    pump = Pump(step, None, ahead=10**9, ahead_bytes=10**12)
    await pump.get()
    await pump.stop()
    assert pump._running is None or pump._running.done()  # no step runs any more
    count = len(made)
    assert await pump.get() is not None  # what was made before the stop is still read
    assert len(made) == count  # but reading starts no step again
