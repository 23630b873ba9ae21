"""No uploaded file outlives its request, even over a thousand of them."""

from __future__ import annotations

import asyncio

import aiohttp


async def test_thousand_uploads_leave_no_file(make_client, tmp_path):
    client = await make_client("basic", tmp_dir=str(tmp_path), workers=4)

    async def one(i: int) -> int:
        form = aiohttp.FormData()
        form.add_field("data", b"x" * (i % 97 + 1), filename="f%d.bin" % i)
        ret = "value-error" if i % 10 == 0 else "dict"  # failures must clean up too
        resp = await client.post("/v2/models/basic/predict/", params={"n": "1", "ret": ret},
                                 data=form)
        await resp.read()
        return resp.status

    statuses: list[int] = []
    for start in range(0, 1000, 50):
        statuses += await asyncio.gather(*(one(i) for i in range(start, start + 50)))
    assert statuses.count(200) == 900 and statuses.count(500) == 100
    assert list(tmp_path.iterdir()) == []


async def test_uploads_are_removed_however_the_request_ends(make_client, tmp_path):
    """1000 predictions with a file: answered, invalid, module raising, client gone, timed out."""
    # the timeout leaves a busy 2-core machine room: an "ok" prediction never comes near it
    client = await make_client("crashy", tmp_dir=str(tmp_path), workers=8,
                               predict_timeout=0.4, max_queue=1000)
    url = "/v2/models/crashy/predict/"

    async def one(i: int) -> str:
        form = aiohttp.FormData()
        form.add_field("data", b"x" * 2048, filename="f%d.bin" % i)
        kind = ("ok", "invalid", "raise", "gone", "ok", "invalid", "raise", "gone", "ok",
                "timeout")[i % 10]
        params = {"ok": {}, "invalid": {"n": "x"}, "raise": {"mode": "raise"},
                  "gone": {"sleep": "0.05"}, "timeout": {"sleep": "0.6"}}[kind]
        request = client.post(url, params=params, data=form)
        if kind == "gone":  # the client hangs up while its prediction waits or runs
            task = asyncio.ensure_future(request)
            # Whenever the client leaves (before its upload is read, while it waits or runs),
            # no file may stay: the assertions hold for every moment, so no event is awaited.
            await asyncio.sleep(0.01)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return "gone"
        resp = await request
        await resp.read()
        return "%s:%d" % (kind, resp.status)

    results: list[str] = []
    for start in range(0, 1000, 100):
        results += await asyncio.gather(*(one(i) for i in range(start, start + 100)))
    assert results.count("ok:200") == 300 and results.count("invalid:422") == 200
    assert results.count("raise:500") == 200 and results.count("timeout:504") == 100
    assert results.count("gone") == 200
    for _ in range(100):  # timed-out and abandoned predictions finish in their threads
        if not list(tmp_path.iterdir()):
            break
        await asyncio.sleep(0.1)
    assert list(tmp_path.iterdir()) == []
