"""A bug report from the user: the short path straight to the Engineer (PRODUCT.md §2.3)."""

from __future__ import annotations

from pydantic import BaseModel

from agents.framework.action import Action, ActionContext, ActionOutput


class BugFeedback(BaseModel):
    """What the user says is wrong, and the failing test output when there is any."""

    description: str
    test_output: str = ""


class ReportBug(Action):
    """The cause of a bug report message; the Engineer acts on it in the repository."""

    description = "A bug report from the user."

    async def run(self, ctx: ActionContext) -> ActionOutput:
        raise TypeError("ReportBug marks the user's bug report; it is not run by a role")
