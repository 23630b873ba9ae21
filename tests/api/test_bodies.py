"""Bodies held in memory: validated off the event loop, bounded one by one and all together."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import aiohttp
import pytest

from deepaas.api.bodies import _MANY_STRINGS as _STRINGS
from deepaas.api.bodies import OFF_LOOP_BYTES, BodyBudget, decode_json
from deepaas.api.keys import BODIES
from deepaas.config import Settings
from deepaas.exceptions import Overloaded, PayloadTooLarge
from deepaas.model.loading import Registry, resolve
from deepaas.model.wrapper import ModelWrapper
from tests.models.biglist import WATCH

URL = "/v2/models/biglist/predict/"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def biglist(serve):
    """``await biglist(**settings)`` -> a client of a server of the tests.models.biglist module."""
    source = "tests.models.biglist"

    async def make(**overrides):
        return await serve(Registry.of(ModelWrapper("biglist", resolve(source), source)),
                           **overrides)

    yield make
    WATCH.gate.set()  # never leave a validation thread waiting behind a failed test
    WATCH.reset()


def _body(items: int) -> bytes:
    return json.dumps({"xs": [i % 1000 for i in range(items)]}).encode()


async def _wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in %ss" % timeout
        await asyncio.sleep(0.01)


async def _started(count: int = 1) -> None:
    """Wait until ``count`` validations of the list have begun."""
    for _ in range(count):
        assert await asyncio.to_thread(WATCH.started.acquire, timeout=60)


async def test_health_answers_while_a_two_million_item_list_is_validated(biglist):
    items = 2_000_000
    WATCH.reset(hold_at=items)  # the validation ends only once the test has its answer
    client = await biglist()
    predict = asyncio.ensure_future(client.post(URL, data=_body(items), headers=JSON))
    await _started()
    began = time.perf_counter()
    # generous: the loop is free (bench/loop_bench.py measures the real figure, ~ms)
    resp = await asyncio.wait_for(client.get("/v2/health/live"), 1.0)
    assert resp.status == 200 and await resp.json() == {"live": True}
    assert time.perf_counter() - began < 1.0
    assert not predict.done()  # the list was still being validated
    WATCH.gate.set()
    resp = await predict
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["predictions"]["n"] == items
    assert client.server.app[BODIES].held == 0


async def test_body_over_max_json_size_is_413_naming_the_option(biglist):
    client = await biglist(max_json_size=1000)
    resp = await client.post(URL, json={"xs": list(range(1000))})
    assert resp.status == 413
    assert "1000 bytes" in (await resp.json())["message"]
    assert "(--max-json-size)" in (await resp.json())["message"]

    async def chunked():  # no declared length: counted as it comes
        yield b'{"xs": ['
        for _ in range(20):
            yield b"1, " * 100
        yield b"1]}"
    resp = await client.post(URL, data=chunked(), headers=JSON)
    assert resp.status == 413 and "(--max-json-size)" in (await resp.json())["message"]
    resp = await client.post(URL, data={"xs": "1" * 2000})  # urlencoded
    assert resp.status == 413 and "(--max-json-size)" in (await resp.json())["message"]
    form = aiohttp.FormData()  # the fields of a multipart form are held in memory too
    form.add_field("xs", "1" * 2000)
    resp = await client.post(URL, data=form)
    assert resp.status == 413 and "(--max-json-size)" in (await resp.json())["message"]
    resp = await client.post(URL, json={"xs": [1, 2, 3]})
    assert resp.status == 200 and (await resp.json())["predictions"]["total"] == 6
    assert client.server.app[BODIES].held == 0


async def test_the_smallest_limit_binds_and_is_named(biglist):
    client = await biglist(max_json_size=100_000, client_max_size=1000)
    resp = await client.post(URL, data=_body(500), headers=JSON)
    assert resp.status == 413 and "(--client-max-size)" in (await resp.json())["message"]
    client = await biglist(max_json_size=100_000, max_buffered=1000)
    resp = await client.post(URL, data=_body(500), headers=JSON)
    assert resp.status == 413 and "(--max-buffered)" in (await resp.json())["message"]
    client = await biglist(max_json_size=0, client_max_size=0, max_buffered=0)
    resp = await client.post(URL, data=_body(500), headers=JSON)
    assert resp.status == 200


async def test_budget_refuses_bodies_past_it_and_comes_back(biglist):
    items = 20_000
    body = _body(items)
    assert len(body) >= OFF_LOOP_BYTES  # validated in a thread, where it may wait
    WATCH.reset(hold_at=items)
    client = await biglist(max_buffered=len(body) * 5 // 2)  # room for two at once
    budget = client.server.app[BODIES]
    posts = [asyncio.ensure_future(client.post(URL, data=body, headers=JSON))
             for _ in range(5)]
    await _started(2)
    await _wait_until(lambda: sum(p.done() for p in posts) == 3)
    for refused in (p.result() for p in posts if p.done()):
        assert refused.status == 503 and refused.headers["Retry-After"] == "1"
        assert "(--max-buffered, %d bytes)" % budget.total in (await refused.json())["message"]
    assert budget.held == 2 * len(body) and budget.refused == 3
    WATCH.gate.set()
    answers = [await p for p in posts]
    assert sorted(a.status for a in answers) == [200, 200, 503, 503, 503]
    assert budget.held == 0 and budget.peak == 2 * len(body) <= budget.total
    resp = await client.post(URL, data=body, headers=JSON)  # the budget came back
    assert resp.status == 200 and budget.held == 0


async def test_a_thread_still_validating_keeps_its_bytes_counted():
    budget = BodyBudget(10 * OFF_LOOP_BYTES)
    held = budget.hold(Settings())
    held.reserve(OFF_LOOP_BYTES // 2)
    assert budget.held == OFF_LOOP_BYTES // 2
    held.reserve(OFF_LOOP_BYTES)
    gate, entered = threading.Event(), threading.Event()

    def work():
        entered.set()
        gate.wait(30)
        return "done"

    running = asyncio.ensure_future(held.run(work))
    assert await asyncio.to_thread(entered.wait, 30)
    running.cancel()  # the client left: only our wait ends, the thread goes on
    with pytest.raises(asyncio.CancelledError):
        await running
    held.release()
    assert budget.held == OFF_LOOP_BYTES
    gate.set()
    await _wait_until(lambda: budget.held == 0)
    held.release()  # once only
    assert budget.held == 0


def test_reserve_checks_the_limit_then_the_budget():
    budget = BodyBudget(50)
    first = budget.hold(Settings(max_json_size=40))
    with pytest.raises(PayloadTooLarge, match="40 bytes .*--max-json-size"):
        first.reserve(41)
    first.reserve(30)
    second = budget.hold(Settings(max_json_size=40))
    with pytest.raises(Overloaded):
        second.reserve(30)
    assert (budget.held, budget.refused) == (30, 1)
    first.release()
    second.reserve(30)
    assert budget.held == budget.peak == 30


@pytest.mark.parametrize("document", [
    {"ints": list(range(-5000, 5000)), "n": 10**30, "f": [0.1, -2.5e-7, 1e300]},
    {"strs": ["s%d \u00e9\u2603\n" % i for i in range(_STRINGS)], "x": [None, True, {}]},
])
def test_big_bodies_decode_as_json_loads_does(document):
    raw = json.dumps(document).encode()
    assert len(raw) >= OFF_LOOP_BYTES
    assert decode_json(raw) == json.loads(raw)
    assert decode_json(raw.decode().encode("utf-16")) == document
    with pytest.raises(RecursionError):
        decode_json(raw[:-1] + b', "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
