"""The server's view of runs: the ones going on now, and the ones kept in run folders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from agents.context import Context
from agents.errors import SoplsError
from agents.run_state import RunFolder, RunRecord

RunTask = asyncio.Task[tuple[RunRecord, Context]]


@dataclass
class ActiveRun:
    folder: RunFolder
    task: RunTask
    request_id: Any


class RunManager:
    def __init__(self) -> None:
        self._active: dict[str, ActiveRun] = {}
        self._folders: dict[str, Path] = {}

    def start(self, folder: RunFolder, record: RunRecord, task: RunTask, request_id: Any) -> None:
        self._folders[record.id] = folder.path
        self._active[record.id] = ActiveRun(folder, task, request_id)
        task.add_done_callback(lambda _: self._active.pop(record.id, None))

    def is_active(self, run_id: str) -> bool:
        return run_id in self._active

    def cancel(self, run_id: str) -> bool:
        """Cancel a running run; False when it is not running."""
        active = self._active.get(run_id)
        return active is not None and active.task.cancel()

    def cancel_request(self, request_id: Any) -> None:
        """Cancel the run that the (cancelled) request `request_id` started, if any."""
        for active in list(self._active.values()):
            if active.request_id == request_id:
                active.task.cancel()

    def open(self, run_id: str, workspace: Path) -> tuple[RunFolder, RunRecord]:
        """The folder and record of a run started here or kept under the workspace."""
        path = self._folders.get(run_id) or workspace / ".sopls" / "runs" / run_id
        try:
            folder, record = RunFolder.open(path)
        except SoplsError:
            raise JsonRpcInvalidParams(
                f"runId: no run {run_id!r} in {workspace / '.sopls' / 'runs'}; "
                "sopls.listRuns shows the runs there"
            ) from None
        self._folders[run_id] = folder.path
        return folder, record

    def records(self, workspace: Path) -> list[RunRecord]:
        """Every known run, newest first."""
        paths = set(self._folders.values())
        runs_root = workspace / ".sopls" / "runs"
        if runs_root.is_dir():
            paths.update(p for p in runs_root.iterdir() if (p / "run.json").is_file())
        records = []
        for path in paths:
            try:
                folder, record = RunFolder.open(path)
            except (SoplsError, ValueError):
                continue
            self._folders[record.id] = folder.path
            records.append(record)
        return sorted(records, key=lambda r: r.created, reverse=True)
