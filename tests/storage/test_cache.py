"""The cache of remote files: hits, new versions, one download for many, eviction, links."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import json
import os
import time
from pathlib import Path

import pytest

from deepaas.storage import RemoteData
from tests.storage import settings_for
from tests.storageservers import HttpFiles


def remote_for(tmp_path: Path, files: HttpFiles, **overrides: object) -> RemoteData:
    return RemoteData(settings_for(tmp_path, files.url, **overrides))


def cached(remote: RemoteData) -> dict[str, bytes]:
    """The cache's entries: URL -> bytes."""
    found = {}
    for data in (remote.cache_dir / "data").iterdir():
        meta = remote.cache_dir / "meta" / (data.name + ".json")
        if meta.exists():
            found[json.loads(meta.read_text())["url"]] = data.read_bytes()
    return found


async def test_a_second_fetch_downloads_nothing(tmp_path: Path, http_files: HttpFiles) -> None:
    url = http_files.write("a.csv", b"1,2\n")
    remote = remote_for(tmp_path, http_files)
    first = await remote.fetch(url, str(tmp_path / "in"))
    second = await remote.fetch(url, str(tmp_path / "in"))
    assert not first.from_cache and second.from_cache
    assert http_files.gets["/files/a.csv"] == 1
    assert (remote.downloads, remote.hits) == (1, 1)
    # each caller owns a file of its own, with what the first fetch learnt
    assert first.path != second.path
    assert Path(second.path).read_bytes() == b"1,2\n"
    assert (second.original_filename, second.content_type, second.size) == (
        "a.csv", "text/csv", 4)
    # the cache is in the data dir unless told otherwise
    assert remote.cache_dir == tmp_path / "data" / "cache"
    assert cached(remote) == {url: b"1,2\n"}


async def test_a_changed_file_is_downloaded_again(tmp_path: Path,
                                                  http_files: HttpFiles) -> None:
    url = http_files.write("a.csv", b"old\n")
    remote = remote_for(tmp_path, http_files, cache_dir=str(tmp_path / "elsewhere"))
    await remote.fetch(url, str(tmp_path / "in"))
    http_files.write("a.csv", b"new!\n")
    fetched = await remote.fetch(url, str(tmp_path / "in"))
    assert not fetched.from_cache and Path(fetched.path).read_bytes() == b"new!\n"
    assert http_files.gets["/files/a.csv"] == 2 and remote.downloads == 2
    assert remote.cache_dir == tmp_path / "elsewhere"
    assert cached(remote) == {url: b"new!\n"}  # the new version replaced the old
    assert (await remote.fetch(url, str(tmp_path / "in"))).from_cache


async def test_concurrent_fetches_of_one_url_download_once(tmp_path: Path,
                                                           http_files: HttpFiles) -> None:
    url = http_files.write("big.bin", os.urandom(3 * 2**20))
    remote = remote_for(tmp_path, http_files)
    results = await asyncio.gather(*(remote.fetch(url, str(tmp_path / "in")) for _ in range(5)))
    assert http_files.gets["/files/big.bin"] == 1
    assert (remote.downloads, remote.hits) == (1, 4)
    assert sorted(r.from_cache for r in results) == [False, True, True, True, True]
    assert len({r.path for r in results}) == 5
    expected = (http_files.root / "big.bin").read_bytes()
    assert all(Path(r.path).read_bytes() == expected for r in results)


async def test_processes_sharing_a_cache_download_once(tmp_path: Path,
                                                       http_files: HttpFiles) -> None:
    # Two objects stand for two processes: their asyncio locks are their own, only the
    # files of the cache folder (and its flocks) are shared.
    url = http_files.write("big.bin", os.urandom(2**20))
    one, two = (remote_for(tmp_path, http_files, cache_dir=str(tmp_path / "shared"))
                for _ in range(2))
    await asyncio.gather(*(r.fetch(url, str(tmp_path / "in")) for r in (one, two, one, two)))
    assert http_files.gets["/files/big.bin"] == 1
    assert one.downloads + two.downloads == 1 and one.hits + two.hits == 3


async def test_least_recently_used_entries_go_first(tmp_path: Path,
                                                   http_files: HttpFiles) -> None:
    urls = {name: http_files.write(name, name.encode() * 100) for name in "abc"}
    remote = remote_for(tmp_path, http_files, cache_max_size=250)
    fetched_b = None
    for name in "aba":  # b is now the least recently used
        fetched = await remote.fetch(urls[name], str(tmp_path / "in"))
        fetched_b = fetched if name == "b" else fetched_b
    assert set(cached(remote)) == {urls["a"], urls["b"]}
    await remote.fetch(urls["c"], str(tmp_path / "in"))  # 300 bytes > 250: one must go
    assert set(cached(remote)) == {urls["a"], urls["c"]}
    # what was handed out survives its eviction
    assert fetched_b is not None and Path(fetched_b.path).read_bytes() == b"b" * 100
    assert (await remote.fetch(urls["a"], str(tmp_path / "in"))).from_cache
    assert not (await remote.fetch(urls["b"], str(tmp_path / "in"))).from_cache


async def test_the_file_just_fetched_stays_even_past_the_limit(
        tmp_path: Path, http_files: HttpFiles) -> None:
    url = http_files.write("a.bin", b"a" * 1000)
    remote = remote_for(tmp_path, http_files, cache_max_size=10)
    fetched = await remote.fetch(url, str(tmp_path / "in"))
    assert cached(remote) == {url: b"a" * 1000}
    assert Path(fetched.path).read_bytes() == b"a" * 1000


async def test_files_handed_out_are_hard_links_the_caller_may_delete(
        tmp_path: Path, http_files: HttpFiles) -> None:
    url = http_files.write("a.txt", b"hello")
    remote = remote_for(tmp_path, http_files)
    fetched = await remote.fetch(url, str(tmp_path / "in"))
    (entry,) = (remote.cache_dir / "data").iterdir()
    assert os.stat(fetched.path).st_ino == entry.stat().st_ino
    os.unlink(fetched.path)
    assert entry.read_bytes() == b"hello"
    again = await remote.fetch(url, str(tmp_path / "in"))
    assert again.from_cache and Path(again.path).read_bytes() == b"hello"


async def test_a_damaged_entry_is_no_hit(tmp_path: Path, http_files: HttpFiles) -> None:
    url = http_files.write("a.txt", b"hello")
    remote = remote_for(tmp_path, http_files)
    fetched = await remote.fetch(url, str(tmp_path / "in"))
    with open(fetched.path, "ab") as linked:  # written through the link handed out
        linked.write(b" world")
    again = await remote.fetch(url, str(tmp_path / "in"))
    assert not again.from_cache and Path(again.path).read_bytes() == b"hello"


async def test_files_without_validators_are_downloaded_every_time(
        tmp_path: Path, http_files: HttpFiles) -> None:
    remote = remote_for(tmp_path, http_files)
    for _ in range(2):
        fetched = await remote.fetch(http_files.url + "/status/200", str(tmp_path / "in"))
        assert not fetched.from_cache and Path(fetched.path).read_bytes() == b"nope"
    assert remote.downloads == 2


async def test_a_copy_when_no_hard_link_can_be_made(tmp_path: Path, http_files: HttpFiles,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def no_link(source: object, dest: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    url = http_files.write("a.txt", b"hello")
    remote = remote_for(tmp_path, http_files)
    monkeypatch.setattr(os, "link", no_link)
    fetched = await remote.fetch(url, str(tmp_path / "in"))
    (entry,) = (remote.cache_dir / "data").iterdir()
    assert os.stat(fetched.path).st_ino != entry.stat().st_ino
    assert Path(fetched.path).read_bytes() == b"hello" == entry.read_bytes()


async def test_an_entry_in_use_elsewhere_is_not_evicted(tmp_path: Path,
                                                        http_files: HttpFiles) -> None:
    first, second = http_files.write("a.bin", b"a" * 100), http_files.write("b.bin", b"b" * 100)
    remote = remote_for(tmp_path, http_files, cache_max_size=150)
    await remote.fetch(first, str(tmp_path / "in"))
    # another process holds the entry of the first (it is fetching it right now)
    (key,) = (p.name for p in (remote.cache_dir / "data").iterdir())
    with open(remote.cache_dir / "locks" / (key + ".lock")) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        await remote.fetch(second, str(tmp_path / "in"))
        assert set(cached(remote)) == {first, second}
    await remote.fetch(http_files.write("c.bin", b"c" * 100), str(tmp_path / "in"))
    assert first not in cached(remote)  # free again, and the least recently used


async def test_downloads_left_behind_by_a_crash_are_swept(tmp_path: Path,
                                                         http_files: HttpFiles) -> None:
    remote = remote_for(tmp_path, http_files)
    (remote.cache_dir / "tmp").mkdir(parents=True)
    stale, fresh = remote.cache_dir / "tmp" / "old.part", remote.cache_dir / "tmp" / "new.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    await remote.fetch(http_files.write("a.txt", b"a"), str(tmp_path / "in"))
    assert not stale.exists() and fresh.exists()
