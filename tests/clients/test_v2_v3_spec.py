"""``deepaas-test-v2-v3`` (ai4os/DEEPaaS, branch v3-fastapi), our version of it, run for every
corpus module with 2.6.0 as the old server (its spec and answers recorded by record.sh) and
ours as the new one: the paths 2.6.0 documents are all ours, and each bare GET, POST, PUT and
DELETE is answered as 2.6.0 answered it, except where listed below.
"""

from __future__ import annotations

import pytest

from tests.clients.corpus import MODELS, recorded, reference_spec
from tests.clients.spec_compare import bare_cases, compare_paths, same_answer
from tests.compat.answers import reduce

pytest.importorskip("compatmod", reason="make test installs tests/compat/compatmod")
pytest.importorskip("deepaas_corpus", reason="make test installs tests/compat/corpus")

# What ours documents that 2.6.0 does not (the tool only prints these), with {name} the model.
ADDED = {
    "/metrics": "Prometheus metrics",
    "/v2/health/live": "liveness probe",
    "/v2/health/ready": "readiness probe",
    "/v2/resources/": "the resources trainings may ask for",
    "/v2/models/{name}/ready": "one model's readiness",
    "/v2/models/{name}/predictions/": "asynchronous predictions (respond-async)",
    "/v2/models/{name}/predictions/{uuid}": "one asynchronous prediction",
    "/v2/models/{name}/predictions/{uuid}/result": "its result",
    "/v2/models/{name}/train/{uuid}/logs": "a training's logs",
    "/v2/models/{name}/train/{uuid}/files/{path}": "a training's output files",
}


@pytest.mark.parametrize("model", MODELS)
async def test_ours_answers_the_bare_requests_as_2_6_0(client_of, model):
    client = await client_of(model)
    ours = await (await client.get("/swagger.json")).json()
    common, only_old, only_new = compare_paths(reference_spec(model), ours, model)
    assert only_old == []
    assert only_new == sorted(p.replace("{name}", model) for p in ADDED)
    old_answers = recorded(model)["answers"]
    differ = {}
    for case in bare_cases(common):
        url = client.make_url("/").with_path(case["path"], encoded=True)
        resp = await client.session.request(case["method"], url, allow_redirects=False,
                                            headers=case["headers"])
        new = reduce(resp.status, resp.headers.get("Content-Type", ""), await resp.read())
        old = old_answers[case["name"]]
        if not same_answer(old, new):
            differ[case["name"]] = {"2.6.0": old, "ours": new}
    assert differ == {}
