"""File arguments given as URLs, fetched by the server from real HTTP and WebDAV servers on
loopback: predict and train alike, cached, refused when they should be; outputs uploaded."""

from __future__ import annotations

import asyncio
import logging
import subprocess
from pathlib import Path

import pytest

from tests.api.test_train import URL as TRAIN
from tests.api.test_train_outputs import WEIGHTS
from tests.cmd.test_cli import CLI, ok_json
from tests.helpers import poll_job

PREDICT = "/v2/models/remote/predict/"


@pytest.fixture
def remote_settings(tmp_path, webdav_server):
    """Remote data allowed from the loopback test servers, with WebDAV credentials."""
    return {"remote_data": ("http://127.0.0.1:*", "webdav://127.0.0.1:*"),
            "remote_private": True, "storage_auth": (webdav_server.auth_entry,),
            "cache_dir": str(tmp_path / "cache")}


async def _predict(client, url):
    resp = await client.post(PREDICT, data={"data": url})
    return resp.status, await resp.json()


async def test_predict_takes_a_url_over_http_and_webdav(make_client, remote_settings,
                                                          http_files, webdav_server, tmp_path,
                                                          caplog):
    caplog.set_level(logging.DEBUG)
    client = await make_client("remote", **remote_settings)
    status, body = await _predict(client, http_files.write("cats/tabby.csv", b"whiskers"))
    assert status == 200, body
    assert body["predictions"]["data"] == "whiskers"
    assert body["predictions"]["name"] == "tabby.csv"
    webdav_server.write("sets/dogs.txt", b"woof")
    status, body = await _predict(client, webdav_server.url + "/sets/dogs.txt")
    assert status == 200, body
    assert (body["predictions"]["data"], body["predictions"]["name"]) == ("woof", "dogs.txt")
    # a Nextcloud public share link: the file's own name comes from the server
    http_files.share("AbC123", b"shared rows")
    status, body = await _predict(client, http_files.url + "/s/AbC123")
    assert status == 200, body
    assert (body["predictions"]["data"], body["predictions"]["name"]) == ("shared rows",
                                                                         "data.csv")
    # the request's copies are gone; the cache keeps its entries
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("deepaas")] == []
    assert "dogs.txt" in caplog.text and webdav_server.password not in caplog.text


async def test_trainings_on_one_dataset_download_it_once_until_it_changes(
        make_client, remote_settings, http_files):
    client = await make_client("trainer", **remote_settings)
    url = http_files.write("big/train.csv", b"version one")

    async def train() -> dict:
        resp = await client.post(TRAIN, data={"data": url})
        assert resp.status == 200, await resp.text()
        return await poll_job(client, TRAIN, (await resp.json())["uuid"])

    first, second = await train(), await train()
    assert first["result"]["output"]["data"] == second["result"]["output"]["data"] == (
        "version one")
    assert http_files.gets["/files/big/train.csv"] == 1  # the second came from the cache
    # the record says where the data came from
    assert first["args"]["data"] == ["data", "text/csv", "train.csv", url]
    http_files.write("big/train.csv", b"version two")
    third = await train()
    assert third["result"]["output"]["data"] == "version two"
    assert http_files.gets["/files/big/train.csv"] == 2
    metrics = await (await client.get("/metrics")).text()
    assert 'deepaas_remote_files_total{source="download"} 2.0' in metrics
    assert 'deepaas_remote_files_total{source="cache"} 1.0' in metrics


@pytest.mark.parametrize("overrides, url, status, words", [
    ({"remote_data": ()}, "/files/a.txt", 403, "remote data is off"),
    ({"remote_data": ("webdav://127.0.0.1:*",)}, "/files/a.txt", 403, "not allowed"),
    ({"remote_private": False}, "/files/a.txt", 403, "loopback address"),
    ({}, "/files/missing.txt", 422, "missing.txt"),
    ({"remote_max_size": 4}, "/files/a.txt", 413, "limit"),
])
async def test_refused_missing_and_oversized_urls_are_clear_4xx(
        make_client, remote_settings, http_files, tmp_path, overrides, url, status, words):
    http_files.write("a.txt", b"some bytes")
    client = await make_client("remote", **{**remote_settings, **overrides})
    got, body = await _predict(client, http_files.url + url)
    assert got == status, body
    assert body["message"].startswith("data: ") and words in body["message"], body
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("deepaas")] == []


async def test_a_6to4_address_of_the_server_itself_is_refused(make_client, remote_settings,
                                                              http_files):
    # http_files listens on 127.0.0.1; 2002:7f00:1:: is that address through 6to4.
    http_files.write("a.txt", b"some bytes")
    client = await make_client("remote", **{**remote_settings, "remote_private": False,
                                            "remote_data": ("http://*:*",)})
    status, body = await _predict(client, "http://[2002:7f00:1::]:%d/files/a.txt" % http_files.port)
    assert status == 403, body
    assert "2002:7f00:1:: is a loopback address" in body["message"], body
    assert http_files.gets.get("/files/a.txt", 0) == 0


async def test_credentials_never_come_from_the_request(make_client, remote_settings,
                                                        webdav_server):
    client = await make_client("remote", **remote_settings)
    url = webdav_server.url.replace("://", "://alice:guess@") + "/sets/dogs.txt"
    status, body = await _predict(client, url)
    assert status == 403 and "guess" not in body["message"], body


async def test_outputs_are_uploaded_to_the_output_storage(make_client, remote_settings,
                                                          webdav_server):
    client = await make_client("trainer", output_storage=webdav_server.url + "/results",
                               **remote_settings)
    resp = await client.post(TRAIN, params={"outputs": "true"})
    job = await poll_job(client, TRAIN, (await resp.json())["uuid"])
    assert job["status"] == "done"
    stored = {f["name"]: f for f in job["files"]}
    assert set(stored) == {"model.bin", "plots/loss.csv"}
    assert stored["model.bin"]["url"] == "%s/results/%s/model.bin" % (webdav_server.url,
                                                                      job["uuid"])
    assert (webdav_server.root / "results" / job["uuid"] / "model.bin").read_bytes() == WEIGHTS
    assert "alice" not in str(job["files"]) and webdav_server.password not in str(job["files"])


def test_deepaas_cli_fetches_a_url_given_for_a_file_argument(tmp_path, http_files):
    url = http_files.write("cli/input.txt", b"hello remote")
    body = ok_json(subprocess.run(
        [str(CLI), "--model-name", "compatmod", "predict", "--repeat", "1", "--data", url],
        capture_output=True, text=True, timeout=120, cwd=tmp_path))
    assert body["data"] == ["data", "input.txt", 12]  # what predict returned


async def test_without_a_tmp_dir_the_file_handed_out_is_a_hard_link_to_the_cache(
        make_client, remote_settings, http_files):
    client = await make_client("remote", tmp_dir="", **remote_settings)
    status, body = await _predict(client, http_files.write("linked.txt", b"one copy"))
    assert status == 200 and body["predictions"]["data"] == "one copy"
    assert body["predictions"]["links"] == 2  # the module's file and the cache's: one inode
    cached = [p for p in Path(remote_settings["cache_dir"]).rglob("*")
              if p.is_file() and p.read_bytes() == b"one copy"]
    assert len(cached) == 1  # no second copy, and the one handed out is gone
    assert cached[0].stat().st_nlink == 1


async def test_concurrent_requests_for_one_url_download_it_once(make_client, remote_settings,
                                                                http_files):
    client = await make_client("remote", workers=4, **remote_settings)
    url = http_files.write("popular.csv", b"everyone wants this")
    answers = await asyncio.gather(*(_predict(client, url) for _ in range(6)))
    assert [status for status, _ in answers] == [200] * 6
    assert {body["predictions"]["data"] for _, body in answers} == {"everyone wants this"}
    assert http_files.gets["/files/popular.csv"] == 1


@pytest.mark.parametrize("value", ["file:///etc/passwd", "/etc/passwd", "foo", "",
                                   "ftp://127.0.0.1/a.txt"])
@pytest.mark.parametrize("remote_on", [True, False])
async def test_a_file_argument_that_is_neither_a_file_nor_a_url_is_422(
        make_client, remote_settings, value, remote_on):
    overrides = remote_settings if remote_on else {}
    client = await make_client("remote", **overrides)
    status, body = await _predict(client, value)
    assert (status, body) == (422, {"data": [
        "Not a file: upload one, or give a URL this server may fetch."]})
    trainer = await make_client("trainer", **overrides)
    resp = await trainer.post(TRAIN, params={"data": value})
    assert resp.status == 422 and "data" in await resp.json()


def test_deepaas_cli_takes_a_path_beside_a_url(tmp_path, http_files, monkeypatch):
    from deepaas.cmd.cli_options import temp_uploads
    from tests.conftest import wrapper

    monkeypatch.chdir(tmp_path)  # the CLI's cache goes to ./deepaas-data
    local = tmp_path / "local.txt"
    local.write_text("from disk")
    url = http_files.write("far.txt", b"from afar")
    spec = wrapper("basic").predict_args
    with temp_uploads(spec, {"data": str(local), "other": url}) as converted:
        texts = {name: Path(converted[name].filename).read_text() for name in ("data", "other")}
    assert texts == {"data": "from disk", "other": "from afar"}
