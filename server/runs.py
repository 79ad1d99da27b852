"""The server's view of runs: the ones going on now, and the ones kept in run folders.

A stored run is looked up under the workspace's own `.sopls/runs/<id>`, or through the
workspace's runs index for a run kept in another folder; never at a path built from the id
anywhere else. A run folder is read as hostile input, since a cloned repository can commit one:
a record that is not the folder's run, or that names a project folder other than the one holding
the run, makes the run unreadable rather than followed.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from agents.edits.paths import UnsafePathError, safe_relative_path
from agents.errors import SoplsError
from agents.framework.context import Context
from agents.runs.run_registry import RunRegistry, runs_folder
from agents.runs.run_state import RunFolder, RunRecord

RunTask = asyncio.Task[tuple[RunRecord, Context]]


class UnreadableRunError(SoplsError):
    """A run folder whose files cannot be trusted or read."""


@dataclass
class ActiveRun:
    folder: RunFolder
    task: RunTask
    request_id: Any


@dataclass(frozen=True)
class UnreadableRun:
    """A run folder that cannot be used, listed with the reason so the user can clean it up."""

    run_id: str
    folder: Path
    reason: str


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
        """The folder and record of the run `run_id` (a valid run id), or InvalidParams."""
        try:
            folder, record = read_run(self._folder(run_id, workspace))
        except UnreadableRunError as exc:
            raise _unusable(exc) from None
        self._folders[run_id] = folder.path
        return folder, record

    def delete(self, run_id: str, workspace: Path) -> None:
        """Remove the folder of the run `run_id`, found as `open` finds it, or InvalidParams.

        A run that cannot be read is removed too, since its reason asks for exactly that; a
        folder reached through a symlink is refused, as the link could lead anywhere.
        """
        if self.is_active(run_id):
            raise JsonRpcInvalidParams(
                f"runId: run {run_id!r} is still going; cancel it before deleting it"
            )
        path = self._folder(run_id, workspace)
        if any(part.is_symlink() for part in (path, path.parent, path.parent.parent)):
            raise JsonRpcInvalidParams(
                f"runId: the folder of run {run_id!r} is reached through a symbolic link; "
                f"remove {path} by hand"
            )
        try:
            shutil.rmtree(path)
        except OSError as exc:
            raise JsonRpcInternalError(
                f"{path} could not be removed ({exc.strerror}); remove it by hand"
            ) from None
        self._folders.pop(run_id, None)

    def _folder(self, run_id: str, workspace: Path) -> Path:
        """The folder of the run `run_id`: one seen before, else a stored one; or InvalidParams."""
        path = self._folders.get(run_id) or _stored_folder(run_id, workspace)
        if path is None or not path.is_dir():
            raise JsonRpcInvalidParams(
                f"runId: no run {run_id!r} in {runs_folder(workspace)} or in the runs index "
                "of the workspace; sopls.listRuns shows the runs there"
            )
        return path

    def project_root(self, folder: RunFolder, record: RunRecord) -> Path:
        """Where a stored run's files go (see `run_project_root`), or InvalidParams."""
        try:
            return run_project_root(folder, record)
        except UnreadableRunError as exc:
            raise _unusable(exc) from None

    def records(self, workspace: Path) -> list[RunRecord | UnreadableRun]:
        """Every known run, newest first, then the run folders that cannot be used."""
        paths = set(self._folders.values()) | set(RunRegistry(workspace).folders().values())
        local = runs_folder(workspace)
        if local.is_dir():
            paths.update(p for p in local.iterdir() if (p / "run.json").is_file())
        records: list[RunRecord] = []
        unreadable: list[UnreadableRun] = []
        for path in paths:
            try:
                folder, record = read_run(path)
            except UnreadableRunError as exc:
                unreadable.append(UnreadableRun(path.name, path, str(exc)))
                continue
            self._folders[record.id] = folder.path
            records.append(record)
        records.sort(key=lambda r: r.created, reverse=True)
        return [*records, *sorted(unreadable, key=lambda run: run.run_id)]


def _unusable(exc: UnreadableRunError) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(f"runId: {exc}")


def _stored_folder(run_id: str, workspace: Path) -> Path | None:
    local = runs_folder(workspace) / run_id
    if (local / "run.json").is_file():
        return local
    return RunRegistry(workspace).folder(run_id)


def read_run(path: Path) -> tuple[RunFolder, RunRecord]:
    """The run kept in `path`, whose record must be the run the folder is named after."""
    try:
        folder, record = RunFolder.open(path)
    except SoplsError as exc:
        raise UnreadableRunError(str(exc)) from None
    if record.id != path.name:
        raise UnreadableRunError(
            f"{folder.record_path} is the record of run {record.id!r}, not of {path.name!r}; "
            "restore the file or remove the run folder"
        )
    return folder, record


def run_project_root(folder: RunFolder, record: RunRecord) -> Path:
    """Where the run's files go: the folder that holds the run, or a folder inside it.

    The record says which, and it is as open to tampering as the proposal, so a target or a
    project name that points anywhere else is refused with UnreadableRunError.
    """
    home = folder.path.parent.parent.parent  # <home>/.sopls/runs/<id>
    if record.target is not None:
        if Path(record.target).resolve() != home.resolve():
            raise UnreadableRunError(
                f"{folder.record_path} names the project folder {record.target}, but the run "
                f"is kept in {home}; remove the run folder"
            )
        return Path(record.target)
    name = record.project_name or record.id
    try:
        return home / safe_relative_path(name, home)
    except UnsafePathError as exc:
        raise UnreadableRunError(
            f"the project name {name!r} of run {record.id!r} is no folder sopls writes to: "
            f"{exc.reason}"
        ) from None
