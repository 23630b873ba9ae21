"""The README's "Write your own module", followed as written: its files, pip, the server, curl.

The files are taken from the README's code blocks (each starts with a comment naming its
path), installed with pip as the README says (into a folder of their own here, so the test
environment stays as it is), served by a real ``deepaas-run``, and asked the README's curl
requests: the answers must be the ones the README shows, byte for byte.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).with_name("deepaas-run")


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Write your own module")
    return text[start:text.index("\n## ", start + 1)]


def _files(section: str) -> dict[str, str]:
    """Code blocks whose first line is a comment naming a path under my_model/."""
    found = {}
    for block in re.findall(r"```(?:python|toml)\n(.*?)```", section, re.S):
        first, _, body = block.partition("\n")
        match = re.match(r"# (my_model/\S+)", first)
        if match:
            found[match.group(1)] = body
    return found


def _exchanges(section: str) -> list[tuple[list[str], str]]:
    """Each ``$ curl ...`` line of the README with the line it shows as the answer."""
    lines = section.splitlines()
    return [(shlex.split(line[2:]), lines[i + 1]) for i, line in enumerate(lines)
            if line.startswith("$ curl ")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _send(argv: list[str], port: int) -> str:
    url = next(a for a in argv if a.startswith("http://"))
    url = url.replace("127.0.0.1:5000", "127.0.0.1:%d" % port)
    method = argv[argv.index("-X") + 1] if "-X" in argv else "GET"
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.read().decode()


@pytest.fixture
def served(tmp_path: Path):
    files = _files(_section())
    assert set(files) == {"my_model/pyproject.toml", "my_model/my_model/__init__.py",
                          "my_model/my_model/api.py"}
    for path, body in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(body)
    site = tmp_path / "site"
    # as the README says, less the editable install into this very environment
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(tmp_path / "my_model")],
                   check=True, timeout=300)
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.Popen([str(BIN), "--listen-port", str(port), "--model-name", "my_model",
                             "--data-dir", str(tmp_path / "data")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/v2/health/ready" % port, timeout=2)
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_the_readme_module_answers_as_the_readme_shows(served: int) -> None:
    exchanges = _exchanges(_section())
    assert len(exchanges) >= 2
    for argv, shown in exchanges:
        assert _send(argv, served) == shown, argv
