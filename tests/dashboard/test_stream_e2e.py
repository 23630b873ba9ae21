"""The dashboard shows a streamed prediction's items as they arrive (headless Chromium, a real
deepaas-run serving tests/models/clistream.py); browser and page come from test_e2e."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cmd.test_cli_stream import entry_points
from tests.dashboard import test_e2e as e2e
from tests.dashboard.serving import deepaas_run

playwright = e2e.playwright
pytestmark = e2e.pytestmark
browser = e2e.browser  # the same fixtures, shared by name
page = e2e.page


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[str]:
    """deepaas-run serving clistream; answers the dashboard's URL."""
    tmp = tmp_path_factory.mktemp("stream-dashboard")
    with deepaas_run(tmp / "data", "--model-name", "clistream",
                     env={**os.environ, **entry_points(tmp / "entry")}) as base:
        yield base + "/dashboard/"


def _predict(page: Any, server: str, **values: str) -> None:
    page.goto(server + "#/models/clistream/try")
    playwright.expect(page.get_by_test_id("predict-form")).to_be_visible()
    if "kind" in values:
        page.select_option("#predict-kind", values.pop("kind"))
    for name, value in values.items():
        page.fill("#predict-%s" % name, value)
    page.get_by_test_id("predict-submit").click()


def test_items_show_while_the_module_still_produces(page: Any, server: str,
                                                    tmp_path: Path) -> None:
    expect = playwright.expect
    gate = tmp_path / "gate"
    _predict(page, server, n="3", gate=str(gate))
    items = page.get_by_test_id("stream-item")
    expect(items.first).to_contain_text('"word":"item-0"')  # the module waits for the gate
    assert items.count() == 1 and not gate.exists()
    stream = page.get_by_test_id("result-stream")
    expect(stream).not_to_have_attribute("data-ended", "true")
    e2e._shot(page, "predict-stream")
    gate.touch()
    expect(items).to_have_count(3)
    expect(items.nth(2)).to_contain_text('"word":"item-2"')
    expect(stream).to_have_attribute("data-ended", "true")
    expect(page.get_by_test_id("stream-info")).to_contain_text("3 items")
    expect(page.get_by_test_id("stream-info")).to_contain_text("done")


def test_an_error_midway_shows_after_the_items(page: Any, server: str) -> None:
    expect = playwright.expect
    _predict(page, server, kind="raise", n="3")
    expect(page.get_by_test_id("result-stream")).to_have_attribute("data-ended", "true")
    expect(page.get_by_test_id("stream-item")).to_have_count(2)
    expect(page.get_by_test_id("stream-error")).to_contain_text("broke after 2 items")
    expect(page.get_by_test_id("stream-info")).to_contain_text("ended with an error")


SSE_BODY = ('data: {"i": 0}\n\n: a comment\n\ndata: [1,\ndata: 2]\n\n'
            'event: error\ndata: {"error": "it broke"}\n\n')


def test_server_sent_events_are_read_too(page: Any, server: str) -> None:
    """The reader's other format, fed a crafted answer in the page itself."""
    page.goto(server)
    shown = page.evaluate("""async (body) => {
        const { showStream } = await import("./static/stream.js");
        const box = document.body.appendChild(document.createElement("div"));
        const resp = new Response(body, { headers: { "Content-Type": "text/event-stream" } });
        await showStream(resp, box, "text/event-stream", performance.now());
        return [...box.querySelectorAll("li")].map((li) => [li.dataset.testid, li.textContent]);
    }""", SSE_BODY)
    assert shown == [["stream-item", '{"i":0}'], ["stream-item", "[1,2]"],
                     ["stream-error", "it broke"]]
