"""deepaas-cli with a predict that streams: items printed as they are produced, bytes written
to the output file as they come, an error midway after what came (tests/models/clistream.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cmd.test_cli import CLI, cli
from tests.helpers import installed_models

pytestmark = pytest.mark.skipif(not CLI.exists(), reason="deepaas-cli is not installed")


def entry_points(root: Path) -> dict[str, str]:
    """The environment in which clistream and its coroutine twin are installed models: their
    entry points in ``root``, found through PYTHONPATH alone (as is this repository)."""
    return installed_models(root, {"clistream": "tests.models.clistream",
                                   "clistream_coro": "tests.models.clistream:Coroutine"})


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return entry_points(tmp_path / "entry")


def run(env: dict[str, str], *args: str, model: str = "clistream", cwd: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    return cli("--model-name", model, "predict", *args, env=env, cwd=cwd)


def lines(text: str) -> list[object]:
    return [json.loads(line) for line in text.splitlines()]


def _until(check, what: str, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, "never " + what
        time.sleep(0.01)


@contextlib.contextmanager
def started(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """``deepaas-cli --model-name clistream predict ARGS`` running, killed if a test fails."""
    environ = {k: v for k, v in os.environ.items() if k != "DEEPAAS_V2_MODEL"}
    proc = subprocess.Popen([str(CLI), "--model-name", "clistream", "predict", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**environ, **env})
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_items_are_printed_while_the_module_still_produces(env, tmp_path):
    gate = tmp_path / "gate"
    with started(env, "--n", "3", "--gate", str(gate)) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # arrives while the module waits for the gate
        assert json.loads(first) == {"i": 0, "of": 3, "word": "item-0"}
        assert proc.poll() is None and not gate.exists()
        gate.touch()
        rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert [item["i"] for item in lines(rest)] == [1, 2]
    assert "producing 2" in err and "producing" not in first + rest  # prints go to stderr


def test_async_generators_stream_too(env):
    proc = run(env, "--kind", "async", "--n", "2")  # a plain predict returning one
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout) == [{"i": 0, "async": True}, {"i": 1, "async": True}]
    proc = run(env, "--n", "2", model="clistream_coro")  # a coroutine returning one
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout) == [{"i": 0, "async": True}, {"i": 1, "async": True}]


def test_an_error_midway_exits_1_after_printing_what_came(env):
    proc = run(env, "--kind", "raise", "--n", "3")
    assert proc.returncode == 1
    assert [item["i"] for item in lines(proc.stdout)] == [0, 1]
    assert ("deepaas-cli: Error in model 'clistream' predict: RuntimeError: broke after 2 items"
            in proc.stderr)
    assert "Traceback" in proc.stderr
    mixed = run(env, "--kind", "mixed")
    assert mixed.returncode == 1 and lines(mixed.stdout) == [{"i": 0, "of": 3, "word": "item-0"}]
    assert "predict yielded bytes after values" in mixed.stderr


def test_json_items_go_to_the_output_file_as_ndjson(env, tmp_path):
    target = tmp_path / "deep" / "items.ndjson"
    proc = run(env, "--n", "4", "--deepaas_method_output", str(target))
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == proc.stdout and len(lines(proc.stdout)) == 4
    empty = tmp_path / "empty.ndjson"
    proc = run(env, "--n", "0", "--deepaas_method_output", str(empty))
    assert proc.returncode == 0 and proc.stdout == "" and empty.read_text() == ""


def test_bytes_are_written_to_the_file_as_they_come(env, tmp_path):
    gate, target = tmp_path / "gate", tmp_path / "out" / "raw"
    written = target.with_name("raw.bin")  # the octet-stream extension is added
    with started(env, "--kind", "bytes", "--gate", str(gate),
                 "--deepaas_method_output", str(target)) as proc:
        _until(lambda: written.exists() and written.read_bytes() == b"chunk-0;",
               "the first chunk in the file")
        assert proc.poll() is None
        gate.touch()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out) == {"output": str(written), "content_type": "application/octet-stream",
                               "size": 24}
    assert written.read_bytes() == b"chunk-0;chunk-1;chunk-2;"
    default = run(env, "--kind", "bytes", "--n", "1", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    answer = json.loads(default.stdout)
    assert Path(answer["output"]).parent == tmp_path and answer["output"].endswith(".bin")
    assert Path(answer["output"]).read_bytes() == b"chunk-0;"


def test_a_reader_that_leaves_closes_the_generator_quietly(env, tmp_path):
    gate = tmp_path / "gate"
    with started(env, "--n", "100", "--gate", str(gate)) as proc:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline())["i"] == 0
        proc.stdout.close()  # as `| head -1` does
        gate.touch()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert (tmp_path / "gate.closed").exists()  # the module's finally ran
