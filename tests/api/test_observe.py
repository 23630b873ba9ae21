"""Request ids and Prometheus metrics."""

from __future__ import annotations

import re

PREDICT = "/v2/models/basic/predict/"


async def test_request_id_is_honoured_or_made(make_client):
    client = await make_client("basic")
    resp = await client.get("/v2/", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["X-Request-ID"] == "abc-123"
    made = (await client.get("/v2/")).headers["X-Request-ID"]
    again = (await client.get("/v2/")).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", made) and again != made
    resp = await client.get("/v2/", headers={"X-Request-ID": "bad id\twith spaces"})
    assert resp.headers["X-Request-ID"] != "bad id\twith spaces"
    resp = await client.get("/nope/", headers={"X-Request-ID": "on-404"})
    assert resp.status == 404 and resp.headers["X-Request-ID"] == "on-404"


async def test_metrics_count_requests_latency_queues_trainings(make_client):
    client = await make_client("basic", "trainer")
    for _ in range(3):
        assert (await client.post(PREDICT, params={"n": "1"})).status == 200
    assert (await client.post(PREDICT)).status == 422
    job = await (await client.post("/v2/models/trainer/train/")).json()
    from tests.helpers import poll_job
    await poll_job(client, "/v2/models/trainer/train/", job["uuid"])
    resp = await client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    assert ('deepaas_requests_total{method="POST",route="/v2/models/basic/predict/",'
            'status="200"} 3.0') in text
    assert 'route="/v2/models/basic/predict/",status="422"} 1.0' in text
    assert 'deepaas_prediction_duration_seconds_count{model="basic"} 3.0' in text
    assert 'deepaas_queue_depth{model="basic"} 0.0' in text
    assert 'deepaas_trainings{model="trainer",status="done"} 1.0' in text
    assert 'deepaas_worker_restarts_total{model="basic"} 0.0' in text


async def test_worker_restarts_are_counted(make_client):
    client = await make_client("crashy", isolate=True)
    resp = await client.post("/v2/models/crashy/predict/", params={"mode": "exit"})
    assert resp.status == 500
    assert (await client.post("/v2/models/crashy/predict/")).status == 200
    text = await (await client.get("/metrics")).text()
    assert 'deepaas_worker_restarts_total{model="crashy"} 1.0' in text


async def test_metrics_can_be_turned_off(make_client):
    client = await make_client("basic", metrics=False)
    assert (await client.get("/metrics")).status == 404
    assert (await client.post(PREDICT, params={"n": "1"})).status == 200
