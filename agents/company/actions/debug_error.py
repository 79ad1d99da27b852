"""DebugError: QA decides whether a failing run is the code's fault or the test's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from agents.framework.action import Action, ActionContext


class FileFix(BaseModel):
    path: str
    debug_logs: str = Field(description="the failure, its cause, and what to change in this file")


class BugReport(BaseModel):
    """QA's request to the Engineer: fix these files."""

    fixes: list[FileFix] = Field(min_length=1, max_length=20)


class DebugVerdict(BaseModel):
    blame: Literal["code", "test"] = Field(
        description="code: the program is wrong; test: the test expects the wrong thing"
    )
    fixes: list[FileFix] = Field(
        min_length=1, max_length=20, description="the files to change (source or test files)"
    )


class DebugError(Action):
    description = "Find why the tests failed and who must fix it."
    template = "qa/debug_error.md"
    output = DebugVerdict

    async def diagnose(
        self,
        ctx: ActionContext,
        output: str,
        sources: Mapping[str, str],
        tests: Mapping[str, str],
    ) -> DebugVerdict:
        answer = await self.ask(
            ctx, output=output, sources=list(sources.items()), tests=list(tests.items())
        )
        assert isinstance(answer.payload, DebugVerdict)
        return answer.payload
