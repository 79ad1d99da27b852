"""How the Engineer changes an existing repository: a change plan, then one step per file.

Existing files get search/replace edits (the proposal keeps their text before and after, so the
editor shows minimal hunks); new files are written whole. Each file's prompt carries "Legacy
Code": the repository map focused on that file, within `legacy_budget` tokens.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.company.actions.edit_code import EditCode
from agents.company.actions.plan_change import ChangePlan, PlanChange, PlannedFile
from agents.company.actions.write_code import CodeJob, WriteCode
from agents.company.context import CompanyContext
from agents.edits.block_parser import EditFormatError
from agents.edits.paths import safe_relative_path
from agents.errors import SoplsError
from agents.framework.action import ActionContext
from agents.framework.file_steps import FileSteps
from agents.framework.scheduling import dependency_graph, run_in_dependency_order

LEGACY_CODE_BUDGET = 2048  # tokens of repository map in each prompt


class RepositoryChange:
    """One requirement (or bug) turned into proposed edits of the run's repository."""

    def __init__(self, context: CompanyContext, role: str, legacy_budget: int) -> None:
        self.workspace = context.workspace
        self.context = context
        self.role = role
        self.legacy_budget = legacy_budget
        self.file_errors: dict[str, str] = {}

    async def legacy_code(self, focus: list[str]) -> str:
        """The repository map ranked for the requirement, around the `focus` files."""
        return await self.workspace.legacy_code(self.context.requirement, focus, self.legacy_budget)

    async def apply(self, ctx: ActionContext, design: str, feedback: str) -> list[str]:
        """Plan, then change every planned file; returns the files the proposal now changes.

        The requirement is the context's; `design` is a feature's design and task list ("" for
        a bug), `feedback` what the user or QA said is failing."""
        plan = await PlanChange().plan(
            ctx,
            design=design,
            legacy_code=await self.legacy_code([]),
            bug_feedback=feedback,
        )
        planned = self._checked(plan)
        graph = dependency_graph(list(planned), {p: f.uses for p, f in planned.items()})
        steps = FileSteps(self.context, self.role, "EditCode", len(planned), self.file_errors)

        async def one(path: str, ready: Callable[[], None]) -> None:
            step = self._change(ctx, planned[path], design, feedback)
            await steps.run(path, step, (EditFormatError, SoplsError))
            ready()

        await run_in_dependency_order(graph, one)
        return [p for p in planned if self.workspace.proposal.get(p) is not None]

    def _checked(self, plan: ChangePlan) -> dict[str, PlannedFile]:
        """The plan's files under safe paths; a path that would leave the repository is refused."""
        planned: dict[str, PlannedFile] = {}
        for item in plan.files:
            try:
                path = safe_relative_path(item.path, self.workspace.root)
            except SoplsError as exc:
                self.file_errors[item.path] = str(exc)
                self.context.emit(self.role, "EditCode", "failed", path=item.path, detail=str(exc))
                continue
            planned[path] = item.model_copy(update={"path": path})
        return planned

    async def _change(
        self, ctx: ActionContext, item: PlannedFile, design: str, feedback: str
    ) -> None:
        workspace = self.workspace
        on_disk = workspace.on_disk(item.path)
        current = workspace.read(item.path)
        legacy = await self.legacy_code([item.path] if on_disk is not None else [])
        if current is None:
            job = CodeJob(
                path=item.path,
                task=item.what,
                design="\n\n".join(filter(None, [ctx.requirement, design])),
                shared_knowledge="",
                interfaces="",
                legacy_code=legacy,
                feedback=feedback,
                feedback_kind="bug_feedback" if feedback else "",
            )
            workspace.propose(item.path, await WriteCode().write(ctx, job), role=self.role)
            return
        outcome = await EditCode().edit(
            ctx,
            path=item.path,
            current=current,
            what=item.what,
            design=design,
            legacy_code=legacy,
            bug_feedback=feedback,
        )
        if outcome.failures:
            self.file_errors[item.path] = "; ".join(f.reason for f in outcome.failures)
        if outcome.text != current:
            workspace.propose(item.path, outcome.text, role=self.role)
