"""PlanChange: which existing files a requirement touches and which new files it needs.

In a repository the Engineer does not rewrite the project: it first decides, from the Legacy
Code, the smallest set of files to edit or create, so each file's edit can then be asked for on
its own with a precise description of what changes there.
"""

from __future__ import annotations

from typing import Literal, cast

from pydantic import BaseModel, Field

from agents.framework.action import Action, ActionContext


class PlannedFile(BaseModel):
    """One file of the change: edited in place (`modify`) or written whole (`create`)."""

    path: str
    change: Literal["modify", "create"]
    what: str
    uses: list[str] = Field(default_factory=list)


class ChangePlan(BaseModel):
    """The files a requirement changes, in the order they should be written."""

    summary: str
    files: list[PlannedFile] = Field(min_length=1, max_length=20)


class PlanChange(Action):
    description = "Plan which files of the repository to modify and which to create."
    template = "engineer/plan_change.md"
    output = ChangePlan

    async def plan(
        self,
        ctx: ActionContext,
        *,
        design: str,
        legacy_code: str,
        bug_feedback: str = "",
    ) -> ChangePlan:
        """Ask for the plan of the context's requirement; the answer is validated against
        `ChangePlan`."""
        answer = await self.ask(
            ctx,
            requirement=ctx.requirement,
            design=design,
            legacy_code=legacy_code,
            bug_feedback=bug_feedback,
        )
        return cast(ChangePlan, answer.payload)
