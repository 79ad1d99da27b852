"""Where a run's files are: a new project (nothing on disk yet) or an existing repository.

Every role reads a file through the workspace, so each sees the proposal over what is on disk,
and proposes through it, so each change keeps the file's text on disk as its `before`. The
repository's map comes from the one index of the run, opened on first use and shared by all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from agents.edits.paths import read_inside
from agents.edits.proposal import Proposal
from agents.execution.test_command import TestCommand, detect_test_command
from repo_index.index import RepoIndex

README_LINES = 40  # of a repository's README in the overview


class RepositoryIndex(Protocol):
    """What a run asks of a repository's index; the language server hands in its own."""

    async def context(self, requirement: str, focus: list[str], budget: int) -> str:
        """The map ranked for `requirement` around `focus`, within `budget` tokens."""
        ...

    async def overview(self) -> tuple[int, list[str]]:
        """How many source files there are, and their folders (see `source_overview`)."""
        ...


def source_overview(index: RepoIndex) -> tuple[int, list[str]]:
    """How many source files the index holds, and the folders they are in. Blocking."""
    files = index.refresh().files
    return files, sorted({str(Path(p).parent) for p in index.files()} - {"."})


class ThreadedIndex:
    """A `RepoIndex` used from one worker thread at a time, off the event loop."""

    def __init__(self, root: Path) -> None:
        self._index = RepoIndex(root)
        self._lock = asyncio.Lock()

    async def context(self, requirement: str, focus: list[str], budget: int) -> str:
        async with self._lock:
            return await asyncio.to_thread(self._index.context, requirement, focus, budget)

    async def overview(self) -> tuple[int, list[str]]:
        async with self._lock:
            return await asyncio.to_thread(source_overview, self._index)

    def close(self) -> None:
        self._index.close()


@dataclass
class Workspace:
    """The run's files: `root` is the repository, None while a new project is being made."""

    root: Path | None = None
    proposal: Proposal = field(default_factory=Proposal)
    test_command_setting: str | None = None  # `test_command` from the settings, if any
    _index: RepositoryIndex | None = field(default=None, repr=False)

    @property
    def is_repository(self) -> bool:
        return self.root is not None

    def on_disk(self, path: str) -> str | None:
        """The file's text on disk; None in a new project or when there is no such file."""
        return None if self.root is None else read_inside(self.root, path)

    def read(self, path: str) -> str | None:
        """The file as the run sees it now: as proposed, else as it is on disk."""
        proposed = self.proposal.text_of(path)
        return proposed if proposed is not None else self.on_disk(path)

    def propose(self, path: str, text: str, role: str) -> None:
        """Propose `text` as the whole of `path`, against its text on disk."""
        self.proposal.put(path, text, role=role, before=self.on_disk(path))

    def withdraw(self, path: str, role: str) -> None:
        """Take back a file this run added."""
        self.proposal.delete(path, before="", role=role)

    def test_command(self) -> TestCommand | None:
        """How the repository's own tests run (None: no test command was found)."""
        if self.root is None:
            return None
        return detect_test_command(self.root, self.test_command_setting)

    @property
    def index(self) -> RepositoryIndex:
        """The run's one index of the repository, opened on first use."""
        if self.root is None:
            raise ValueError("a new project has no repository to index")
        if self._index is None:
            self._index = ThreadedIndex(self.root)
        return self._index

    def use_index(self, index: RepositoryIndex) -> None:
        """Share an index that is already open (the language server's) instead of a new one."""
        self._index = index

    async def legacy_code(self, requirement: str, focus: list[str], budget: int) -> str:
        """The repository map ranked for `requirement` around `focus`, within `budget` tokens."""
        return await self.index.context(requirement, focus, budget)

    async def overview(self, requirement: str, budget: int) -> str:
        """What the document roles know of the repository: its layout, the start of its README,
        and its map ranked for the requirement."""
        root = self.root
        if root is None:
            raise ValueError("a new project has no repository to describe")
        files, folders = await self.index.overview()
        parts = [f"{files} source files; folders: {', '.join(folders) or '(top level only)'}"]
        for path in sorted(root.glob("README*")):
            text = read_inside(root, path.name)
            if text is not None:
                lines = text.splitlines()[:README_LINES]
                parts.append(f"{path.name} (start):\n" + "\n".join(lines))
                break
        parts.append(await self.legacy_code(requirement, [], budget))
        return "\n\n".join(parts)

    def close(self) -> None:
        """Close the index this workspace opened (a shared one stays open for its owner)."""
        if isinstance(self._index, ThreadedIndex):
            self._index.close()
        self._index = None
