"""Folders built once and reused: a lock so two runs never build one at once, and a record
written only when the build finished, so a half-built folder is never taken as done."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from agents.edits.atomic_write import write_atomic


def read_record(record: Path, wanted: Mapping[str, Any]) -> bool:
    """Whether `record` says the build finished for exactly `wanted`. Blocking."""
    try:
        return json.loads(record.read_text(encoding="utf-8")) == dict(wanted)
    except (OSError, ValueError):
        return False


def write_record(record: Path, wanted: Mapping[str, Any]) -> None:
    """Say the build for `wanted` finished, atomically. Blocking."""
    write_atomic(record, json.dumps(dict(wanted)) + "\n")


@contextlib.asynccontextmanager
async def locked(path: Path) -> AsyncIterator[None]:
    """Hold an exclusive lock on `path` for as long as the block runs."""
    lock = await asyncio.to_thread(open, path, "w")
    try:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        yield
    finally:
        lock.close()
