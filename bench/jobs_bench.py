"""Trainings under load, measured against a real deepaas-run on loopback.

    .venv/bin/python bench/jobs_bench.py

1. Prediction latency (p50/p99 of sequential requests) with no training, then while a training
   prints 10,000 log lines, and whether the log holds all of them.
2. Listing 10,000 stored training records: the whole list, and one page of 50.
"""

from __future__ import annotations

import asyncio
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from benchlib import module_dir, serve, wait_ready

from deepaas.jobs.records import Job, JobStatus
from deepaas.jobs.sqlite import SQLiteStore

MODULE = '''
import time
from webargs import fields
def get_predict_args():
    return {"x": fields.Int(load_default=1)}
def predict(**kwargs):
    return {"x": kwargs["x"]}
def get_train_args():
    return {"lines": fields.Int(load_default=10000)}
def train(**kwargs):
    for i in range(kwargs["lines"]):
        print("step %d: loss=%.5f" % (i, 1.0 / (i + 1)))
        if i % 100 == 0:
            time.sleep(0.01)
    return {"lines": kwargs["lines"]}
'''


async def _latencies(session: aiohttp.ClientSession, url: str, until: float,
                     at_least: int) -> list[float]:
    times: list[float] = []
    while time.monotonic() < until or len(times) < at_least:
        began = time.perf_counter()
        async with session.post(url, params={"x": "3"}) as resp:
            await resp.read()
            assert resp.status == 200
        times.append((time.perf_counter() - began) * 1000)
    return times


def _summary(times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=100)
    return "n=%5d  p50=%6.2f ms  p99=%6.2f ms  max=%6.2f ms" % (
        len(times), cuts[49], cuts[98], max(times))


async def _training_load(base: str) -> None:
    predict = base + "/v2/models/chatty/predict/"
    train = base + "/v2/models/chatty/train/"
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, base)
        quiet = await _latencies(session, predict, time.monotonic() + 3, 200)
        async with session.post(train) as resp:
            uuid = (await resp.json())["uuid"]
        began, busy = time.monotonic(), []
        while True:
            busy += await _latencies(session, predict, time.monotonic() + 0.5, 1)
            async with session.get(train + uuid) as resp:
                if (await resp.json())["status"] != "running":
                    break
        took = time.monotonic() - began
        async with session.get(train + uuid + "/logs") as resp:
            lines = [x for x in (await resp.text()).splitlines() if x.startswith("step ")]
    print("predict, no training:        " + _summary(quiet))
    print("predict, 10k-line training:  " + _summary(busy) + "  (training ran %.1f s)" % took)
    print("log lines stored: %d of 10000, complete: %s" % (
        len(lines), lines == ["step %d: loss=%.5f" % (i, 1.0 / (i + 1)) for i in range(10000)]))


async def _fill(data_dir: Path, count: int) -> None:
    store = SQLiteStore(data_dir / "jobs.sqlite3")
    await store.open()
    now = datetime.datetime.now()
    for i in range(count):
        job = Job(uuid="%032x" % i, model="chatty", args={"lines": i}, date=now,
                  status=JobStatus.DONE, finish_date=now, output={"lines": i})
        await store.put(job)
    await store.close()


async def _listing(base: str) -> None:
    url = base + "/v2/models/chatty/train/"
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, base)
        for label, params in (("all 10,000", {}), ("limit=50&offset=9000", {
                "limit": "50", "offset": "9000"}), ("status=error (none)", {"status": "error"})):
            times = []
            for _ in range(5):
                began = time.perf_counter()
                async with session.get(url, params=params) as resp:
                    body = await resp.json()
                times.append((time.perf_counter() - began) * 1000)
            print("list %-22s %5d records  best %7.1f ms  median %7.1f ms" % (
                label, len(body), min(times), statistics.median(times)))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = module_dir(Path(tmp) / "mod", "chatty", MODULE)
        for name, scenario in (("load", _training_load), ("list", _listing)):
            data_dir = Path(tmp) / name
            if name == "list":
                data_dir.mkdir()
                began = time.monotonic()
                asyncio.run(_fill(data_dir, 10000))
                print("stored 10,000 records in %.1f s" % (time.monotonic() - began))
            proc, base = serve(root, "chatty", data_dir)
            try:
                asyncio.run(scenario(base))
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
