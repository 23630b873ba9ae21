"""The dashboard in a real browser: headless Chromium driven by Playwright, real server.

make test installs Debian's chromium; without it (or without Playwright) these tests skip.
Set DEEPAAS_SCREENSHOTS=DIR to keep a screenshot of each screen (the README's come from here).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.serving import deepaas_run

playwright = pytest.importorskip("playwright.sync_api")
pytest.importorskip("deepaas_demo")
pytest.importorskip("deepaas_iris")
pytest.importorskip("deepaas_corpus")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium installed")]
# As root in a closed network: no sandbox, and none of Chromium's background connections.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = os.environ.get("DEEPAAS_SCREENSHOTS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Iterator[str]:
    """A real deepaas-run serving demo, iris and a module whose arguments name their
    locations; answers the dashboard's URL."""
    data = tmp_path_factory.mktemp("dashboard-data")
    with deepaas_run(data, "--model-name", "demo", "--model-name", "iris",
                     "--model-name", "edge_locations",
                     # file arguments may be URLs of the tests' loopback file server
                     "--remote-data", "http://127.0.0.1:*", "--remote-private") as base:
        yield base + "/dashboard/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert errors == [], "the page raised: %s" % errors


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / ("%s.png" % name)), full_page=True)


def _png(path: Path) -> Path:
    from deepaas_demo import png

    path.write_bytes(png.bar_chart([3, 1, 4]))  # a real PNG, made by the demo's encoder
    return path


def test_catalog_shows_every_model_with_its_tags(page: Any, server: str) -> None:
    expect = playwright.expect
    page.goto(server)
    demo = page.get_by_test_id("model-card-demo")
    expect(demo).to_be_visible()
    expect(demo).to_contain_text("Example DEEPaaS module")
    expect(demo.get_by_test_id("tag-inference")).to_be_visible()
    expect(demo.get_by_test_id("tag-trainable")).to_be_visible()
    expect(page.get_by_test_id("model-card-iris")).to_be_visible()
    _shot(page, "catalog")


def test_prediction_with_a_file_shows_json_then_the_image(page: Any, server: str,
                                                          tmp_path: Path) -> None:
    expect = playwright.expect
    page.goto(server + "#/models/demo/try")
    expect(page.get_by_test_id("predict-form")).to_be_visible()
    page.fill("#predict-n", "9")  # out of range: the server's 422 shows beside the field
    page.get_by_test_id("predict-submit").click()
    expect(page.get_by_test_id("predict-error-n")).to_contain_text("less than or equal")
    page.fill("#predict-n", "2")
    page.set_input_files("#predict-data", str(_png(tmp_path / "red.png")))
    expect(page.locator("#predict-data-preview img")).to_be_visible()
    page.get_by_test_id("predict-submit").click()
    expect(page.get_by_test_id("result-json")).to_contain_text("sha256")
    _shot(page, "predict-json")
    page.select_option("#predict-accept", "image/png")
    page.get_by_test_id("predict-submit").click()
    image = page.get_by_test_id("result-image")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") > 0  # a real, decoded image
    _shot(page, "predict-image")


def test_a_file_argument_can_be_filled_with_a_url(page: Any, server: str, tmp_path: Path,
                                                  http_files: Any) -> None:
    expect = playwright.expect
    url = http_files.write("pictures/remote.png", _png(tmp_path / "remote.png").read_bytes())
    page.goto(server + "#/models/demo/try")
    expect(page.get_by_test_id("predict-url-data")).to_be_visible()
    page.fill("#predict-n", "2")
    page.get_by_test_id("predict-url-data").fill(url)
    page.get_by_test_id("predict-submit").click()
    result = page.get_by_test_id("result-json")
    expect(result).to_contain_text("remote.png")  # fetched by the server, named by the URL
    expect(result).to_contain_text("sha256")
    assert http_files.gets["/files/pictures/remote.png"] == 1
    _shot(page, "predict-url")


def test_each_value_is_sent_where_its_argument_is_read(page: Any, server: str,
                                                      tmp_path: Path) -> None:
    """Query-only arguments in the query string, header ones as headers, form ones in the
    form: the module answers where each value came from."""
    expect = playwright.expect
    page.goto(server + "#/models/edge_locations/try")
    expect(page.get_by_test_id("predict-form")).to_be_visible()
    page.fill("#predict-q", "from-query")
    page.fill("#predict-X-Token", "secret")
    page.fill("#predict-f", "form-f")
    page.set_input_files("#predict-img", str(_png(tmp_path / "img.png")))
    page.get_by_test_id("predict-submit").click()
    result = page.get_by_test_id("result-json")
    expect(result).to_contain_text('"img"')
    answer = json.loads(page.locator("pre#result-json").inner_text())["predictions"]
    assert answer["q"] == ["str", "from-query"] and answer["token"] == ["str", "secret"]
    assert answer["f"] == ["str", "form-f"] and answer["img"][:2] == ["file", "img.png"]


def test_training_iris_reaches_done_with_a_chart(page: Any, server: str) -> None:
    expect = playwright.expect
    page.goto(server + "#/models/iris/train")
    expect(page.get_by_test_id("train-form")).to_be_visible()
    page.fill("#train-epochs", "40")
    page.get_by_test_id("train-submit").click()
    row = page.locator("[data-testid^=job-row-]").first
    expect(row).to_be_visible()
    uuid = row.get_attribute("data-testid").removeprefix("job-row-")
    _shot(page, "train")
    page.get_by_test_id("job-link-%s" % uuid).click()
    expect(page.get_by_test_id("job-status")).to_have_text("done", timeout=60000)
    chart = page.locator("[data-testid=metrics-chart] svg polyline").first
    expect(chart).to_be_visible()
    assert len(chart.get_attribute("points").split()) >= 40  # one point per epoch
    expect(page.get_by_test_id("job-log")).to_contain_text("epoch 40/40")
    _shot(page, "job")


def test_a_finished_trainings_output_files_download(page: Any, server: str) -> None:
    expect = playwright.expect
    page.goto(server + "#/models/demo/train")
    page.fill("#train-epochs", "3")
    page.fill("#train-epoch_seconds", "0")
    page.get_by_test_id("train-submit").click()
    row = page.locator("[data-testid^=job-row-]").first
    uuid = row.get_attribute("data-testid").removeprefix("job-row-")
    page.get_by_test_id("job-link-%s" % uuid).click()
    expect(page.get_by_test_id("job-status")).to_have_text("done", timeout=30000)
    link = page.get_by_test_id("job-file-history.csv")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "history.csv"
    assert Path(download.path()).read_text().splitlines()[0] == "epoch,loss,accuracy"


def test_cancel_a_running_and_a_waiting_training(page: Any, server: str) -> None:
    expect = playwright.expect
    page.goto(server + "#/models/demo/train")
    expect(page.get_by_test_id("train-form")).to_be_visible()
    for _ in range(2):  # one runs, one waits in line (one training per model at a time)
        page.fill("#train-epochs", "50")
        page.fill("#train-epoch_seconds", "1")
        page.get_by_test_id("train-submit").click()
    rows = page.locator("[data-testid^=job-row-][data-status=running], "
                        "[data-testid^=job-row-][data-status=queued]")
    expect(rows).to_have_count(2, timeout=20000)
    uuids = [rows.nth(i).get_attribute("data-testid").removeprefix("job-row-")
             for i in range(2)]
    _shot(page, "train-queued")
    for uuid in uuids:
        page.get_by_test_id("cancel-%s" % uuid).click()
        expect(page.get_by_test_id("job-status-%s" % uuid)).to_have_text("cancelled",
                                                                         timeout=20000)
