"""Secret arguments in the dashboard (headless Chromium, a real deepaas-run serving
tests/models/secretive.py): typed unseen, sent, and never shown back; browser and page come
from test_e2e."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cmd.test_secrets import secretive_installed
from tests.dashboard import test_e2e as e2e
from tests.dashboard.serving import deepaas_run
from tests.models.secretive import digest

playwright = e2e.playwright
pytestmark = e2e.pytestmark
browser = e2e.browser  # the same fixtures, shared by name
page = e2e.page


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[str]:
    """deepaas-run serving secretive; answers the dashboard's URL."""
    tmp = tmp_path_factory.mktemp("secrets-dashboard")
    with deepaas_run(tmp / "data", "--model-name", "secretive",
                     env={**os.environ, **secretive_installed(tmp / "entry")}) as base:
        yield base + "/dashboard/"


def _fill(page: Any, prefix: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill("#%s-%s" % (prefix, name), value)
    page.get_by_test_id("%s-submit" % prefix).click()


def test_secrets_are_typed_unseen_and_never_shown_back(page: Any, server: str) -> None:
    expect = playwright.expect
    mark = uuid.uuid4().hex
    secrets = {"token": "tok-" + mark, "apiKey": "key-" + mark, "legacy": "leg-" + mark}
    page.goto(server + "#/models/secretive/try")
    expect(page.get_by_test_id("predict-form")).to_be_visible()
    for name in secrets:  # format: password, load_only (writeOnly) and the legacy keyword
        assert page.get_attribute("#predict-%s" % name, "type") == "password"
    assert page.get_attribute("#predict-note", "type") == "text"
    _fill(page, "predict", {**secrets, "note": "seen"})
    expect(page.get_by_test_id("result-json")).to_contain_text('"got"')
    answer = json.loads(page.locator("pre#result-json").inner_text())["predictions"]
    assert answer == {"got": digest(*secrets.values()), "note": "seen"}  # the real values
    page.goto(server + "#/models/secretive/train")
    expect(page.get_by_test_id("train-form")).to_be_visible()
    _fill(page, "train", secrets)
    row = page.locator("[data-testid^=job-row-]").first
    uuid_ = row.get_attribute("data-testid").removeprefix("job-row-")
    page.get_by_test_id("job-link-%s" % uuid_).click()
    expect(page.get_by_test_id("job-status")).to_have_text("done", timeout=30000)
    assert mark not in page.content()
