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
