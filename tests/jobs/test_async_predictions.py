"""AsyncPredictions without a server: an injected ``run``, clock and sweep period, over the
SQLite store. Ordered by events and polling with a deadline."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from typing import Any

import pytest

from deepaas.exceptions import Overloaded, PredictionNotFound
from deepaas.jobs.async_predictions import STOPPED, AsyncPredictions
from deepaas.jobs.prediction_records import PredictionRecord
from deepaas.jobs.records import JobStatus
from deepaas.jobs.sqlite import SQLiteStore
from deepaas.jobs.sqlite_predictions import SQLitePredictions
from deepaas.model.args import build_argspec
from deepaas.model.outputs import Answer
from deepaas.model.wrapper import ModelWrapper
from tests.helpers import eventually

START = datetime.datetime(2026, 5, 1, 12, 0, 0)


class _Model:
    name = "m"
    predict_args = build_argspec({})  # records show the arguments through it


MODEL: Any = _Model()


class Line:
    """A fake prediction line: each call waits for ``open`` unless it is refused."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.full = False
        self.released = 0

    async def run(self, model: ModelWrapper, kwargs: dict[str, Any], accept: str | None,
                  release: Any = None) -> Answer:
        try:
            if self.full:
                raise Overloaded("full")
            await self.open.wait()
            if kwargs.get("fail"):
                raise ValueError("broken")
            return Answer(b'{"x": %d}' % kwargs["x"], "application/json", True)
        finally:
            self.released += 1


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime.datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Any) -> AsyncIterator[SQLitePredictions]:
    jobs = SQLiteStore(tmp_path / "jobs.sqlite3")
    await jobs.open()
    yield SQLitePredictions(jobs)
    await jobs.close()


async def _until(check: Any, what: str) -> None:
    await eventually(check, what)


def _ended(at: datetime.datetime, uuid: str) -> PredictionRecord:
    return PredictionRecord(uuid=uuid, model="m", args={}, date=at, status=JobStatus.DONE,
                            finish_date=at, result="1")


async def test_records_older_than_keep_days_are_swept(store):
    clock = Clock()
    await store.put(_ended(START - datetime.timedelta(days=8), "old"))
    await store.put(_ended(START - datetime.timedelta(days=6), "young"))
    runs = AsyncPredictions(store, Line().run, 7, "me", clock=clock, sweep_every=0.01)
    await runs.start()  # a sweep at start
    assert [r.uuid for r in await store.find("m")] == ["young"]
    clock.now += datetime.timedelta(days=2)

    async def gone() -> bool:
        return await store.find("m") == []

    await _until(gone, "the periodic sweep")
    await runs.close()


async def test_keep_zero_keeps_records_forever(store):
    await store.put(_ended(START - datetime.timedelta(days=800), "ancient"))
    runs = AsyncPredictions(store, Line().run, 0, "me", clock=Clock())
    await runs.start()
    assert [r.uuid for r in await store.find("m")] == ["ancient"]
    await runs.close()


async def test_each_ending_is_told_once_after_it_is_stored(store):
    told: list[tuple[str, dict[str, Any]]] = []

    async def on_end(uuid: str, shown: dict[str, Any]) -> None:
        assert (await store.get(uuid)).status.value == shown["status"]  # stored first
        told.append((uuid, shown))

    line = Line()
    runs = AsyncPredictions(store, line.run, 7, "me", on_end, clock=Clock())
    await runs.start()
    ok = await runs.submit(MODEL, {"x": 2}, None)
    bad = await runs.submit(MODEL, {"x": 0, "fail": True}, None)
    gone = await runs.submit(MODEL, {"x": 3}, None)
    assert (await runs.cancel("m", gone.uuid)).status is JobStatus.CANCELLED
    line.open.set()

    async def all_told() -> bool:
        return len(told) == 3

    await _until(all_told, "three endings")
    shown = dict(told)
    assert shown[ok.uuid]["result"] == {"x": 2}
    assert shown[bad.uuid]["status"] == "error" and "broken" in shown[bad.uuid]["message"]
    assert shown[gone.uuid]["status"] == "cancelled"
    assert (await runs.cancel("m", ok.uuid)).status is JobStatus.DONE  # ended: as it was
    assert len(told) == 3 and line.released == 3
    await runs.close()


async def test_a_refused_prediction_is_not_recorded(store):
    line = Line()
    line.full = True
    runs = AsyncPredictions(store, line.run, 7, "me", clock=Clock())
    await runs.start()
    with pytest.raises(Overloaded):
        await runs.submit(MODEL, {"x": 1}, None)
    assert await store.find("m") == [] and line.released == 1
    await runs.close()


async def test_a_shutdown_records_running_ones_as_error(store):
    runs = AsyncPredictions(store, Line().run, 7, "me", clock=Clock())
    await runs.start()
    running = await runs.submit(MODEL, {"x": 1}, None)
    await runs.close()
    stored = await store.get(running.uuid)
    assert stored.status is JobStatus.ERROR and stored.message == STOPPED
    with pytest.raises(PredictionNotFound):
        await runs.get("other-model", running.uuid)
