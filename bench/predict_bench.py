"""Prediction throughput and latency with wrk, all measured in one run on this machine.

    .venv/bin/python bench/predict_bench.py        (or: make bench)

Scenario 1, a trivial predict at 32 connections (and at 1, for latency):
  (a) deepaas, default mode (threads)   (b) deepaas --isolate (worker processes)
  (c) a bare aiohttp handler answering the same JSON (the ceiling)
  (d) the reference DEEPaaS 2.6.0, installed in a scratch virtualenv on first use
Scenario 2, a numpy model whose cost is mostly per call, at 64 connections: predict() one
request at a time vs predict_batch() over gathered requests.

Environment: BENCH_SECONDS (default 10) per measurement, BENCH_REF_VENV (default
/tmp/deepaas-ref-bench) for the reference.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
REF_VENV = Path(os.environ.get("BENCH_REF_VENV", "/tmp/deepaas-ref-bench"))
BIN = Path(sys.executable).parent

MODULES = {
    "trivial": '''
        def predict(**kwargs):
            return {"label": "cat", "score": 0.99}
    ''',
    "matmul": '''
        import numpy as np
        from webargs import fields
        N = 4096  # a 128 MB weight: reading it dominates one request's cost
        W = np.random.default_rng(0).standard_normal((N, N))  # float64, numpy's default
        def get_predict_args():
            return {"seed": fields.Int(load_default=1)}
        def predict(**kwargs):
            x = np.full((1, N), float(kwargs["seed"]))
            return {"norm": float(np.linalg.norm(x @ W))}
    ''',
    "matmul_batched": '''
        import numpy as np
        from webargs import fields
        N = 4096  # a 128 MB weight: reading it dominates one request's cost
        W = np.random.default_rng(0).standard_normal((N, N))  # float64, numpy's default
        max_batch_size = 64
        max_batch_delay_ms = 5
        def get_predict_args():
            return {"seed": fields.Int(load_default=1)}
        def predict_batch(batch):
            seeds = np.array([k["seed"] for k in batch], dtype=np.float64)
            x = np.repeat(seeds[:, None], N, axis=1)
            return [{"norm": float(n)} for n in np.linalg.norm(x @ W, axis=1)]
        def predict(**kwargs):
            return predict_batch([kwargs])[0]
    ''',
}

BARE = '''
import sys
from aiohttp import web
async def handler(request):
    return web.json_response({"status": "OK", "predictions": {"label": "cat", "score": 0.99}})
app = web.Application()
app.router.add_post("/v2/models/trivial/predict/", handler)
try:
    import uvloop
    loop = uvloop.new_event_loop()
except ImportError:
    loop = None
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, loop=loop)
'''

POST_LUA = 'wrk.method = "POST"\n'


def _modules(root: Path) -> None:
    root.mkdir(parents=True)
    info = root / "benchmods-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: benchmods\nVersion: 0.1\n")
    entries = ["[deepaas.v2.model]"]
    for name, code in MODULES.items():
        (root / ("bench_%s.py" % name)).write_text(textwrap.dedent(code))
        entries.append("%s = bench_%s" % (name, name))
    (info / "entry_points.txt").write_text("\n".join(entries) + "\n")
    (root / "bare.py").write_text(BARE)
    (root / "post.lua").write_text(POST_LUA)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reference() -> Path:
    if not (REF_VENV / "bin" / "deepaas-run").exists():
        print("installing the reference deepaas 2.6.0 into %s ..." % REF_VENV, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(REF_VENV)], check=True)
        subprocess.run([str(REF_VENV / "bin" / "pip"), "install", "-q", "deepaas==2.6.0",
                        "numpy"], check=True, stdout=subprocess.DEVNULL)
    return REF_VENV / "bin"


class Server:
    """A server process on a free port, stopped on exit."""

    def __init__(self, argv: list[str], root: Path, path: str = "/v2/") -> None:
        self.port = _port()
        env = {**os.environ, "PYTHONPATH": str(root)}
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(argv, env=env, cwd=root, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request(self.base + path, method="POST", data=b"")
                urllib.request.urlopen(req, timeout=5).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start: %s" % argv)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.proc.pid, 2)  # SIGINT: the reference ignores SIGTERM
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)


def _unit(value: str, unit: str) -> float:
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
    return float(value) * scale


def wrk(url: str, root: Path, connections: int) -> dict[str, float]:
    threads = min(2, connections)
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % SECONDS,
                          "--latency", "-s", str(root / "post.lua"), url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def ms(text: str) -> float:
        number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
        return _unit(number, unit)

    return {"rps": rps, "p50": ms(lat["50"]), "p99": ms(lat["99"]),
            "errors": float(errors.group(1)) if errors else 0.0}


def _row(name: str, r: dict[str, float], ratios: str = "") -> str:
    bad = "  (%d non-2xx)" % r["errors"] if r["errors"] else ""
    return "| %-30s | %9.0f | %8.2f | %8.2f | %s%s |" % (name, r["rps"], r["p50"], r["p99"],
                                                         ratios, bad)


def trivial(root: Path) -> None:
    run = str(BIN / "deepaas-run")
    setups = {
        "deepaas (threads)": [run, "--listen-port", "{port}", "--model-name", "trivial"],
        "deepaas --nometrics": [run, "--listen-port", "{port}", "--model-name", "trivial",
                                "--nometrics"],
        "deepaas --isolate": [run, "--listen-port", "{port}", "--model-name", "trivial",
                              "--isolate"],
        "bare aiohttp handler": [sys.executable, str(root / "bare.py"), "{port}"],
        "DEEPaaS 2.6.0 (reference)": [str(_reference() / "deepaas-run"), "--listen-port",
                                      "{port}", "--model-name", "trivial"],
    }
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, argv in setups.items():
        path = "/v2/models/trivial/predict/"
        with Server(argv, root, path) as server:
            wrk(server.base + path, root, 8)  # warm-up
            results[name] = {"c32": wrk(server.base + path, root, 32),
                             "c1": wrk(server.base + path, root, 1)}
    ref, bare = results["DEEPaaS 2.6.0 (reference)"], results["bare aiohttp handler"]
    print("\nTrivial predict, %d s per run, wrk -c32 (and -c1 for the latency line)" % SECONDS)
    print("| server                         |     req/s |  p50 ms  |  p99 ms  | ratios |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        ratios = "%.1fx reference, %.2fx bare" % (r["c32"]["rps"] / ref["c32"]["rps"],
                                                  r["c32"]["rps"] / bare["c32"]["rps"])
        print(_row(name, r["c32"], ratios))
    print("\nOne connection (latency):")
    for name, r in results.items():
        print(_row(name, r["c1"], "p50 %+.2f ms vs bare" % (r["c1"]["p50"] - bare["c1"]["p50"])))


def batching(root: Path) -> None:
    run = str(BIN / "deepaas-run")
    argv = [run, "--listen-port", "{port}", "--model-name", "matmul", "--model-name",
            "matmul_batched", "--max-queue", "256"]
    with Server(argv, root, "/v2/models/matmul/predict/") as server:
        plain = server.base + "/v2/models/matmul/predict/"
        batched = server.base + "/v2/models/matmul_batched/predict/"
        wrk(plain, root, 8)
        wrk(batched, root, 8)
        one, many = wrk(plain, root, 64), wrk(batched, root, 64)
    print("\nnumpy model (1x4096 @ 4096x4096 float64 per request), wrk -c64")
    print("| mode                           |     req/s |  p50 ms  |  p99 ms  | ratio |")
    print("|---|---|---|---|---|")
    print(_row("predict (unbatched)", one, "1.0x"))
    print(_row("predict_batch (batched)", many, "%.1fx unbatched" % (many["rps"] / one["rps"])))


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mods"
        _modules(root)
        print("machine: %d cores, %s" % (os.cpu_count() or 0, sys.version.split()[0]))
        which = sys.argv[1:] or ["trivial", "batching"]
        if "trivial" in which:
            trivial(root)
        if "batching" in which:
            batching(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
