"""The event loop under big request bodies, measured against a real deepaas-run on loopback.

    .venv/bin/python bench/loop_bench.py        (or: make bench)

1. /v2/health/live latency, polled every 50 ms: with nothing else in flight, then while a
   predict with a 2,000,000-item list of ints is read, parsed and validated, then the same
   with 2,000,000 strings (whose JSON parse cannot let other threads in: see
   deepaas/api/bodies.py).
2. What the hop to a thread would add to a tiny predict request (why small bodies stay on the
   loop): the round trip of asyncio.to_thread against the request's own latency.
3. Memory: 48 concurrent 15 MiB JSON bodies whose validation takes a second, against a server
   with the default --max-buffered (256 MiB) and one with --max-buffered 0 (no bound): the
   answers and the server's peak resident memory above its idle size.

Environment: BENCH_SECONDS (default 3) of idle polling.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from benchlib import module_dir, serve, wait_ready

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ITEMS = 2_000_000
POLL_EVERY = 0.05

MODULE = '''
import time
from marshmallow import fields
class SlowText(fields.Str):  # a validation that takes a while, holding its body meanwhile
    def _deserialize(self, value, attr, data, **kwargs):
        time.sleep(1.0)
        return super()._deserialize(value, attr, data, **kwargs)
def get_predict_args():
    return {"ints": fields.List(fields.Int()), "strs": fields.List(fields.Str()),
            "slow": SlowText(), "x": fields.Int(load_default=1)}
def predict(**kwargs):
    return {name: len(value) if isinstance(value, (list, str)) else value
            for name, value in kwargs.items()}
'''


class Server:
    """A deepaas-run serving loopmod on a free port, stopped on exit."""

    def __init__(self, root: Path, *flags: str) -> None:
        self.proc, self.base = serve(root, "loopmod", root / "data", *flags)

    def memory_kib(self, field: str) -> int:
        """VmRSS (now) or VmHWM (the peak) of the server process."""
        for line in Path("/proc/%d/status" % self.proc.pid).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError("no %s" % field)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def _poll_health(session: aiohttp.ClientSession, base: str, until) -> list[float]:
    """Latencies (ms) of /v2/health/live, one request every 50 ms, while ``until()`` is false."""
    times: list[float] = []
    while not until() or not times:
        began = time.perf_counter()
        async with session.get(base + "/v2/health/live") as resp:
            await resp.read()
        took = time.perf_counter() - began
        times.append(took * 1000)
        await asyncio.sleep(max(0.0, POLL_EVERY - took))
    return times


def _summary(times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 \
        else times * 99
    return "n=%4d  p50=%7.2f ms  p99=%7.2f ms  max=%7.2f ms" % (
        len(times), cuts[49], cuts[98], max(times))


async def _during(session: aiohttp.ClientSession, base: str, body: bytes) -> tuple[str, float]:
    url = base + "/v2/models/loopmod/predict/"
    began = time.monotonic()
    post = asyncio.ensure_future(session.post(url, data=body,
                                              headers={"Content-Type": "application/json"}))
    times = await _poll_health(session, base, post.done)
    resp = await post
    assert resp.status == 200, await resp.text()
    return _summary(times), time.monotonic() - began


async def latency(root: Path) -> None:
    ints = json.dumps({"ints": [i % 1000 for i in range(ITEMS)]}).encode()
    strs = json.dumps({"strs": ["s%d" % (i % 1000) for i in range(ITEMS)]}).encode()
    with Server(root) as server:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, server.base)
            deadline = time.monotonic() + SECONDS
            idle = _summary(await _poll_health(session, server.base,
                                               lambda: time.monotonic() > deadline))
            with_ints, ints_took = await _during(session, server.base, ints)
            with_strs, strs_took = await _during(session, server.base, strs)
            hop, tiny = await _hop_cost(session, server.base)
    print("\n/v2/health/live, polled every %d ms (target: under 100 ms while a 2M list is "
          "validated)" % (POLL_EVERY * 1000))
    print("  idle:                              " + idle)
    print("  2M ints in flight (%4.1f MB, %4.1f s): " % (len(ints) / 1e6, ints_took) + with_ints)
    print("  2M strs in flight (%4.1f MB, %4.1f s): " % (len(strs) / 1e6, strs_took) + with_strs)
    print("\nA tiny predict (JSON body of a few bytes, on the loop): p50 %.0f us; a hop to a "
          "thread and back: %.0f us (%.0f%% of the request, twice per request if offloaded)"
          % (tiny, hop, 100 * hop / tiny))


async def _hop_cost(session: aiohttp.ClientSession, base: str) -> tuple[float, float]:
    def nothing() -> None:
        return None

    for _ in range(200):
        await asyncio.to_thread(nothing)
    began, count = time.perf_counter(), 2000
    for _ in range(count):
        await asyncio.to_thread(nothing)
    hop = (time.perf_counter() - began) / count * 1e6
    url = base + "/v2/models/loopmod/predict/"
    times = []
    for _ in range(500):
        began = time.perf_counter()
        async with session.post(url, json={"x": 2}) as resp:
            await resp.read()
        times.append((time.perf_counter() - began) * 1e6)
    return hop, statistics.median(times[50:])


async def _flood(server: Server, count: int, size: int) -> tuple[dict[int, int], float]:
    body = json.dumps({"slow": "x" * size}).encode()
    url = server.base + "/v2/models/loopmod/predict/"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await wait_ready(session, server.base)
        idle = server.memory_kib("VmRSS")

        async def one() -> int:
            async with session.post(url, data=body,
                                    headers={"Content-Type": "application/json"}) as resp:
                await resp.read()
                return resp.status

        statuses = await asyncio.gather(*(one() for _ in range(count)))
    answers = {s: statuses.count(s) for s in sorted(set(statuses))}
    return answers, (server.memory_kib("VmHWM") - idle) / 1024


async def memory(root: Path) -> None:
    count, size = 48, 15 * 2**20
    results = {}
    for label, flags in (("--max-buffered 256MiB (default)", ()),
                         ("--max-buffered 0 (no bound)", ("--max-buffered", "0"))):
        with Server(root, *flags) as server:
            results[label] = await _flood(server, count, size)
    print("\n%d concurrent JSON bodies of %d MiB, each validated for 1 s" % (count, size >> 20))
    for label, (answers, peak) in results.items():
        print("  %-32s answers %s  peak RSS above idle %6.0f MiB" % (label, answers, peak))
    (_, bounded), (_, unbounded) = results.values()
    print("  bounded / unbounded peak: %.2f" % (bounded / unbounded))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = module_dir(Path(tmp) / "mod", "loopmod", MODULE)
        asyncio.run(latency(root))
        asyncio.run(memory(root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
