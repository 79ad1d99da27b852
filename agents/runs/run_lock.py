"""The folder a run will write: checked free before any call is paid, and locked for the run's life.

The lock is an `flock` on `<folder>/.sopls/run.lock`, so the kernel drops it when the process
ends, however it ends: a killed run never leaves a stale lock. The file names the holder, so a
refused run can say which one is in the way.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from agents.errors import SoplsError

RUNS_FOLDER = ".sopls"  # sopls's own state; a folder holding only this counts as free
_LOCK_NAME = "run.lock"


class TargetNotEmptyError(SoplsError):
    """A new project was asked for in a folder that already holds something."""


class FolderUnusableError(SoplsError):
    """The folder cannot be created or written."""


class RunLockedError(SoplsError):
    """Another run holds the lock of the folder."""


def check_free_folder(root: Path) -> None:
    """Refuse `root` for a new project unless it is missing or holds nothing but a run folder."""
    try:
        if not root.exists():
            return
        if not root.is_dir():
            raise TargetNotEmptyError(
                f"{root} is a file, not a folder. Pick another --project-path or remove it."
            )
        others = sorted(entry.name for entry in root.iterdir() if entry.name != RUNS_FOLDER)
    except OSError as exc:  # e.g. a name too long, or a folder that cannot be listed
        raise _unusable(root, exc.strerror) from None
    if others:
        shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
        raise TargetNotEmptyError(
            f"The folder {root} is not empty (it contains {shown}). "
            "Pick another --project-path or remove it."
        )


def claim_folder(folder: Path, run_id: str, *, empty: bool, shared: bool = False) -> RunLock:
    """Lock `folder` for run `run_id`; with `empty`, it must also be free for a new project.

    Checked before locking, so a taken folder gets no lock file, and again after, in case a run
    that held it wrote there in between.
    """
    if empty:
        check_free_folder(folder)
    lock = RunLock.acquire(folder, run_id, shared=shared)
    if empty:
        try:
            check_free_folder(folder)
        except SoplsError:
            lock.release()
            raise
    return lock


class RunLock:
    """One run's hold on a folder; `shared` holders only exclude exclusive ones."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor = descriptor

    @classmethod
    def acquire(cls, folder: Path, run_id: str, *, shared: bool = False) -> RunLock:
        """Lock `folder` (created if missing) for run `run_id`, or say who holds it."""
        path = folder / RUNS_FOLDER / _LOCK_NAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _unusable(folder, exc.strerror) from None
        if not os.access(folder, os.W_OK | os.X_OK):
            os.close(descriptor)
            raise _unusable(folder, "permission denied")
        try:
            fcntl.flock(descriptor, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(descriptor)
            os.close(descriptor)
            raise RunLockedError(
                f"{holder} is already running in {folder}. Wait for it to finish, stop it, "
                "or pick another --project-path."
            ) from None
        owner = json.dumps({"run": run_id, "pid": os.getpid()}).encode()
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, owner, 0)
        return cls(path, descriptor)

    def release(self) -> None:
        os.close(self._descriptor)


def _unusable(folder: Path, reason: str | None) -> FolderUnusableError:
    return FolderUnusableError(
        f"Cannot write to {folder} ({reason or 'unknown error'}). Pick a folder you can write to."
    )


def _holder(descriptor: int) -> str:
    """The run named in the lock file, as a phrase; a generic one when it cannot be read."""
    try:
        owner = json.loads(os.pread(descriptor, 4096, 0))
        return f"run {owner['run']} (pid {int(owner['pid'])})"
    except (OSError, ValueError, TypeError, KeyError):
        return "another sopls run"
