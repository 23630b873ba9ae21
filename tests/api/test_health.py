"""Health probes on the Open Inference Protocol paths, during and after warm-up."""

from __future__ import annotations

import asyncio


async def test_probes_during_and_after_warm_up(make_client):
    client = await make_client("slowwarm", "basic")
    assert (await client.get("/v2/health/live")).status == 200
    resp = await client.get("/v2/health/ready")
    assert resp.status == 503
    assert await resp.json() == {"ready": False, "message": "model slowwarm is warming up"}
    assert (await client.get("/v2/models/slowwarm/ready")).status == 503
    assert (await client.get("/v2/models/")).status == 200  # metadata answers meanwhile
    # a prediction sent during warm-up waits for it, and runs on the warm module
    resp = await client.post("/v2/models/slowwarm/predict/")
    assert resp.status == 200 and (await resp.json())["predictions"] == {"warm": True}
    resp = await client.get("/v2/health/ready")
    assert resp.status == 200 and await resp.json() == {"ready": True}
    resp = await client.get("/v2/models/slowwarm/ready")
    assert await resp.json() == {"name": "slowwarm", "ready": True}


async def test_ready_is_503_while_stopping(make_client):
    client = await make_client("basic")
    for _ in range(50):
        if (await client.get("/v2/health/ready")).status == 200:
            break
        await asyncio.sleep(0.02)
    from deepaas.api.keys import STATE

    client.app[STATE].stopping = True
    resp = await client.get("/v2/health/ready")
    assert resp.status == 503 and "stopping" in (await resp.json())["message"]


async def test_health_routes_follow_the_base_path(make_client):
    client = await make_client("basic", base_path="/x")
    assert (await client.get("/x/v2/health/live")).status == 200
    assert (await client.get("/v2/health/live")).status == 404
