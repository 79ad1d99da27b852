"""A role's per-file steps, each reported as it starts and ends: "Engineer · src/game.py (2/5)"."""

from __future__ import annotations

from collections.abc import Awaitable

from agents.framework.context import Context


class FileSteps:
    """Counts the steps of one pass over files and records the files that failed, with why."""

    def __init__(
        self, context: Context, role: str, action: str, total: int, errors: dict[str, str]
    ) -> None:
        self.context = context
        self.role = role
        self.action = action
        self.total = total
        self.errors = errors
        self.done = 0

    async def run(
        self, path: str, step: Awaitable[None], failures: tuple[type[Exception], ...]
    ) -> None:
        """Await `step`; one of `failures` fails this file only, anything else the run."""
        emit = self.context.emit
        emit(self.role, self.action, "started", path=path, done=self.done, total=self.total)
        self.errors.pop(path, None)
        try:
            await step
        except failures as exc:
            self.errors[path] = str(exc)
        self.done += 1
        detail = self.errors.get(path, "")
        status = "failed" if detail else "finished"
        emit(
            self.role,
            self.action,
            status,
            path=path,
            done=self.done,
            total=self.total,
            detail=detail,
        )
