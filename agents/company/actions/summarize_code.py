"""SummarizeCode: what the code does as a whole, and what is still left to do per file."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from agents.framework.action import Action, ActionContext


class FileTodo(BaseModel):
    path: str
    todo: str = Field(description="what is missing or wrong in this file, precisely")


class CodeSummary(BaseModel):
    summary: str = Field(description="what the program does and how its files fit together")
    todos: list[FileTodo] = Field(
        default_factory=list, max_length=20, description="empty when nothing is left to do"
    )


class SummarizeCode(Action):
    description = "Summarize the written code and list what is left to do."
    template = "engineer/summarize_code.md"
    output = CodeSummary

    async def summarize(
        self, ctx: ActionContext, design: str, files: Mapping[str, str]
    ) -> CodeSummary:
        output = await self.ask(ctx, design=design, files=list(files.items()))
        assert isinstance(output.payload, CodeSummary)
        return output.payload
