"""A module failing with an empty message (a bare ``assert``) still says what failed."""

from __future__ import annotations

import pytest

from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper
from tests.helpers import poll_job

SOURCE = "tests.models.silent"
URL = "/v2/models/silent/"


@pytest.fixture
async def client(serve):
    return await serve(Registry.of(ModelWrapper("silent", resolve(SOURCE), SOURCE)))


@pytest.mark.parametrize("how, message", [
    ("bare", "AssertionError"), ("blank", "RuntimeError"), ("named", "'named'")])
async def test_training_record_names_the_exception(client, how, message):
    resp = await client.post(URL + "train/", params={"how": how})
    assert resp.status == 200, await resp.text()
    job = await poll_job(client, URL + "train/", (await resp.json())["uuid"])
    assert job["status"] == "error"
    assert job["message"] == message  # str(exc) when it says something, else the class


@pytest.mark.parametrize("how, tail", [
    ("bare", "predict: AssertionError"), ("named", "predict: KeyError: 'named'")])
async def test_predict_500_names_the_exception(client, how, tail):
    resp = await client.post(URL + "predict/", params={"how": how})
    assert resp.status == 500
    assert (await resp.json())["message"] == "Error in model 'silent' " + tail
