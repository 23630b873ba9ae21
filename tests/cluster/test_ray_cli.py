"""deepaas-run as a real process joining a Ray cluster by address; the default server never
loads Ray or a PostgreSQL driver."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.cmd.test_run import _start, _stop

pytestmark = pytest.mark.cluster


def _call(method: str, url: str) -> dict:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def test_deepaas_run_trains_on_the_cluster_at_ray_address(tmp_path, ray_cluster):
    proc, base = _start(tmp_path, "--model-name", "demo", "--executor", "ray",
                        "--ray-address", ray_cluster, "--ray-cpus", "0.5")
    try:
        url = base + "/v2/models/demo/train/"
        job = _call("POST", url + "?epochs=2&epoch_seconds=0.05")
        deadline = time.monotonic() + 90
        while job["status"] == "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
            job = _call("GET", url + job["uuid"])
        assert job["status"] == "done", job
        assert [m["step"] for m in job["metrics"]] == [1, 2]
        with urllib.request.urlopen(url + job["uuid"] + "/logs", timeout=10) as resp:
            assert b"epoch" in resp.read().lower()
    finally:
        code, _ = _stop(proc, 2)
    assert code == 0


def test_the_default_server_imports_neither_ray_nor_a_database_driver(tmp_path):
    script = (
        "import sys, asyncio\n"
        "from deepaas.api.app import create_app\n"
        "from deepaas.config import Settings\n"
        "from deepaas.model.loading import load_models\n"
        "from aiohttp.test_utils import TestServer, TestClient\n"
        "async def main():\n"
        "    app = create_app(Settings(data_dir=%r), load_models(['demo']))\n"
        "    async with TestClient(TestServer(app)) as client:\n"
        "        resp = await client.post('/v2/models/demo/train/?epochs=1&epoch_seconds=0')\n"
        "        assert resp.status == 200\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('ray', 'asyncpg', 'psycopg')))\n" % str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
