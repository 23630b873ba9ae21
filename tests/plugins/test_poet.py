"""The poet plugin (plugins/poet): a generator predict, streamed word by word over HTTP, as
the README's "Streamed answers" shows.

Needs ``pip install -e plugins/poet`` (the plugin is its own distribution); skipped without it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

api = pytest.importorskip("deepaas_poet.api")

from deepaas.model.loading import Registry, discover  # noqa: E402
from deepaas.model.wrapper import ModelWrapper  # noqa: E402

README = Path(__file__).resolve().parents[2] / "README.md"


async def _client(serve):
    return await serve(Registry.of(ModelWrapper("poet", api, "deepaas_poet.api")))


def _readme_examples() -> list[tuple[str, dict[str, str], str]]:
    """(query, headers, expected body) of each poet curl line in the README."""
    text = README.read_text()
    section = text[text.index("### Streamed answers"):text.index("- **Formats.**")]
    found = []
    for block in re.split(r"(?m)^\$ ", section.split("```console\n", 1)[1].split("```", 1)[0])[1:]:
        command, _, output = block.partition("\n")
        query = re.search(r"predict/\?([^']*)'", command).group(1)
        headers = dict(re.findall(r"-H '([^:]+): ([^']+)'", command))
        found.append((query, headers, output))
    return found


def test_it_is_installed_under_its_entry_point():
    found, failures = discover(["poet"])
    assert found["poet"][0] == "deepaas_poet.api" and not failures


async def test_the_readme_examples_answer_as_shown(serve):
    client = await _client(serve)
    examples = _readme_examples()
    assert len(examples) == 2
    for query, headers, expected in examples:
        resp = await client.post("/v2/models/poet/predict/?" + query, headers=headers)
        assert resp.status == 200
        assert await resp.text() == expected


async def test_each_word_arrives_as_it_is_written(serve):
    client = await _client(serve)
    resp = await client.post("/v2/models/poet/predict/", params={"words": "3", "pause": "0"})
    assert resp.headers["Content-Type"] == "application/x-ndjson"
    words = [json.loads(line) for line in (await resp.read()).splitlines()]
    assert [w["index"] for w in words] == [0, 1, 2] and words[0]["word"] == "rain"
    resp = await client.post("/v2/models/poet/predict/", params={"words": "0"})
    assert resp.status == 422 and "words" in await resp.json()
