"""The three document actions: requirement → PRD → system design → task list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agents.action import Action, ActionContext, UserRequirement
from agents.documents import PRD, SystemDesign, TaskList
from agents.message import Message


def latest_requirement(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if message.cause_by is UserRequirement:
            return message.content
    raise LookupError("no requirement has been given")


class WritePRD(Action):
    description = "Write the product requirements document for the user's requirement."
    template = "product_manager/write_prd.md"
    output = PRD

    def prompt_variables(self, ctx: ActionContext) -> Mapping[str, Any]:
        return {"requirement": latest_requirement(ctx.messages)}


class WriteDesign(Action):
    description = "Write the system design from the PRD."
    template = "architect/write_design.md"
    output = SystemDesign

    def prompt_variables(self, ctx: ActionContext) -> Mapping[str, Any]:
        return {"prd": ctx.documents.require(PRD).to_markdown()}


class WriteTasks(Action):
    description = "Break the system design into file tasks in dependency order."
    template = "project_manager/write_tasks.md"
    output = TaskList

    def prompt_variables(self, ctx: ActionContext) -> Mapping[str, Any]:
        return {
            "prd": ctx.documents.require(PRD).to_markdown(),
            "design": ctx.documents.require(SystemDesign).to_markdown(),
        }
