"""The PostgreSQL store's own concerns: starting servers together, credentials, the server clock.

The contract it shares with the SQLite store is tested in test_store.py.
"""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from deepaas.exceptions import ConfigError
from deepaas.jobs.postgres import PostgresStore, mask_url
from tests.jobs.test_store import job
from tests.postgres import with_password

pytestmark = pytest.mark.cluster
asyncpg = pytest.importorskip("asyncpg")

TABLES = {"deepaas_jobs", "deepaas_job_metrics", "deepaas_replicas", "deepaas_job_logs",
          "deepaas_schema", "deepaas_predictions"}


async def _query(url, sql, *args):
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def test_servers_starting_together_migrate_once(postgres_db):
    stores = [PostgresStore(postgres_db) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        assert await _query(postgres_db, "SELECT version FROM deepaas_schema") == [
            (1,), (2,), (3,), (4,)]
        tables = await _query(postgres_db, "SELECT tablename FROM pg_tables "
                                           "WHERE schemaname = 'public'")
        assert {name for (name,) in tables} == TABLES
        assert await stores[0].put(job("a")) and (await stores[3].get("a")).uuid == "a"
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    again = PostgresStore(postgres_db)
    await again.open()
    await again.close()
    assert await _query(postgres_db, "SELECT version FROM deepaas_schema") == [
        (1,), (2,), (3,), (4,)]


async def test_a_database_of_a_newer_release_is_refused(postgres_db):
    await _query(postgres_db, "CREATE TABLE deepaas_schema (version integer PRIMARY KEY, "
                              "applied timestamptz NOT NULL DEFAULT now())")
    await _query(postgres_db, "INSERT INTO deepaas_schema (version) VALUES (7)")
    store = PostgresStore(postgres_db)
    with pytest.raises(ConfigError, match="version 7, newer"):
        await store.open()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("a")


async def test_staleness_is_judged_by_the_servers_clock(postgres_db):
    store = PostgresStore(postgres_db)
    await store.open()
    try:
        await store.heartbeat("skewed", "host-1")
        await store.put(job("a", owner="skewed"))
        assert await store.orphans(60) == []
        # As a replica whose clock runs ten minutes late would have written it, were the
        # heartbeat time the replica's and not the server's:
        await _query(postgres_db, "UPDATE deepaas_replicas SET seen = now() - interval '10 min'")
        assert [j.uuid for j in await store.orphans(60)] == ["a"]
        assert await store.orphans(3600) == []
        await store.heartbeat("skewed", "host-1")
        (fresh,) = await _query(postgres_db, "SELECT now() - seen < interval '5 s', host "
                                             "FROM deepaas_replicas")
        assert fresh == (True, "host-1")
    finally:
        await store.close()


async def test_a_wrong_password_is_a_config_error_without_the_password(postgres_url):
    url = with_password(postgres_url, "Wr0ngSecret")
    with pytest.raises(ConfigError) as caught:
        await PostgresStore(url).open()
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "Wr0ngSecret" not in message and "deepaas:***@127.0.0.1" in message


async def test_no_server_or_no_database_is_a_config_error(postgres_db):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        nothing = "postgresql://u:pw-1234@127.0.0.1:%d/db" % port
        with pytest.raises(ConfigError, match="cannot connect") as caught:
            await PostgresStore(nothing).open()
    assert "pw-1234" not in str(caught.value)
    missing = postgres_db.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(ConfigError, match="no_such_db.*does not exist"):
        await PostgresStore(missing).open()


def test_only_postgres_urls_are_accepted():
    PostgresStore("postgres://host/db")
    with pytest.raises(ConfigError, match=r"not a PostgreSQL URL: mysql://u:\*\*\*@h/db"):
        PostgresStore("mysql://u:secret@h/db")


@pytest.mark.parametrize("url, masked", [
    ("postgresql://u:s3cret@db.example:5432/jobs", "postgresql://u:***@db.example:5432/jobs"),
    ("postgresql://u:p%40ss:w@[::1]/jobs", "postgresql://u:***@[::1]/jobs"),
    ("postgres://u@h/jobs?password=s3cret&sslmode=require",
     "postgres://u@h/jobs?password=***&sslmode=require"),
    ("postgresql://h/jobs", "postgresql://h/jobs"),
    ("postgresql:///jobs?host=/run/pg", "postgresql:///jobs?host=/run/pg"),
])
def test_mask_url_hides_the_password_only(url, masked):
    assert mask_url(url) == masked


async def test_without_asyncpg_the_store_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"needs asyncpg: pip install 'deepaas\[postgres\]'"):
        await PostgresStore("postgresql://u:pw@127.0.0.1/db").open()
