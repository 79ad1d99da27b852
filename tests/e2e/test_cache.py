"""The on-disk tag cache: exact round trips, stale keys, recovery, and sharing across processes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_index.cache import SCHEMA_VERSION, CachedEntry, TagCache, content_digest
from repo_index.files import SourceFile
from repo_index.model import Definition, FileTags

PROJECT = Path(__file__).resolve().parents[2]


def _tags(path: str, n: int = 3) -> FileTags:
    definitions = tuple(
        Definition(f"name_{i}", "function", i * 10, i * 10 + 4, f"def name_{i}(x: int) -> str:")
        for i in range(n)
    )
    method = Definition("ünïcode", "method", 40, 41, "def ünïcode(self) -> None:", "Outer.Inner")
    return FileTags(
        path, "python", (*definitions, method), {"print": 3, "Outer": 1, "名前": 2, "x": 40}
    )


def _file(path: str, size: int = 100, mtime_ns: int = 1_700_000_000_123_456_789) -> SourceFile:
    return SourceFile(path, size, mtime_ns)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ws" / ".sopls" / "index.db"


@pytest.fixture
def cache(db_path: Path) -> Iterator[TagCache]:
    opened = TagCache(db_path)
    yield opened
    opened.close()


def test_store_then_lookup_round_trips_tags_exactly(cache: TagCache, db_path: Path) -> None:
    files = [_file("a.py"), _file("pkg/b.py", size=7)]
    empty = FileTags("empty.ts", "typescript")
    cache.store([(files[0], "d1", _tags("a.py")), (files[1], "d2", _tags("pkg/b.py", 0))])
    cache.store([(_file("empty.ts"), "d3", empty)])

    found = cache.lookup([*files, _file("empty.ts"), _file("unknown.py")])

    assert found == {
        "a.py": CachedEntry("d1", _tags("a.py")),
        "pkg/b.py": CachedEntry("d2", _tags("pkg/b.py", 0)),
        "empty.ts": CachedEntry("d3", empty),
    }
    assert list(found["a.py"].tags.references) == ["print", "Outer", "名前", "x"]
    assert db_path.is_file()


def test_entries_survive_reopening(cache: TagCache, db_path: Path) -> None:
    cache.store([(_file("a.py"), "d1", _tags("a.py"))])
    cache.close()

    reopened = TagCache(db_path)
    try:
        assert reopened.lookup([_file("a.py")]) == {"a.py": CachedEntry("d1", _tags("a.py"))}
    finally:
        reopened.close()


def test_changed_size_or_mtime_misses(cache: TagCache) -> None:
    cache.store([(_file("a.py"), "d1", _tags("a.py"))])

    assert cache.lookup([_file("a.py", size=101)]) == {}
    assert cache.lookup([_file("a.py", mtime_ns=1_700_000_000_123_456_790)]) == {}


def test_storing_again_replaces_the_entry(cache: TagCache) -> None:
    cache.store([(_file("a.py"), "d1", _tags("a.py"))])
    cache.store([(_file("a.py", size=5), "d2", _tags("a.py", 1))])

    assert cache.lookup([_file("a.py")]) == {}
    assert cache.lookup([_file("a.py", size=5)]) == {"a.py": CachedEntry("d2", _tags("a.py", 1))}


def test_same_size_same_mtime_edit_is_caught_by_the_digest(cache: TagCache, tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 1\n")
    info = path.stat()
    before = SourceFile("m.py", info.st_size, info.st_mtime_ns)
    cache.store([(before, content_digest(path.read_bytes()), _tags("m.py"))])

    path.write_bytes(b"x = 2\n")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    info = path.stat()
    after = SourceFile("m.py", info.st_size, info.st_mtime_ns)

    assert after == before
    entry = cache.lookup([after])["m.py"]
    assert content_digest(path.read_bytes()) != entry.digest


def test_content_digest_is_16_byte_blake2b_hex() -> None:
    digest = content_digest(b"abc")

    assert len(digest) == 32
    assert digest == content_digest(b"abc") != content_digest(b"abd")


def test_forget_removes_entries(cache: TagCache) -> None:
    files = [_file(f"f{i}.py") for i in range(1200)]
    cache.store([(file, "d", _tags(file.path, 0)) for file in files])

    cache.forget(file.path for file in files[:1100])

    assert sorted(cache.lookup(files)) == sorted(file.path for file in files[1100:])


def test_garbage_database_file_is_rebuilt(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a SQLite database at all" * 100)

    cache = TagCache(db_path)
    try:
        assert cache.lookup([_file("a.py")]) == {}
        cache.store([(_file("a.py"), "d1", _tags("a.py"))])
        assert cache.lookup([_file("a.py")]) == {"a.py": CachedEntry("d1", _tags("a.py"))}
    finally:
        cache.close()


def test_corruption_found_after_opening_rebuilds_the_database(db_path: Path) -> None:
    files = [_file(f"f{i}.py") for i in range(300)]
    cache = TagCache(db_path)
    cache.store([(file, "d", _tags(file.path, 30)) for file in files])
    cache.close()
    with db_path.open("r+b") as handle:  # keep the header page, wreck the pages after it
        handle.seek(4096)
        handle.write(b"\xff" * (db_path.stat().st_size - 4096))

    cache = TagCache(db_path)
    try:
        assert cache.lookup(files) == {}
        cache.store([(_file("a.py"), "d1", _tags("a.py"))])
        assert cache.lookup([_file("a.py")]) == {"a.py": CachedEntry("d1", _tags("a.py"))}
    finally:
        cache.close()


def test_other_schema_version_is_rebuilt(cache: TagCache, db_path: Path) -> None:
    cache.store([(_file("a.py"), "d1", _tags("a.py"))])
    cache.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()

    reopened = TagCache(db_path)
    try:
        assert reopened.lookup([_file("a.py")]) == {}
    finally:
        reopened.close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_undecodable_row_is_a_miss(cache: TagCache, db_path: Path) -> None:
    cache.store([(_file("a.py"), "d1", _tags("a.py")), (_file("b.py"), "d2", _tags("b.py"))])
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE files SET tags = x'00010203' WHERE path = 'a.py'")
    conn.close()

    assert list(cache.lookup([_file("a.py"), _file("b.py")])) == ["b.py"]


_READER = """
import json, sys
from pathlib import Path
from repo_index.cache import TagCache
from repo_index.files import SourceFile

cache = TagCache(Path(sys.argv[1]))
found = cache.lookup([SourceFile(p, 100, 1_700_000_000_123_456_789) for p in sys.argv[2:]])
print(json.dumps({path: [entry.digest, len(entry.tags.definitions), entry.tags.references]
                  for path, entry in found.items()}))
cache.close()
"""


def test_another_process_reads_what_this_one_stored(cache: TagCache, db_path: Path) -> None:
    cache.store([(_file("a.py"), "d1", _tags("a.py")), (_file("b.py"), "d2", _tags("b.py", 1))])

    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    result = subprocess.run(
        [sys.executable, "-c", _READER, str(db_path), "a.py", "b.py", "c.py"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )

    references = {"print": 3, "Outer": 1, "名前": 2, "x": 40}
    assert json.loads(result.stdout) == {
        "a.py": ["d1", 4, references],
        "b.py": ["d2", 2, references],
    }
