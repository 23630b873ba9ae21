"""The job index rebuilt from the job folders, measured with a real deepaas-run on loopback.

    .venv/bin/python bench/index_bench.py [N ...]     (default: 9 1000)

For N job folders (ended trainings, 10 metrics points each): the seconds a deepaas-run takes
to listen with its index intact, then with the index emptied (rebuilt from the folders), and
what its log said. Then the cost of one record write: SQLite alone, and folder + SQLite.
Set BENCH_DIR to measure on another file system than the temp dir's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from deepaas.jobs.folders import JobFolders, metrics_text, record_text
from deepaas.jobs.indexed import IndexedStore
from deepaas.jobs.records import Job, JobStatus
from deepaas.jobs.sqlite import SQLiteStore

BIN = Path(sys.executable).with_name("deepaas-run")


def _job(i: int) -> Job:
    when = datetime.datetime(2026, 1, 1) + datetime.timedelta(minutes=i)
    return Job(uuid="%032x" % i, model="compatmod", args={"epochs": i, "sleep": 0.0},
               date=when, status=JobStatus.DONE, start_date=when, finish_date=when,
               output={"epochs": i, "loss": 0.1}, progress={"step": 10, "total": 10})


def _make_folders(data: Path, count: int) -> None:
    folders = JobFolders(data / "jobs")
    for i in range(count):
        (data / "jobs" / _job(i).uuid / "output").mkdir(parents=True)
        folders.write(_job(i).uuid, record_text(_job(i)))
        folders.append_metrics(_job(i).uuid, metrics_text({"step": s} for s in range(10)))


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data: Path) -> tuple[float, str]:
    """Seconds until the server answers, and its log (after a clean stop)."""
    port = _port()
    began = time.monotonic()
    proc = subprocess.Popen([str(BIN), "--listen-port", str(port), "--data-dir", str(data),
                             "--model-name", "compatmod"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    while True:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/v2/" % port, timeout=5).read()
            break
        except OSError:
            time.sleep(0.02)
    took = time.monotonic() - began
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    return took, out


async def _write_cost(data: Path, count: int = 200) -> tuple[float, float]:
    """Milliseconds per write of a running training's record (its progress): SQLite alone,
    folder + SQLite."""
    running = [dataclasses.replace(_job(i), status=JobStatus.RUNNING) for i in range(count)]
    for job in running:
        (data / "jobs" / job.uuid).mkdir(parents=True)
    costs = []
    for store in (SQLiteStore(data / "alone.sqlite3"),
                  IndexedStore(SQLiteStore(data / "both.sqlite3"), data / "jobs")):
        await store.open()
        began = time.perf_counter()
        for job in running:
            await store.put(job)
        costs.append((time.perf_counter() - began) / count * 1000)
        await store.close()
    return costs[0], costs[1]


def main(counts: list[int]) -> None:
    for count in counts:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
            data = Path(tmp)
            _make_folders(data, count)
            _serve(data)  # builds the index
            intact, _ = _serve(data)
            os.truncate(data / "jobs.sqlite3", 0)
            rebuilt, log = _serve(data)
            said = [line.split(": ", 1)[1] for line in log.splitlines() if "rebuilt" in line]
            print("%5d folders: listens after %.2f s with the index intact, %.2f s rebuilding "
                  "it (%s)" % (count, intact, rebuilt, "; ".join(said)))
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        alone, both = asyncio.run(_write_cost(Path(tmp)))
        print("one record write: %.2f ms to SQLite alone, %.2f ms to its folder and SQLite"
              % (alone, both))


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [9, 1000])
