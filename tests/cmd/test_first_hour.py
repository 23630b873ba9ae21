"""deepaas-run for a module author's first hour: version, help, busy port, banner, access log."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from deepaas import __version__
from deepaas.cmd import run
from deepaas.config import Settings
from deepaas.model.loading import LoadFailure, Registry
from tests.cmd.test_run import BIN, _start, _stop
from tests.conftest import wrapper

CLI = BIN.with_name("deepaas-cli")
pytestmark = pytest.mark.skipif(not BIN.exists(), reason="deepaas-run is not installed")


def _run(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*argv], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("program", [BIN, CLI])
def test_version(program):
    proc = _run(str(program), "--version")
    # the bare version, as DEEPaaS 2.x printed it: scripts parse it (tests/cmd/test_cli_words)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "%s\n" % __version__, "")


def test_help_shows_placeholders_defaults_and_negative_forms():
    proc = _run(str(BIN), "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for shown in ("--listen-port PORT", "--listen-ip ADDRESS", "--model-name NAME",
                  "--config-file FILE", "--client-max-size BYTES", "--nowarm", "--nometrics",
                  "default: 5000", "default: 127.0.0.1"):
        assert shown in text, shown


def test_a_busy_port_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run(str(BIN), "--listen-port", str(port), "--data-dir", str(tmp_path),
                    "--model-name", "compatmod")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert "deepaas-run: address 127.0.0.1:%d is in use" % port in lines
    assert len(lines) <= 3 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == ""  # no banner for a server that never listened


def test_a_port_taken_after_the_check_is_reported_the_same(tmp_path):
    """The race: the port is free when checked and taken when the server binds it."""
    code = ("import sys; from deepaas.cmd import run; run.check_address = lambda s: None; "
            "sys.exit(run.main(sys.argv[1:]))")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run(sys.executable, "-c", code, "--listen-port", str(port), "--data-dir",
                    str(tmp_path), "--model-name", "compatmod")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert "deepaas-run: address 127.0.0.1:%d is in use" % port in lines
    assert len(lines) <= 3 and "Traceback" not in proc.stderr, proc.stderr


def test_banner_lists_the_models_that_failed_to_load():
    failure = LoadFailure("broken", "tests.models.broken", "ImportError: broken", "Traceback")
    registry = Registry({"basic": wrapper("basic")}, [failure])
    text = run.banner(Settings(), registry)
    assert text.splitlines()[0] == "deepaas is serving basic"
    assert "  Failed to load: broken (see the log above)" in text.splitlines()
    assert "Failed to load" not in run.banner(Settings(), Registry.of(wrapper("basic")))


def test_access_log_durations_are_finer_than_a_millisecond(tmp_path):
    """deepaas-run serves on uvloop, whose loop.time() counts whole milliseconds."""
    proc, base = _start(tmp_path, "--model-name", "compatmod")
    try:
        for _ in range(20):
            with urllib.request.urlopen(base + "/v2/", timeout=10) as resp:
                resp.read()
    finally:
        code, _ = _stop(proc, signal.SIGTERM)
    out = proc.stdout.read()
    assert code == 0, out
    took = [float(ms) for ms in re.findall(r'"GET /v2/" 200 (\d+\.\d{3})ms ', out)]
    assert len(took) >= 20, out
    assert all(ms > 0 for ms in took), took
    assert any(ms != int(ms) for ms in took), took  # not whole milliseconds
