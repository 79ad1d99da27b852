"""ReviewCode: LGTM or LBTM for one file, with the issues to fix."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agents.company.actions.write_code import CodeJob
from agents.framework.action import Action, ActionContext


class CodeReview(BaseModel):
    verdict: Literal["LGTM", "LBTM"] = Field(
        description="LGTM: looks good to me; LBTM: looks bad to me, must be rewritten"
    )
    issues: list[str] = Field(
        default_factory=list, max_length=10, description="concrete problems to fix (LBTM)"
    )


class ReviewCode(Action):
    description = "Review one file against its task and the design."
    template = "engineer/review_code.md"
    output = CodeReview

    async def review(self, ctx: ActionContext, job: CodeJob, code: str) -> CodeReview:
        seen = {name: getattr(job, name) for name in ("path", "task", "design", "interfaces")}
        output = await self.ask(ctx, **seen, code=code)
        assert isinstance(output.payload, CodeReview)
        return output.payload
