"""The Swagger UI at ``/api`` in a real browser (headless Chromium, Playwright) on a real
deepaas-run serving the corpus's demo_app: the spec loads, and the predict operation, tried out
with an argument and an upload, shows the 200 and the JSON the module answered.

It relies on what swagger-ui-bundle's page reads: the ``urls`` the page names (swagger.json
first), ``in: query`` arguments with their defaults, ``in: formData`` + ``type: file`` for an
upload, and a JSON answer. The browser and page come from tests/dashboard/test_e2e.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard import test_e2e as e2e
from tests.dashboard.serving import deepaas_run

playwright = e2e.playwright
pytestmark = e2e.pytestmark
browser = e2e.browser  # the same fixtures, shared by name
page = e2e.page
PREDICT = "/v2/models/demo_app/predict/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[str]:
    """A real deepaas-run serving demo_app; answers its base URL."""
    with deepaas_run(tmp_path_factory.mktemp("swagger-ui-data"), "--model-name",
                     "demo_app") as base:
        yield base


def _operation(page: Any, path: str) -> Any:
    return page.locator(".opblock-post", has=page.locator('[data-path="%s"]' % path))


def test_spec_loads_and_a_prediction_with_an_upload_is_answered(page: Any, server: str,
                                                                 tmp_path: Path) -> None:
    expect = playwright.expect
    documents: list[tuple[str, int]] = []
    page.on("response", lambda r: documents.append((r.url, r.status))
            if r.url.endswith(".json") else None)
    page.goto(server + "/api")
    operation = _operation(page, PREDICT)
    expect(operation).to_be_visible()
    assert (server + "/swagger.json", 200) in documents
    expect(page.locator(".errors-wrapper")).to_have_count(0)  # the UI found no spec error
    expect(page.locator(".info .title")).to_contain_text("DEEP")

    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator('tr[data-param-name="demo-str"] input').fill("from the browser")
    upload = tmp_path / "tiny.png"
    upload.write_bytes(e2e._png(tmp_path / "made.png").read_bytes())
    operation.locator('tr[data-param-name="demo-image"] input[type=file]').set_input_files(
        str(upload))
    operation.locator("button.execute").click()

    live = operation.locator(".live-responses-table tr.response")
    expect(live.locator(".response-col_status")).to_have_text("200")
    url = operation.locator(".request-url pre").inner_text()
    assert "demo-str=from%20the%20browser" in url and "demo-int-range=50" in url
    answer = json.loads(live.locator(".highlight-code pre").first.inner_text())
    assert answer["demo-str"] == "from the browser"
    assert answer["demo-int-range"] == 50  # the default the UI filled in
    assert base64.b64decode(answer["demo-image"]) == upload.read_bytes()
    assert answer["labels"][0] == "class2"
