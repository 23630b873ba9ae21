"""The dashboard's resource inputs in a real browser: bounded by /v2/resources/, sent as the
DEEPaaS-Resources header, and the placement shown in the jobs table and on the job page.

Chromium and the page come from test_e2e (it skips these tests where they are missing).
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard import test_e2e as e2e
from tests.dashboard.serving import deepaas_run

pytestmark = e2e.pytestmark
playwright = e2e.playwright
browser = e2e.browser  # the same fixtures, shared by name
page = e2e.page
CPUS = len(os.sched_getaffinity(0))


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def lab(tmp_path_factory: Any) -> Iterator[str]:
    """A real deepaas-run serving demo at site "lab"; answers its base URL."""
    data = tmp_path_factory.mktemp("resources-data")
    with deepaas_run(data, "--model-name", "demo", "--site", "lab", deadline=30) as base:
        yield base


def test_the_train_form_offers_resources_bounded_by_the_machine(page: Any, lab: str) -> None:
    expect = playwright.expect
    page.goto(lab + "/dashboard/#/models/demo/train")
    expect(page.get_by_test_id("train-res-fields")).to_be_visible()
    expect(page.locator("#train-res-cpus")).to_have_attribute("max", str(CPUS))
    node = _get(lab + "/v2/resources/")["nodes"][0]
    expect(page.locator("#train-res-gpus")).to_have_attribute("max", str(node["gpus"]["total"]))
    if shutil.which("nvidia-smi") is None:
        expect(page.locator("#train-res-gpus")).to_have_attribute("max", "0")
    memory = float(page.locator("#train-res-memory").get_attribute("max") or 0)
    assert abs(memory - node["memory"]["total"] / 2**30) < 0.01
    options = page.locator("#train-res-site option").all_text_contents()
    assert options == ["any", "lab"]
    # not a module argument: the header is offered as these inputs only
    assert page.locator("#train-DEEPaaS-Resources").count() == 0


def test_more_than_the_machine_has_is_refused_in_the_banner(page: Any, lab: str) -> None:
    expect = playwright.expect
    page.goto(lab + "/dashboard/#/models/demo/train")
    expect(page.get_by_test_id("train-res-fields")).to_be_visible()
    page.fill("#train-res-cpus", str(CPUS + 1))
    page.get_by_test_id("train-submit").click()
    expect(page.get_by_test_id("error-banner")).to_contain_text(
        "cpus=%d, but this machine has %d" % (CPUS + 1, CPUS))
    page.fill("#train-res-cpus", "0")  # malformed: the server's 422 names the key
    page.get_by_test_id("train-submit").click()
    expect(page.get_by_test_id("train-error-DEEPaaS-Resources")).to_contain_text(
        "cpus: must be at least 1")
    assert _get(lab + "/v2/models/demo/train/") == []  # nothing was started


def test_a_training_asked_with_one_cpu_shows_where_it_runs(page: Any, lab: str) -> None:
    expect = playwright.expect
    page.goto(lab + "/dashboard/#/models/demo/train")
    expect(page.get_by_test_id("train-res-fields")).to_be_visible()
    page.fill("#train-epochs", "2")
    page.fill("#train-epoch_seconds", "0")
    page.fill("#train-res-cpus", "1")
    page.select_option("#train-res-site", "lab")
    page.get_by_test_id("train-submit").click()
    where = page.locator('[data-testid^="job-where-"]').first
    expect(where).to_contain_text("(lab) · CPUs ")
    (job,) = _get(lab + "/v2/models/demo/train/")
    assert job["resources"] == {"cpus": 1, "site": "lab"}
    (cpu,) = job["placement"]["cpus"]
    expect(where).to_have_text("%s (lab) · CPUs %d" % (job["placement"]["node"], cpu))
    e2e._shot(page, "train-resources")
    page.get_by_test_id("job-link-" + job["uuid"]).click()
    expect(page.get_by_test_id("job-status")).to_have_text("done", timeout=30_000)
    expect(page.get_by_test_id("job-placement")).to_have_text(
        "%s (lab) · CPUs %d" % (job["placement"]["node"], cpu))
    expect(page.get_by_test_id("job-resources")).to_have_text("cpus=1, site=lab")
    e2e._shot(page, "job-placement")


def test_what_is_free_follows_the_trainings(page: Any, lab: str) -> None:
    expect = playwright.expect
    page.goto(lab + "/dashboard/#/models/demo/train")
    hint = page.get_by_test_id("train-res-cpus-hint")
    expect(hint).to_have_text("at most %d (%d free now)" % (CPUS, CPUS))
    page.fill("#train-epochs", "100")
    page.fill("#train-epoch_seconds", "1")  # long enough to be seen running, then cancelled
    page.fill("#train-res-cpus", "1")
    page.get_by_test_id("train-submit").click()
    expect(hint).to_have_text("at most %d (%d free now)" % (CPUS, CPUS - 1))
    running = [j for j in _get(lab + "/v2/models/demo/train/") if j["status"] == "running"]
    page.get_by_test_id("cancel-" + running[0]["uuid"]).click()
    expect(hint).to_have_text("at most %d (%d free now)" % (CPUS, CPUS))
