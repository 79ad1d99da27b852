"""The repository index of one workspace, kept current without blocking the event loop.

Indexing parses files and walks the tree, which takes from milliseconds to seconds; the server
must keep answering meanwhile (PRODUCT.md §12). So every use of the `RepoIndex` runs in one
dedicated thread: not pygls' thread pool, which the stdin reader shares, and one thread only, so
the index needs no locking. Edits arrive as bursts of notifications; each file is re-read once
its burst has been quiet for `DEBOUNCE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pydantic.alias_generators import to_camel
from pygls.uris import to_fs_path

from agents.company.workspace import source_overview
from repo_index.languages import INDEX_EXTENSIONS, index_language_for_path

if TYPE_CHECKING:
    from repo_index.index import RepoIndex

logger = logging.getLogger("sopls.server.index")

DEBOUNCE_SECONDS = 0.3

T = TypeVar("T")

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")  # two letters at least: not a drive letter


def relative_path(root: Path, reference: str) -> str | None:
    """`reference` (a file: URI, or a path absolute or relative to `root`) as a relative POSIX
    path; None when it is another kind of URI or lies outside `root`."""
    if _SCHEME.match(reference):
        local = to_fs_path(reference) if reference.startswith("file:") else None
        if local is None:
            return None
        path = Path(local)
    else:
        path = root / reference
    # Lexically first, so a link inside the workspace keeps its own name; then resolved, for
    # clients that spell the root through a symlink.
    for candidate in (Path(os.path.normpath(path)), path.resolve()):
        try:
            relative = candidate.relative_to(root)
        except ValueError:
            continue
        return relative.as_posix() if relative.parts else None
    return None


class WorkspaceIndex:
    """One workspace's `RepoIndex`, built on first use and only ever touched by its own thread."""

    def __init__(self, root: Path, *, debounce: float = DEBOUNCE_SECONDS) -> None:
        self.root = root.resolve()
        self._debounce = debounce
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sopls-index")
        self._repo: RepoIndex | None = None  # index thread only
        self._timers: dict[str, asyncio.TimerHandle] = {}  # event loop only
        self._lock = threading.Lock()  # guards the two fields below, shared by both
        self._due: set[str] = set()
        self._flush_queued = False

    async def repo_map(
        self, requirement: str, focus: Sequence[str], budget: int
    ) -> tuple[str, dict[str, Any]]:
        """The ranked map for `requirement` within `budget` tokens, and the figures behind it."""
        return await self._submit(lambda repo: _map_with_stats(repo, requirement, focus, budget))

    async def context(self, requirement: str, focus: list[str], budget: int) -> str:
        """The ranked map alone: what a run on this workspace reads (see `Workspace.index`)."""
        return await self._submit(lambda repo: repo.context(requirement, focus, budget))

    async def overview(self) -> tuple[int, list[str]]:
        return await self._submit(source_overview)

    def schedule_update(self, path: str) -> None:
        """Re-read `path` (relative POSIX) once no event has named it for the debounce time.

        Call from the event loop. Files the index does not cover are ignored, which also keeps
        the index's own cache file from triggering updates of itself.
        """
        if index_language_for_path(path) is None:
            return
        timer = self._timers.pop(path, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[path] = loop.call_later(self._debounce, self._quiet, path)

    def close(self) -> None:
        """Drop pending updates and close the index once the thread has finished its work."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._executor.submit(self._close_repo)
        self._executor.shutdown(wait=False)

    def _submit(self, work: Callable[[RepoIndex], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, lambda: work(self._repo_index()))

    def _repo_index(self) -> RepoIndex:
        if self._repo is None:
            # Imported here so that starting the server does not pay for the indexer's imports.
            from repo_index.index import RepoIndex

            self._repo = RepoIndex(self.root)
        return self._repo

    def _quiet(self, path: str) -> None:
        """A file's burst of events is over: queue it for the next flush, one flush at a time."""
        self._timers.pop(path, None)
        with self._lock:
            self._due.add(path)
            if self._flush_queued:
                return
            self._flush_queued = True
        self._executor.submit(self._flush).add_done_callback(_log_failure)

    def _flush(self) -> None:
        with self._lock:
            paths, self._due = sorted(self._due), set()
            self._flush_queued = False
        # Before the first map there is nothing to update: that map indexes the whole tree.
        if self._repo is not None:
            self._repo.update(paths)
            logger.debug("re-indexed %s", ", ".join(paths))

    def _close_repo(self) -> None:
        if self._repo is not None:
            self._repo.close()
            self._repo = None


def _map_with_stats(
    repo: RepoIndex, requirement: str, focus: Sequence[str], budget: int
) -> tuple[str, dict[str, Any]]:
    started = time.perf_counter()
    text = repo.context(requirement, focus, budget)
    elapsed = time.perf_counter() - started
    stats = repo.stats
    seconds = {to_camel(step.replace(" ", "_")): value for step, value in stats.seconds.items()}
    return text, {
        "files": stats.files,
        "definitions": stats.definitions,
        "references": stats.references,
        "languages": dict(stats.languages),
        "parsed": stats.parsed,
        "cacheHits": stats.cache_hits,
        "skipped": stats.skipped,
        "seconds": {**seconds, "total": elapsed},
    }


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and (error := future.exception()) is not None:
        logger.warning("re-indexing failed: %s", error, exc_info=error)


def watch_sources() -> types.RegistrationParams:
    """Asks the editor to report changes to every file the index covers."""
    extensions = ",".join(sorted(suffix.lstrip(".") for suffix in INDEX_EXTENSIONS))
    return types.RegistrationParams(
        registrations=[
            types.Registration(
                id=f"sopls-index-{uuid.uuid4().hex}",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=f"**/*.{{{extensions}}}")]
                ),
            )
        ]
    )


def log_refused_watch(answer: Future[None]) -> None:
    if not answer.cancelled() and (error := answer.exception()) is not None:
        logger.warning("the editor will not report file changes: %s", error)
