"""Actions: one step a role can take, with its prompt in a template under `prompts/`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

import prompts

if TYPE_CHECKING:
    from agents.framework.documents import DocumentStore
    from agents.llm.client import LLM


@dataclass(frozen=True)
class ActionContext:
    """What an action gets to work with: the role's model, the role's view, and its task.

    The role's memory arrives as prompt text (`history`) and the team's requirement as given,
    so an action never needs the messages themselves.
    """

    llm: LLM
    role_name: str
    system_prompt: str
    history: str
    documents: DocumentStore
    requirement: str = ""
    instruction: str = ""
    legacy_code: str = ""  # the existing repository's map, when there is one


@dataclass(frozen=True)
class ActionOutput:
    content: str
    payload: BaseModel | None = None


class Action:
    """A step of a role. By default: render `template` with `prompt_variables`, ask the LLM.

    `output` set to a pydantic model makes the answer structured and validated.
    """

    name: ClassVar[str] = "Action"
    description: ClassVar[str] = ""
    template: ClassVar[str] = "action/default.md"
    output: ClassVar[type[BaseModel] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    def prompt_variables(self, ctx: ActionContext) -> Mapping[str, Any]:
        """The template's variables; actions with their own template override this."""
        return {
            "action": self.name,
            "description": self.description,
            "instruction": ctx.instruction,
            "history": ctx.history,
        }

    async def run(self, ctx: ActionContext) -> ActionOutput:
        return await self.ask(ctx, **self.prompt_variables(ctx))

    async def ask(self, ctx: ActionContext, **variables: Any) -> ActionOutput:
        """Render the template with `variables` and ask the role's LLM."""
        prompt = prompts.render(self.template, **variables)
        if self.output is None:
            text = await ctx.llm.aask(
                prompt, ctx.system_prompt, role=ctx.role_name, action=self.name
            )
            return ActionOutput(content=text)
        document = await ctx.llm.aask(
            prompt, ctx.system_prompt, schema=self.output, role=ctx.role_name, action=self.name
        )
        return ActionOutput(content=document.model_dump_json(indent=2), payload=document)
