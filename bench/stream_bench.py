"""Streamed predictions: time to the first item and the cost of each item, deepaas against
LitServe, on the same generator, in one run.

    make bench      # installs LitServe into .venv-bench (never into deepaas' environment)
    .venv/bin/python bench/stream_bench.py [--litserve-python .venv-bench/bin/python]

Both servers run at once on loopback and stream the very same generator source: ``n`` small
JSON values, optionally after ``delay`` seconds of "model" before the first. Requests go one
at a time, alternating between the servers, so that both see the same moments of a shared
machine. For each request the client measures the time to the first item (request sent ->
first full line received) and the whole answer; the per-item overhead is (whole answer - the
generator's own time, measured here) / n. Both answers are NDJSON lines (deepaas' default;
LitServe writes each dict its ``encode_response`` yields as one JSON line). A third variant,
deepaas only, sends the same items from an async generator: the difference from the first is
what stepping a sync generator on a thread costs per item. Without LitServe (no such
interpreter, or it lacks the package) only deepaas is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import aiohttp
from benchlib import free_port, module_dir, serve, wait_ready

ROOT = Path(__file__).resolve().parents[1]
N = 200
DELAY = 0.05
WARMUP, ROUNDS = 5, 40

# The generator both servers stream, written once and pasted into each server's module.
GENERATOR = '''
import time


def items(n, delay):
    if delay:
        time.sleep(delay)  # the model's own time to its first output
    for i in range(n):
        yield {"i": i, "token": "tok%d" % i}
'''

DEEPAAS_MODULE = GENERATOR + '''

from webargs import fields


def get_predict_args():
    return {"n": fields.Int(load_default=200), "delay": fields.Float(load_default=0.0),
            "mode": fields.Str(load_default="sync")}


async def _async_items(n, delay):
    for item in items(n, delay):  # the same values, from an async generator (delay 0)
        yield item


def predict(n, delay, mode):
    return _async_items(n, delay) if mode == "async" else items(n, delay)
'''

LITSERVE_SERVER = GENERATOR + '''

import sys

import litserve as ls


class Stream(ls.LitAPI):
    def setup(self, device):
        pass

    def decode_request(self, request):
        return request

    def predict(self, request):
        yield from items(request["n"], request["delay"])  # LitServe wants a generator function

    def encode_response(self, outputs):
        yield from outputs  # each dict becomes one JSON line


if __name__ == "__main__":
    server = ls.LitServer(Stream(stream=True), accelerator="cpu", workers_per_device=1)
    server.run(host="127.0.0.1", port=int(sys.argv[1]), num_api_servers=1,
               log_level="warning", generate_client_file=False)
'''


class Target:
    """One server under test: where to POST, and how it stops."""

    def __init__(self, name: str, url: str, health: str, proc: subprocess.Popen,
                 log: Path | None = None, modes: tuple[str, ...] = ("sync",)) -> None:
        self.name, self.url, self.health, self.proc, self.log = name, url, health, proc, log
        self.modes = modes  # the kinds of generator its module offers
        self.samples: dict[str, list[tuple[float, float]]] = {}

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log else ""

    def stop(self) -> None:
        # LitServe starts worker processes in its own session: that is stopped whole
        whole = self.name == "LitServe"
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, sig) if whole else self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
                return
            except subprocess.TimeoutExpired:
                continue


def _deepaas(tmp: Path, isolate: bool = False) -> Target:
    """deepaas-run serving the bench module: on its threads, or (``isolate``) in a worker
    process, as LitServe runs its model (items then come over the worker's socket)."""
    folder = tmp / ("isolate" if isolate else "threads")
    folder.mkdir()
    root = module_dir(folder / "mod", "streambench", DEEPAAS_MODULE)
    proc, base = serve(root, "streambench", folder / "data", "--nometrics",
                       *(["--isolate"] if isolate else []))
    return Target("deepaas --isolate" if isolate else "deepaas",
                  base + "/v2/models/streambench/predict/", base + "/v2/health/ready", proc,
                  modes=("sync", "async"))


def _litserve_missing(python: Path) -> str | None:
    """Why LitServe cannot be measured with ``python``, or None when it can."""
    if not python.exists():
        return "no interpreter at %s" % python
    check = subprocess.run([str(python), "-c", "import litserve; print(litserve.__version__)"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        return "%s cannot import litserve" % python
    print("LitServe %s (%s)" % (check.stdout.strip(), python))
    return None


def _litserve(tmp: Path, python: Path) -> Target:
    script = tmp / "litserve_server.py"
    script.write_text(textwrap.dedent(LITSERVE_SERVER))
    port = free_port()
    log = tmp / "litserve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(python), str(script), str(port)], cwd=tmp, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = "http://127.0.0.1:%d" % port
    return Target("LitServe", base + "/predict", base + "/health", proc, log)


async def _ready(session: aiohttp.ClientSession, target: Target, timeout: float = 60) -> None:
    if target.name == "deepaas":
        await wait_ready(session, target.url.split("/v2/")[0], timeout)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if target.proc.poll() is not None:
            raise RuntimeError("%s exited at start:\n%s" % (target.name, target.log_tail()))
        try:
            async with session.get(target.health) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("%s did not start" % target.name)


async def _one(session: aiohttp.ClientSession, url: str, n: int, delay: float, mode: str
               ) -> tuple[float, float]:
    """(time to the first item, whole answer) in seconds, for one streamed request."""
    body = {"n": n, "delay": delay, "mode": mode}
    began = time.perf_counter()
    first, count = 0.0, 0
    async with session.post(url, json=body) as resp:
        assert resp.status == 200, "%s answered %d" % (url, resp.status)
        async for line in resp.content:  # one full line at a time
            if not count:
                first = time.perf_counter()
            count += 1
            if count == n:
                json.loads(line)  # a whole value, not a fragment
    assert count == n, "%s sent %d lines of %d" % (url, count, n)
    return first - began, time.perf_counter() - began


def _own_time(n: int, delay: float) -> float:
    """What the generator itself takes, here, outside any server (best of 5)."""
    space: dict[str, Any] = {}
    exec(GENERATOR, space)
    times = []
    for _ in range(5):
        began = time.perf_counter()
        for _item in space["items"](n, delay):
            pass
        times.append(time.perf_counter() - began)
    return min(times)


VARIANTS = {"%d items, no delay" % N: (N, 0.0, "sync"),
            "%d items, %d ms before the first" % (N, DELAY * 1000): (N, DELAY, "sync"),
            # what a thread's hand-over per item costs: the same items from an async generator
            "%d items, async generator" % N: (N, 0.0, "async")}


async def _measure(targets: list[Target]) -> None:
    async with aiohttp.ClientSession() as session:
        for target in targets:
            await _ready(session, target)
        for label, (n, delay, mode) in VARIANTS.items():
            runs = [t for t in targets if mode in t.modes]
            for target in runs:
                for _ in range(WARMUP):
                    await _one(session, target.url, n, delay, mode)
            for _ in range(ROUNDS):  # alternating, so that both see the same machine
                for target in runs:
                    sample = await _one(session, target.url, n, delay, mode)
                    target.samples.setdefault(label, []).append(sample)


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _row(target: Target, label: str, own: float, n: int) -> dict[str, float]:
    firsts = [s[0] * 1000 for s in target.samples[label]]
    per_item = [(s[1] - own) / n * 1e6 for s in target.samples[label]]
    wholes = [s[1] * 1000 for s in target.samples[label]]
    return {"ttfi50": _p(firsts, 50), "ttfi90": _p(firsts, 90), "whole50": _p(wholes, 50),
            "item50": _p(per_item, 50), "item90": _p(per_item, 90)}


def _report(targets: list[Target]) -> None:
    print("\n| variant | server | TTFI p50 / p90 ms | whole answer p50 ms "
          "| per-item overhead p50 / p90 us |")
    print("|---|---|---|---|---|")
    ratios = []
    for label, (n, delay, _) in VARIANTS.items():
        own = _own_time(n, delay)
        rows = {t.name: _row(t, label, own, n) for t in targets if label in t.samples}
        for name, r in rows.items():
            print("| %s | %s | %.2f / %.2f | %.2f | %.1f / %.1f |" % (
                label, name, r["ttfi50"], r["ttfi90"], r["whole50"], r["item50"], r["item90"]))
        lit = rows.get("LitServe")
        for name, d in rows.items() if lit is not None else ():
            if name == "LitServe":
                continue
            ratios.append("%s, %s: TTFI %.2fx, TTFI beyond the module's %.0f ms %.2fx, "
                          "per-item overhead %.2fx" % (
                              label, name, d["ttfi50"] / lit["ttfi50"], delay * 1000,
                              (d["ttfi50"] - delay * 1000) / (lit["ttfi50"] - delay * 1000),
                              d["item50"] / lit["item50"]))
        print("| %s | the generator alone | %.2f | %.2f | |" % (label, delay * 1000, own * 1000))
    if ratios:
        print("\ndeepaas / LitServe (p50, lower is better for deepaas):")
        for line in ratios:
            print("  " + line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # absolute, not resolved: the server starts in another folder, and resolving the venv's
    # python link would leave the venv
    parser.add_argument("--litserve-python", type=lambda text: Path(os.path.abspath(text)),
                        default=ROOT / ".venv-bench" / "bin" / "python",
                        help="an interpreter that has litserve (default: .venv-bench's)")
    options = parser.parse_args()
    print("streamed predictions: %d rounds of each variant per server (after %d warm-up), "
          "%d CPUs" % (ROUNDS, WARMUP, os.cpu_count() or 0))
    with tempfile.TemporaryDirectory() as tmp:
        targets = [_deepaas(Path(tmp)), _deepaas(Path(tmp), isolate=True)]
        missing = _litserve_missing(options.litserve_python)
        if missing:
            print("LitServe skipped: %s. `make bench` installs it into .venv-bench "
                  "(pip install litserve); without a package index only deepaas is measured."
                  % missing)
        else:
            targets.append(_litserve(Path(tmp), options.litserve_python))
        try:
            asyncio.run(_measure(targets))
        finally:
            for target in targets:
                target.stop()
        _report(targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
