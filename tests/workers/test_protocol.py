"""The messages between the server and where model code runs, and the layering of workers/."""

from __future__ import annotations

import ast
import asyncio
import pickle
from pathlib import Path

import deepaas.workers
from deepaas.exceptions import InvalidInput, ModelError
from deepaas.model.outputs import Answer
from deepaas.workers.messages import Call, Error, Failed, Ready, outcomes
from deepaas.workers.warmed import load_or_failed
from deepaas.workers.worker import serve


def test_every_message_pickles_as_itself():
    answer = Answer(b"{}", "application/json", True, (("x", "$.x"),))
    for message in ([Call({"x": 1}, None), Call({}, "text/plain")], Ready(),
                    Failed.of(ValueError("no weights")),
                    [answer, Error.of(InvalidInput({"n": ["bad"]}))]):
        assert pickle.loads(pickle.dumps(message, pickle.HIGHEST_PROTOCOL)) == message


def test_errors_come_back_as_the_class_they_were_raised_as():
    back = outcomes([Error.of(InvalidInput({"n": ["bad"]})), Answer(b"", "text/plain", False)])
    assert isinstance(back[0], InvalidInput) and back[0].messages == {"n": ["bad"]}
    assert back[1] == Answer(b"", "text/plain", False)


def test_a_module_that_cannot_warm_says_why():
    failed = load_or_failed("coldfail", "tests.models.coldfail", True)
    assert isinstance(failed, Failed) and "weights not found" in failed.error.message
    assert failed.error.traceback and isinstance(failed.error.exception(), ModelError)
    broken = load_or_failed("broken", "tests.models.broken", False)
    assert isinstance(broken, Failed)
    assert broken.error.message == "ImportError: this fake module is broken on purpose"


def test_one_outcome_per_call_batched_or_not():
    loop = asyncio.new_event_loop()
    try:
        batcher = load_or_failed("batcher", "tests.models.batcher", True)
        crashy = load_or_failed("crashy", "tests.models.crashy", True)
        assert not isinstance(batcher, Failed) and not isinstance(crashy, Failed)
        got = serve(batcher, loop, [Call({"x": 2, "accept": "application/json"}, None),
                                    Call({"x": -1, "accept": "application/json"}, None)])
        assert isinstance(got[0], Answer) and b'"batch": 2' in got[0].body
        assert isinstance(got[1], Error) and "negative x: -1" in got[1].message
        got = serve(crashy, loop, [Call({"mode": "raise"}, None),
                                   Call({"mode": "ok", "sleep": 0.0}, None)])
        assert isinstance(got[0], Error) and isinstance(got[1], Answer)
    finally:
        loop.close()


def test_workers_import_nothing_from_the_cluster_or_the_settings():
    for path in Path(deepaas.workers.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                assert not name.startswith(("deepaas.cluster", "deepaas.config")), (path, name)
