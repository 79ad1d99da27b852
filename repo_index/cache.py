"""The on-disk tag cache, so that a new process re-parses only the files that changed.

One SQLite row per file holds its stat key (path, size, mtime_ns), the digest of the bytes that
were parsed, and its tags as one blob: a zlib-compressed `marshal` of plain tuples and a dict.
That blob decodes several times faster than JSON and keeps the database a few MB for a thousand
files. Every write is one transaction and the database runs in WAL mode, so readers in other
processes see each store entirely or not at all.

The cache is disposable: a database from another schema version, or one SQLite reports as
corrupt, is deleted and rebuilt; a row that no longer decodes is a miss; other SQLite failures
are logged and degrade to misses and dropped writes rather than stopping the index.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import starmap
from pathlib import Path

from repo_index.files import SourceFile
from repo_index.model import Definition, FileTags

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_CHUNK = 500  # bound parameters per statement, well under SQLite's oldest limit of 999
_COMPRESSION_LEVEL = 1
_CORRUPTION_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL,
    tags BLOB NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class CachedEntry:
    """What the cache remembers of a file: the digest of the bytes parsed, and their tags."""

    digest: str
    tags: FileTags


def content_digest(data: bytes) -> str:
    """The content half of the cache key: a 16-byte BLAKE2b digest, as hex."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class TagCache:
    """Tags of parsed files in a SQLite database, keyed by path, size, mtime and content digest.

    Safe for one writing process and any number of reading ones. Within a process the
    connection is shared by threads under a lock, since indexing may run off the main thread.
    """

    def __init__(self, db_path: Path) -> None:
        self._path = db_path
        self._lock = threading.Lock()
        self._conn = self._open()

    def lookup(self, files: Sequence[SourceFile]) -> dict[str, CachedEntry]:
        """Cached entries of `files` whose path, size and mtime_ns all match, by path.

        A match is not yet a hit: an edit can keep both size and mtime (a checkout or a copy
        that preserves times), so the caller hashes the file's current bytes with
        `content_digest` and re-parses when that differs from the entry's digest.
        """
        wanted = {file.path: file for file in files}
        found: dict[str, CachedEntry] = {}
        with self._lock:
            try:
                rows = self._select(list(wanted))
            except sqlite3.Error as exc:
                self._failed("read", exc)
                return found
        for path, size, mtime_ns, digest, blob in rows:
            file = wanted[path]
            if size != file.size or mtime_ns != file.mtime_ns:
                continue
            tags = _decode(path, blob)
            if tags is not None:
                found[path] = CachedEntry(digest, tags)
        return found

    def store(self, entries: Sequence[tuple[SourceFile, str, FileTags]]) -> None:
        """Remember `(file, content_digest, tags)` for each entry, replacing older rows."""
        rows = [
            (file.path, file.size, file.mtime_ns, digest, _encode(tags))
            for file, digest, tags in entries
        ]
        with self._lock:
            try:
                with self._transaction():
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows
                    )
            except sqlite3.Error as exc:
                self._failed("write", exc)

    def forget(self, paths: Iterable[str]) -> None:
        """Drop the rows of `paths`, such as files that were deleted or are no longer indexed."""
        keys = list(paths)
        with self._lock:
            try:
                with self._transaction():
                    for start in range(0, len(keys), _CHUNK):
                        chunk = keys[start : start + _CHUNK]
                        marks = ",".join("?" * len(chunk))
                        self._conn.execute(f"DELETE FROM files WHERE path IN ({marks})", chunk)
            except sqlite3.Error as exc:
                self._failed("write", exc)

    def close(self) -> None:
        """Close the database; the cache must not be used afterwards."""
        with self._lock:
            self._conn.close()

    def _select(self, paths: list[str]) -> list[tuple[str, int, int, str, bytes]]:
        """Rows for `paths`, read in one transaction so they come from a single snapshot."""
        rows: list[tuple[str, int, int, str, bytes]] = []
        with self._transaction("BEGIN"):
            for start in range(0, len(paths), _CHUNK):
                chunk = paths[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += self._conn.execute(
                    f"SELECT path, size, mtime_ns, digest, tags FROM files WHERE path IN ({marks})",
                    chunk,
                )
        return rows

    @contextmanager
    def _transaction(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
        self._conn.execute(begin)
        try:
            yield
        except BaseException:
            self._conn.rollback()
            raise
        self._conn.execute("COMMIT")

    def _failed(self, action: str, exc: sqlite3.Error) -> None:
        """Rebuild a corrupt database; log any other failure and carry on without the rows."""
        if _is_corruption(exc):
            logger.warning("tag cache %s is corrupt (%s); rebuilding it", self._path, exc)
            self._conn.close()
            self._conn = self._open(discard=True)
        else:
            logger.warning("tag cache %s failed: %s", action, exc)

    def _open(self, *, discard: bool = False) -> sqlite3.Connection:
        """A connection with the current schema, rebuilding a corrupt or outdated database.

        `discard` starts afresh without trying the existing file. When the file cannot be used
        at all (a read-only workspace, say), the cache lives in memory for this process so
        indexing still works.
        """
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            if not discard:
                try:
                    return _connect(str(self._path))
                except _Outdated as exc:
                    logger.info("rebuilding tag cache %s: %s", self._path, exc)
                except sqlite3.DatabaseError as exc:
                    if not _is_corruption(exc):
                        raise
                    logger.warning("tag cache %s is corrupt (%s); rebuilding it", self._path, exc)
            self._delete_files()
            return _connect(str(self._path))
        except (OSError, sqlite3.Error) as exc:
            logger.warning("tag cache %s unusable (%s); keeping it in memory", self._path, exc)
            return _connect(":memory:")

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            self._path.with_name(self._path.name + suffix).unlink(missing_ok=True)


class _Outdated(Exception):
    """The database was written with another schema version."""


def _connect(target: str) -> sqlite3.Connection:
    """Open `target` in WAL mode, creating the schema, or raise `_Outdated`."""
    conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=10)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if version != SCHEMA_VERSION and tables:
                raise _Outdated(f"schema version {version}, expected {SCHEMA_VERSION}")
            if not tables:
                conn.execute(_SCHEMA)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.rollback()
            raise
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


def _is_corruption(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _CORRUPTION_CODES


def _encode(tags: FileTags) -> bytes:
    definitions = tuple(
        (d.name, d.kind, d.line, d.end_line, d.signature, d.scope) for d in tags.definitions
    )
    plain = (tags.language, definitions, tags.references)
    return zlib.compress(marshal.dumps(plain), _COMPRESSION_LEVEL)


def _decode(path: str, blob: bytes) -> FileTags | None:
    """The tags in `blob`, or None (a miss) when it was written by an incompatible build."""
    try:
        language, definitions, references = marshal.loads(zlib.decompress(blob))
        return FileTags(path, language, tuple(starmap(Definition, definitions)), references)
    except (ValueError, TypeError, EOFError, zlib.error) as exc:
        logger.info("tag cache entry for %s does not decode: %s", path, exc)
        return None
