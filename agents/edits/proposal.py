"""Proposals: what a run would change, kept apart from the user's files until they accept it.

A run never writes the workspace. It collects create/modify/delete entries with the full text
before and after, which the language server turns into a WorkspaceEdit and the CLI (or a test
sandbox) applies with `Proposal.write_to`.

A path a model names is checked where it enters (`safe_relative_path`); the proposal itself holds
only paths `proposal_path` accepts, and checks each one again against the disk when it is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from agents.edits.atomic_write import write_atomic
from agents.edits.paths import UnsafePathError, proposal_path
from agents.errors import SoplsError


class UnknownPathError(SoplsError, KeyError):
    """A path was asked for that the proposal does not contain."""

    def __init__(self, path: str, known: list[str]) -> None:
        self.path = path
        self.known = known
        listing = ", ".join(known) if known else "none"
        super().__init__(f"The proposal has no change for {path!r}. Its paths are: {listing}.")

    def __str__(self) -> str:
        # KeyError would otherwise print the message with quotes around it.
        return str(self.args[0])


class WriteConflictError(SoplsError):
    """Applying the proposal would need a file where a folder is, or the other way round."""


class ChangeKind(StrEnum):
    CREATE = "create"
    MODIFY = "modify"
    DELETE = "delete"


class FileChange(BaseModel):
    """One file's proposed change, with enough text to show a diff and to apply it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    change: ChangeKind
    before: str | None = None
    after: str | None = None
    role: str = ""

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        # Pydantic reports only ValueError as a validation error, e.g. when loading run.json.
        try:
            return proposal_path(value)
        except UnsafePathError as exc:
            raise ValueError(str(exc)) from exc

    @model_validator(mode="after")
    def _texts_match_kind(self) -> FileChange:
        expected = {
            ChangeKind.CREATE: (False, True),
            ChangeKind.MODIFY: (True, True),
            ChangeKind.DELETE: (True, False),
        }[self.change]
        actual = (self.before is not None, self.after is not None)
        if actual != expected:
            raise ValueError(
                f"a {self.change} of {self.path} needs before "
                f"{'text' if expected[0] else 'None'} and after "
                f"{'text' if expected[1] else 'None'}"
            )
        return self


class Proposal(BaseModel):
    """The ordered changes of a run, at most one per path."""

    model_config = ConfigDict(extra="forbid")

    files: list[FileChange] = []

    @model_validator(mode="after")
    def _one_entry_per_path(self) -> Proposal:
        seen: set[str] = set()
        for change in self.files:
            if change.path in seen:
                raise ValueError(f"the proposal lists {change.path} more than once")
            seen.add(change.path)
        return self

    def __len__(self) -> int:
        return len(self.files)

    def paths(self) -> list[str]:
        return [change.path for change in self.files]

    def get(self, path: str) -> FileChange | None:
        key = proposal_path(path)
        return next((change for change in self.files if change.path == key), None)

    def text_of(self, path: str) -> str | None:
        """The proposed text of `path`; None when it is deleted or not part of the proposal."""
        change = self.get(path)
        return change.after if change is not None else None

    def put(self, path: str, text: str, *, role: str = "", before: str | None = None) -> None:
        """Propose `text` as the full new content of `path`.

        `before` is the file's current text, None when it does not exist yet. Once a path is in
        the proposal its original `before` is kept, so repeated edits stay one diff against disk.
        """
        key = proposal_path(path)
        existing = self.get(key)
        if existing is not None:
            before = existing.before
            role = role or existing.role
        if before is not None and text == before:
            self._set(key, None)
            return
        kind = ChangeKind.CREATE if before is None else ChangeKind.MODIFY
        self._set(key, FileChange(path=key, change=kind, before=before, after=text, role=role))

    def delete(self, path: str, *, before: str, role: str = "") -> None:
        """Propose removing `path`, whose current text is `before`."""
        key = proposal_path(path)
        existing = self.get(key)
        if existing is not None:
            if existing.before is None:
                # It was only ever proposed, never on disk: deleting it means no change.
                self._set(key, None)
                return
            before = existing.before
            role = role or existing.role
        self._set(
            key,
            FileChange(path=key, change=ChangeKind.DELETE, before=before, after=None, role=role),
        )

    def subset(self, paths: Iterable[str]) -> Proposal:
        """The changes for `paths` only, in the proposal's order (e.g. what the user accepted)."""
        known = self.paths()
        wanted: set[str] = set()
        for path in paths:
            key = proposal_path(path)
            if key not in known:
                raise UnknownPathError(path, known)
            wanted.add(key)
        return Proposal(files=[change for change in self.files if change.path in wanted])

    def write_to(self, root: Path) -> list[Path]:
        """Apply the proposal under `root` and return the paths written or deleted.

        Every path is checked first, so one unsafe or conflicting path means nothing is written.
        Each file is replaced atomically, so a crash never leaves half a file behind.
        """
        planned = [(proposal_path(change.path, root), change) for change in self.files]
        _check_conflicts(root, planned)
        done: list[Path] = []
        for relative, change in planned:
            target = root / relative
            if change.after is None:
                target.unlink(missing_ok=True)
            else:
                write_atomic(target, change.after)
            done.append(target)
        return done

    def _set(self, key: str, change: FileChange | None) -> None:
        """Replace the entry for `key` in place (keeping its position), add it, or drop it."""
        for index, existing in enumerate(self.files):
            if existing.path == key:
                if change is None:
                    del self.files[index]
                else:
                    self.files[index] = change
                return
        if change is not None:
            self.files.append(change)


def _check_conflicts(root: Path, planned: list[tuple[str, FileChange]]) -> None:
    """Refuse file/folder collisions before anything is written."""
    written = {relative for relative, change in planned if change.after is not None}
    for relative, change in planned:
        target = root / relative
        if target.is_dir() and not target.is_symlink():
            raise WriteConflictError(
                f"Cannot {change.change} {relative}: a folder with that name exists in {root}."
            )
        if change.after is None:
            continue
        parents = relative.split("/")[:-1]
        for depth in range(1, len(parents) + 1):
            folder = "/".join(parents[:depth])
            if folder in written:
                raise WriteConflictError(
                    f"Cannot write {relative}: the proposal also writes {folder} as a file."
                )
            on_disk = root / folder
            if on_disk.exists() and not on_disk.is_dir():
                raise WriteConflictError(
                    f"Cannot write {relative}: {on_disk} is a file, not a folder."
                )
