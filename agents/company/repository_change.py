"""How the Engineer changes an existing repository: a change plan, then one step per file.

Existing files get search/replace edits (the proposal keeps their text before and after, so the
editor shows minimal hunks); new files are written whole. Each file's prompt carries "Legacy
Code": the repository map focused on that file, within `legacy_budget` tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from agents.company.actions.edit_code import EditCode
from agents.company.actions.plan_change import ChangePlan, PlanChange, PlannedFile
from agents.company.actions.write_code import CodeJob, WriteCode
from agents.edits.edit_blocks import EditFormatError
from agents.edits.paths import safe_relative_path
from agents.errors import SoplsError
from agents.framework.action import ActionContext
from agents.framework.context import Context
from agents.framework.file_steps import FileSteps
from agents.framework.scheduling import dependency_graph, run_in_dependency_order
from repo_index.index import RepoIndex

LEGACY_CODE_BUDGET = 2048  # tokens of repository map in each prompt


class RepositoryChange:
    """One requirement (or bug) turned into proposed edits of the repository at `root`."""

    def __init__(self, root: Path, context: Context, role: str, legacy_budget: int) -> None:
        self.root = root
        self.context = context
        self.role = role
        self.legacy_budget = legacy_budget
        self.file_errors: dict[str, str] = {}
        self._index = RepoIndex(root)
        self._index_lock = asyncio.Lock()  # the index is used from one thread at a time

    async def legacy_code(self, requirement: str, focus: list[str]) -> str:
        async with self._index_lock:
            return await asyncio.to_thread(
                self._index.context, requirement, focus, self.legacy_budget
            )

    def close(self) -> None:
        self._index.close()

    async def apply(self, ctx: ActionContext, requirement: str, feedback: str) -> list[str]:
        """Plan, then change every planned file; returns the files the proposal now changes."""
        plan = await PlanChange().plan(
            ctx,
            requirement=requirement,
            legacy_code=await self.legacy_code(requirement, []),
            bug_feedback=feedback,
        )
        planned = self._checked(plan)
        graph = dependency_graph(list(planned), {p: f.uses for p, f in planned.items()})
        steps = FileSteps(self.context, self.role, "EditCode", len(planned), self.file_errors)

        async def one(path: str, ready: Callable[[], None]) -> None:
            step = self._change(ctx, planned[path], requirement, feedback)
            await steps.run(path, step, (EditFormatError, SoplsError))
            ready()

        await run_in_dependency_order(graph, one)
        return [p for p in planned if self.context.proposal.get(p) is not None]

    def _checked(self, plan: ChangePlan) -> dict[str, PlannedFile]:
        """The plan's files under safe paths; a path that would leave the repository is refused."""
        planned: dict[str, PlannedFile] = {}
        for item in plan.files:
            try:
                path = safe_relative_path(item.path, self.root)
            except SoplsError as exc:
                self.file_errors[item.path] = str(exc)
                self.context.emit(self.role, "EditCode", "failed", path=item.path, detail=str(exc))
                continue
            planned[path] = item.model_copy(update={"path": path})
        return planned

    async def _change(
        self, ctx: ActionContext, item: PlannedFile, requirement: str, feedback: str
    ) -> None:
        proposal = self.context.proposal
        current = proposal.text_of(item.path)
        on_disk = None
        with suppress(FileNotFoundError, IsADirectoryError):
            on_disk = (self.root / item.path).read_text(encoding="utf-8")
        current = current if current is not None else on_disk
        legacy = await self.legacy_code(requirement, [item.path] if on_disk is not None else [])
        if current is None:
            job = CodeJob(
                path=item.path,
                task=item.what,
                design=requirement,
                shared_knowledge="",
                interfaces="",
                legacy_code=legacy,
                feedback=feedback,
                feedback_kind="Bug feedback" if feedback else "",
            )
            proposal.put(item.path, await WriteCode().write(ctx, job), role=self.role)
            return
        outcome = await EditCode().edit(
            ctx,
            path=item.path,
            current=current,
            what=item.what,
            requirement=requirement,
            legacy_code=legacy,
            bug_feedback=feedback,
        )
        if outcome.failures:
            self.file_errors[item.path] = "; ".join(f.reason for f in outcome.failures)
        if outcome.text != current:
            proposal.put(item.path, outcome.text, role=self.role, before=on_disk)
