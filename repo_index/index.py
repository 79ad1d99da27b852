"""The index of one workspace: which files there are, what each defines and references.

Cold, files are parsed in parallel across cores; a SQLite cache at `.sopls/index.db` lets a new
process re-parse only files whose content changed; in a long-lived process every map first
re-checks the files' sizes and modification times, so a map asked for after an edit always
reflects it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from repo_index.cache import TagCache, content_digest
from repo_index.files import SourceFile, discover, read_source
from repo_index.mentions import identifiers_in
from repo_index.model import Definition, FileTags
from repo_index.ranking import rank
from repo_index.render import render_map
from repo_index.tags import extract_tags

logger = logging.getLogger("sopls.index")

PARALLEL_FROM = 64  # below this many files to parse, a process pool costs more than it saves


@dataclass
class IndexStats:
    files: int = 0
    definitions: int = 0
    references: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    parsed: int = 0
    cache_hits: int = 0
    skipped: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _parse_batch(batch: list[tuple[str, bytes]]) -> list[FileTags | None]:
    return [extract_tags(path, data) for path, data in batch]


def _batches(items: list[tuple[str, bytes]], count: int) -> list[list[tuple[str, bytes]]]:
    """Split into `count` batches of similar byte size (largest first, greedy)."""
    batches: list[list[tuple[str, bytes]]] = [[] for _ in range(count)]
    sizes = [0] * count
    for item in sorted(items, key=lambda i: len(i[1]), reverse=True):
        smallest = sizes.index(min(sizes))
        batches[smallest].append(item)
        sizes[smallest] += len(item[1])
    return [b for b in batches if b]


class RepoIndex:
    def __init__(self, root: Path, *, use_cache: bool = True, workers: int | None = None) -> None:
        self.root = root.resolve()
        self.workers = workers or os.cpu_count() or 1
        self._cache = TagCache(self.root / ".sopls" / "index.db") if use_cache else None
        self._tags: dict[str, FileTags] = {}
        self._stat: dict[str, tuple[int, int]] = {}
        self._ranks: dict[str, float] = {}
        self.stats = IndexStats()

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    # --- keeping the index current ------------------------------------------------------------

    def refresh(self) -> IndexStats:
        """Bring the index in line with the workspace: new, changed and deleted files."""
        started = time.perf_counter()
        files = discover(self.root)
        discovered = time.perf_counter()
        current = {f.path: f for f in files}
        gone = [p for p in self._tags if p not in current]
        self._drop(gone)
        changed = [f for f in files if self._stat.get(f.path) != (f.size, f.mtime_ns)]
        hits, parsed, skipped = self._load(changed)
        done = time.perf_counter()
        languages = Counter(t.language for t in self._tags.values())
        self.stats = IndexStats(
            files=len(self._tags),
            definitions=sum(len(t.definitions) for t in self._tags.values()),
            references=sum(sum(t.references.values()) for t in self._tags.values()),
            languages=dict(sorted(languages.items())),
            parsed=parsed,
            cache_hits=hits,
            skipped=skipped,
            seconds={"discover": discovered - started, "load and parse": done - discovered},
        )
        return self.stats

    def update(self, paths: Iterable[str]) -> None:
        """Re-read just these files (edited, created or deleted since the last look)."""
        wanted = set(paths)
        present = [f for f in discover(self.root) if f.path in wanted]
        self._drop([p for p in wanted if p not in {f.path for f in present}])
        self._load(present)

    def _drop(self, paths: Sequence[str]) -> None:
        for path in paths:
            self._tags.pop(path, None)
            self._stat.pop(path, None)
        if paths and self._cache is not None:
            self._cache.forget(paths)

    def _load(self, files: Sequence[SourceFile]) -> tuple[int, int, int]:
        """Tags for these files from the cache when their content is unchanged, else parsed."""
        cached = self._cache.lookup(files) if self._cache is not None else {}
        hits = skipped = 0
        to_parse: list[tuple[SourceFile, str, bytes]] = []
        for file in files:
            data = read_source(self.root, file)
            if data is None:
                skipped += 1
                self._drop([file.path])
                continue
            digest = content_digest(data)
            entry = cached.get(file.path)
            if entry is not None and entry.digest == digest:
                self._tags[file.path] = entry.tags
                self._stat[file.path] = (file.size, file.mtime_ns)
                hits += 1
            else:
                to_parse.append((file, digest, data))
        results = self._parse([(f.path, data) for f, _, data in to_parse])
        fresh: list[tuple[SourceFile, str, FileTags]] = []
        for (file, digest, _), tags in zip(to_parse, results, strict=True):
            if tags is None:
                skipped += 1
                continue
            self._tags[file.path] = tags
            self._stat[file.path] = (file.size, file.mtime_ns)
            fresh.append((file, digest, tags))
        if fresh and self._cache is not None:
            self._cache.store(fresh)
        return hits, len(fresh), skipped

    def _parse(self, items: list[tuple[str, bytes]]) -> list[FileTags | None]:
        if len(items) < PARALLEL_FROM or self.workers < 2:
            return _parse_batch(items)
        batches = _batches(items, self.workers * 4)
        # fork is fastest; with other threads running (e.g. inside the language server) it is
        # not safe, so a fresh interpreter is started instead.
        method = "fork" if threading.active_count() == 1 else "forkserver"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            results = list(pool.map(_parse_batch, batches))
        by_path = {
            path: tags
            for batch, batch_tags in zip(batches, results, strict=True)
            for (path, _), tags in zip(batch, batch_tags, strict=True)
        }
        return [by_path[path] for path, _ in items]

    # --- queries -----------------------------------------------------------------------------

    def files(self) -> list[str]:
        return sorted(self._tags)

    def tags(self, path: str) -> FileTags | None:
        return self._tags.get(path)

    def symbols(self, path: str) -> tuple[Definition, ...]:
        tags = self._tags.get(path)
        return tags.definitions if tags is not None else ()

    def text(self, path: str) -> str | None:
        """A file's text; None for a symlink or a path outside the root, whose content must not
        reach a prompt."""
        file = self.root / path
        try:
            if file.is_symlink() or not file.resolve().is_relative_to(self.root.resolve()):
                return None
            return file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def context(self, requirement: str = "", focus: Sequence[str] = (), budget: int = 1024) -> str:
        """The ranked map of the workspace for a requirement, within `budget` tokens."""
        self.refresh()
        focus = [p for p in focus if p in self._tags or (self.root / p).is_file()]
        ranking = rank(
            self._tags, focus=focus, mentioned=identifiers_in(requirement), start=self._ranks
        )
        self._ranks = dict(ranking.files)
        return render_map(ranking, self.text, focus=focus, budget=budget)
