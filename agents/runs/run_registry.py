"""Run ids, and the workspace's index of its runs kept in other folders.

A run started with a target folder keeps its folder under that target
(`<target>/.sopls/runs/<id>`), so a later server on the workspace would not find it under the
workspace's own `.sopls/runs/`. The index `<workspace>/.sopls/runs.json` maps such a run's id to
its folder. It lives in a folder a cloned repository can fill, so it is read as hostile input:
an entry counts only when it names a real `.../.sopls/runs/<id>` folder of that id holding a
`run.json`; whoever opens the run then checks that the record inside is that run's.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agents.edits.atomic_write import write_atomic

logger = logging.getLogger("sopls.runs")

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
RUN_ID_FORM = (
    "a run id is a plain name such as 20261203-061500-a1b2c3 (letters, digits, '.', '_' and "
    "'-', at most 128)"
)


def is_run_id(text: str) -> bool:
    """Whether `text` is a run name that can only ever be one folder inside a runs folder."""
    return RUN_ID.fullmatch(text) is not None


def runs_folder(home: Path) -> Path:
    """Where the runs of a workspace or target folder are kept."""
    return home / ".sopls" / "runs"


class RunRegistry:
    """The index of runs kept outside the workspace's own runs folder."""

    def __init__(self, workspace: Path) -> None:
        self.path = workspace / ".sopls" / "runs.json"

    def add(self, run_id: str, folder: Path) -> None:
        """Record the run in `folder`, dropping entries whose folders are gone."""
        with self._locked():
            entries = self.folders()
            entries[run_id] = folder
            text = json.dumps({key: str(path) for key, path in sorted(entries.items())}, indent=2)
            write_atomic(self.path, text + "\n")

    def folder(self, run_id: str) -> Path | None:
        return self.folders().get(run_id)

    def folders(self) -> dict[str, Path]:
        """The valid entries: run id to run folder."""
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("ignoring %s, which is not a runs index: %s", self.path, exc)
            return {}
        if not isinstance(entries, dict):
            logger.warning("ignoring %s, which is not a runs index", self.path)
            return {}
        return {
            run_id: Path(folder)
            for run_id, folder in entries.items()
            if isinstance(folder, str) and _is_run_folder(run_id, folder)
        }

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time, so two servers adding runs at once both keep theirs."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(f".{self.path.name}.lock")
        descriptor = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)


def _is_run_folder(run_id: str, folder: str) -> bool:
    """Whether `folder` is an existing `<somewhere>/.sopls/runs/<run_id>`, spelled as itself
    (absolute, normalised, no symlink), holding a `run.json`."""
    path = Path(folder)
    return (
        is_run_id(run_id)
        and path.is_absolute()
        and path.name == run_id
        and path.parent.name == "runs"
        and path.parent.parent.name == ".sopls"
        and os.path.realpath(path) == folder
        and (path / "run.json").is_file()
    )
