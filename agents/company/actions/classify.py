"""ClassifyRequest: the Product Manager decides whether a request is a feature or a bug."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agents.framework.action import Action, ActionContext


class RequestKind(BaseModel):
    kind: Literal["feature", "bug"] = Field(
        description="bug: something that exists behaves wrongly; feature: new or changed behaviour"
    )
    reason: str = ""


class ClassifyRequest(Action):
    description = "Decide whether a request is a feature or a bug report."
    template = "product_manager/classify.md"
    output = RequestKind

    async def classify(self, ctx: ActionContext, requirement: str) -> RequestKind:
        answer = await self.ask(ctx, requirement=requirement, repository=ctx.legacy_code)
        assert isinstance(answer.payload, RequestKind)
        return answer.payload
