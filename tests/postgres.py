"""A real PostgreSQL server for the tests, started from Debian's binaries (package postgresql).

``postgres_url`` (one server for the session): a throwaway cluster in a temporary folder,
password authentication over TCP on 127.0.0.1 and a free port, its unix socket in that folder
too. ``postgres_db`` gives each test a database of its own on it, so that tests never see each
other's rows. PostgreSQL refuses to run as root, and CI runs as root: then the server commands
run as the ``postgres`` system user, which owns the folder.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["postgres_url", "postgres_db", "with_password"]

_USER = "deepaas"
_TIMEOUT = 60  # seconds for any one command, server start included
_SETTINGS = ("-c listen_addresses=127.0.0.1 -p {port} -k {root} "
             # Durability is of no use to a throwaway cluster; speed is.
             "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")


def _bindir() -> Path | None:
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    newest = max(found, key=lambda p: int(Path(p).parent.parent.name), default=None)
    return None if newest is None else Path(newest).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclasses.dataclass
class _Cluster:
    bindir: Path
    root: Path  # data/, the socket, server.log, the password file
    password: str = dataclasses.field(default_factory=lambda: secrets.token_hex(16))
    port: int = 0

    def url(self, database: str) -> str:
        return "postgresql://%s:%s@127.0.0.1:%d/%s" % (_USER, self.password, self.port, database)

    def run(self, tool: str, *args: str, server: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        if server and os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, cwd=self.root, capture_output=True, text=True,
                              timeout=_TIMEOUT, check=False)

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run ``statement`` as a client would: over TCP, with the password."""
        done = self.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(database),
                        "-c", statement, server=False)
        if done.returncode:
            pytest.fail("psql %r failed:\n%s%s" % (statement, done.stdout, done.stderr))

    def init(self) -> None:
        secret = self.root / "password"
        secret.write_text(self.password)
        if os.geteuid() == 0:
            for path in (self.root, secret):
                shutil.chown(path, "postgres", "postgres")
        done = self.run("initdb", "-D", str(self.root / "data"), "-U", _USER, "--pwfile",
                        str(secret), "--auth=scram-sha-256", "-E", "UTF8", "--locale=C",
                        "--no-sync")
        if done.returncode:
            pytest.fail("initdb failed:\n%s%s" % (done.stdout, done.stderr))

    def start(self) -> None:
        # A free port may be taken between probing and binding: try a few.
        for _attempt in range(3):
            self.port = _free_port()
            done = self.run("pg_ctl", "-D", str(self.root / "data"), "-l",
                            str(self.root / "server.log"), "-w", "-t", str(_TIMEOUT),
                            "-o", _SETTINGS.format(port=self.port, root=self.root), "start")
            if done.returncode == 0 and self._ready():
                return
        log = self.root / "server.log"
        pytest.fail("PostgreSQL did not start:\n%s%s\n--- server.log ---\n%s" % (
            done.stdout, done.stderr, log.read_text() if log.exists() else "(none)"))

    def _ready(self) -> bool:
        # pg_ctl -w waited for the unix socket; clients come over TCP.
        done = self.run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-t",
                        str(_TIMEOUT), server=False)
        return done.returncode == 0

    def stop(self) -> None:
        if self.port:
            self.run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="session")
def _postgres_cluster() -> Iterator[_Cluster]:
    bindir = _bindir()
    if bindir is None:
        # make test installs them: in CI their absence is a broken install step, not a skip
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL server binaries: make test should have installed them")
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    # Not under pytest's own temp folder: that one is private to root, where the server runs
    # as the postgres user.
    cluster = _Cluster(bindir, Path(tempfile.mkdtemp(prefix="deepaas-pg-")))
    try:
        cluster.init()
        cluster.start()
        cluster.sql("CREATE DATABASE deepaas")
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(_postgres_cluster: _Cluster) -> str:
    """``postgresql://deepaas:PASSWORD@127.0.0.1:PORT/deepaas`` of a server for this session."""
    return _postgres_cluster.url("deepaas")


@pytest.fixture
def postgres_db(_postgres_cluster: _Cluster) -> Iterator[str]:
    """The URL of a new, empty database of the session's server, dropped after the test."""
    name = "test_" + secrets.token_hex(6)
    _postgres_cluster.sql("CREATE DATABASE " + name)
    yield _postgres_cluster.url(name)
    _postgres_cluster.sql("DROP DATABASE %s WITH (FORCE)" % name)


def with_password(url: str, password: str) -> str:
    """``url`` with another password (for tests of wrong credentials)."""
    parts = urllib.parse.urlsplit(url)
    netloc = "%s:%s@%s:%d" % (parts.username, password, parts.hostname, parts.port or 5432)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
