"""EditCode: change one existing file with search/replace blocks instead of rewriting it.

Rewriting a large file to change a few lines costs tokens and risks silently dropping code, so
the model quotes the lines it changes. Quoting can go wrong; a block that cannot be applied (or
an answer that is not blocks at all) goes back to the model once, with the reason, in the same
conversation so the model sees what it answered.
"""

from __future__ import annotations

from dataclasses import dataclass

import prompts
from agents.edits.block_parser import REASONS, EditFormatError, parse_blocks
from agents.edits.edit_blocks import BlockFailure, apply_blocks, retry_message
from agents.errors import SoplsError
from agents.framework.action import Action, ActionContext
from agents.llm.client import ChatMessage


@dataclass(frozen=True)
class EditOutcome:
    """The file after the edit, how many blocks applied, and the blocks that never did."""

    text: str
    applied: int
    failures: list[BlockFailure]


@dataclass(frozen=True)
class _Round:
    """One answer applied to the file; `problem` is the follow-up to send, if any."""

    text: str
    applied: int
    failures: list[BlockFailure]
    format_error: EditFormatError | None

    def problem(self, edit_format: str) -> str | None:
        if self.format_error is not None:
            return prompts.render(
                "engineer/edit_unusable.md", error=str(self.format_error), edit_format=edit_format
            )
        return retry_message(self.failures) if self.failures else None


def _apply(text: str, answer: str, path: str) -> _Round:
    try:
        blocks = parse_blocks(answer)
    except EditFormatError as exc:
        return _Round(text, 0, [], exc)
    result = apply_blocks(text, blocks, path=path)
    return _Round(result.text, result.applied, result.failures, None)


def _unusable(failures: list[BlockFailure], error: EditFormatError) -> list[BlockFailure]:
    """The first answer's failures, each also saying that the corrected answer was unusable."""
    return [
        BlockFailure(
            f.block, prompts.macro(REASONS, "retry_unusable", reason=f.reason, error=str(error))
        )
        for f in failures
    ]


class EditCode(Action):
    description = "Change one existing file with search/replace blocks."
    template = "engineer/edit_code.md"

    async def edit(
        self,
        ctx: ActionContext,
        *,
        path: str,
        current: str,
        what: str,
        design: str,
        legacy_code: str,
        bug_feedback: str = "",
    ) -> EditOutcome:
        """Ask for blocks, apply them, and retry the ones that failed once.

        Raises EditFormatError when neither answer holds usable blocks.
        """
        edit_format = prompts.render("engineer/edit_format.md", path=path)
        prompt = prompts.render(
            self.template,
            path=path,
            current=current,
            what=what,
            requirement=ctx.requirement,
            design=design,
            legacy_code=legacy_code,
            bug_feedback=bug_feedback,
            edit_format=edit_format,
        )
        system: list[ChatMessage] = (
            [{"role": "system", "content": ctx.system_prompt}] if ctx.system_prompt else []
        )
        conversation = [*system, {"role": "user", "content": prompt}]
        answer = await self._complete(ctx, conversation)
        first = _apply(current, answer, path)
        follow_up = first.problem(edit_format)
        if follow_up is None:
            return EditOutcome(first.text, first.applied, [])
        conversation += [
            {"role": "assistant", "content": answer},
            {"role": "user", "content": follow_up},
        ]
        second = _apply(first.text, await self._complete(ctx, conversation), path)
        if second.format_error is None:
            return EditOutcome(second.text, first.applied + second.applied, second.failures)
        if first.format_error is not None:
            raise second.format_error
        unusable = _unusable(first.failures, second.format_error)
        return EditOutcome(first.text, first.applied, unusable)

    async def _complete(self, ctx: ActionContext, conversation: list[ChatMessage]) -> str:
        try:
            completion = await ctx.llm.acompletion(
                conversation, role=ctx.role_name, action=self.name
            )
        except SoplsError as exc:
            exc.located(ctx.role_name, self.name)
            raise
        return completion.content
