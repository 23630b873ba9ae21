"""What a training writes to its output dir: listed in the record and downloadable."""

from __future__ import annotations

import os

from deepaas import progress
from deepaas.api.keys import JOBS
from tests.api.test_train import URL
from tests.helpers import poll_job

WEIGHTS = b"\x00weights" * 100
LISTED = [{"name": "model.bin", "size": len(WEIGHTS)},
          {"name": "plots/loss.csv", "size": len("step,loss\n1,0.5\n")}]


async def _trained(client, **params):
    resp = await client.post(URL, params={"outputs": "true", **params})
    assert resp.status == 200, await resp.text()
    return await poll_job(client, URL, (await resp.json())["uuid"], timeout=60)


async def test_the_record_lists_the_outputs_and_the_api_serves_them(make_client):
    client = await make_client("trainer")
    job = await _trained(client)
    assert job["status"] == "done" and job["files"] == LISTED
    resp = await client.get(URL + job["uuid"] + "/files/model.bin")
    assert resp.status == 200 and await resp.read() == WEIGHTS
    assert 'filename="model.bin"' in resp.headers["Content-Disposition"]
    resp = await client.get(URL + job["uuid"] + "/files/plots/loss.csv")
    assert resp.status == 200 and (await resp.text()).startswith("step,loss")
    listed = await (await client.get(URL)).json()
    assert listed[0]["files"] == LISTED


async def test_no_file_outside_the_output_dir_is_served(make_client):
    client = await make_client("trainer")
    job = await _trained(client)
    for name in ("missing.bin", "../log.txt", "..%2Flog.txt", "%2E%2E/%2E%2E/jobs.sqlite3",
                 "plots/../../log.txt", "plots"):
        resp = await client.get(URL + job["uuid"] + "/files/" + name)
        assert resp.status == 404, (name, resp.status)
        assert "training starts" not in await resp.text()  # never the log, nor the database
    resp = await client.get(URL + "0" * 32 + "/files/model.bin")
    assert resp.status == 404


async def test_a_bad_name_is_a_404_that_shows_no_server_path(make_client):
    client = await make_client("trainer")
    job = await _trained(client)
    data_dir = str(client.server.app[JOBS].layout.output(job["uuid"]).parents[2])
    for name in ("x%00", "y" * 5000, "plots/" + "z" * 300 + "/a.bin"):
        resp = await client.get(URL + job["uuid"] + "/files/" + name)
        text = await resp.text()
        assert resp.status == 404 and resp.content_type == "application/json", name[:20]
        assert (await resp.json())["message"].startswith("no output file")
        assert data_dir not in text


async def test_links_a_training_makes_out_of_its_folder_are_neither_listed_nor_served(
        make_client, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("root:the hash")
    gate = tmp_path / "gate"
    client = await make_client("trainer")
    resp = await client.post(URL, params={"outputs": "true", "gate": str(gate)})
    uuid = (await resp.json())["uuid"]
    # while the training waits at the gate, it "makes" links beside its outputs
    folder = client.server.app[JOBS].layout.output(uuid)
    os.symlink(secret, folder / "shadow")
    os.symlink(tmp_path, folder / "up")
    gate.touch()
    job = await poll_job(client, URL, uuid, timeout=60)
    assert job["status"] == "done" and job["files"] == LISTED
    for name in ("shadow", "up/shadow"):
        resp = await client.get(URL + uuid + "/files/" + name)
        assert resp.status == 404 and "the hash" not in await resp.text()


async def test_a_training_without_outputs_lists_none(make_client):
    client = await make_client("trainer")
    resp = await client.post(URL)
    job = await poll_job(client, URL, (await resp.json())["uuid"])
    assert job["status"] == "done" and "files" not in job


def test_output_dir_outside_a_training_is_under_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPAAS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv(progress.ENV_OUTPUT_DIR, raising=False)
    assert progress.output_dir() == os.path.join(str(tmp_path), "output")
    assert os.path.isdir(progress.output_dir())
