"""WriteCode: one file's full source, from the design, its task and its dependencies' interfaces."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from pydantic import BaseModel, Field

from agents.edits.code_blocks import extract_code
from agents.framework.action import Action, ActionContext

# Where a file's feedback comes from; the template names it in the prompt.
FeedbackKind = Literal["", "debug_logs", "review_comments", "summary_todos", "bug_feedback"]


@dataclass(frozen=True)
class CodeJob:
    """What the Engineer knows about one file when writing it."""

    path: str
    task: str
    design: str
    shared_knowledge: str
    interfaces: str
    legacy_code: str = ""
    current_code: str = ""
    feedback: str = ""
    feedback_kind: FeedbackKind = ""


class WriteCode(Action):
    description = "Write the complete source of one file."
    template = "engineer/write_code.md"

    async def write(self, ctx: ActionContext, job: CodeJob) -> str:
        output = await self.ask(ctx, **asdict(job))
        return extract_code(output.content, job.path)


class CodeChange(BaseModel):
    """The Engineer's announcement that code is ready: the files, and those that failed."""

    files: list[str]
    summary: str = ""
    errors: dict[str, str] = Field(default_factory=dict)
