"""The three document actions: requirement → PRD → system design → task list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.company.documents import PRD, SystemDesign, TaskList
from agents.framework.action import Action, ActionContext
from agents.framework.documents import Document


def _existing(ctx: ActionContext, kind: type[Document]) -> str:
    """The current document of this kind (from an earlier run), to refine rather than replace."""
    current = ctx.documents.get(kind)
    return current.to_markdown() if current is not None else ""


class WritePRD(Action):
    description = "Write the product requirements document for the user's requirement."
    template = "product_manager/write_prd.md"
    output = PRD

    def prompt_variables(self, ctx: ActionContext) -> Mapping[str, Any]:
        if not ctx.requirement:
            raise LookupError("no requirement has been given")
        return {
            "requirement": ctx.requirement,
            "existing": _existing(ctx, PRD),
            "repository": ctx.legacy_code,
        }


class WriteDesign(Action):
    description = "Write the system design from the PRD."
    template = "architect/write_design.md"
    output = SystemDesign

    def prompt_variables(self, ctx: ActionContext) -> Mapping[str, Any]:
        return {
            "prd": ctx.documents.require(PRD).to_markdown(),
            "existing": _existing(ctx, SystemDesign),
            "repository": ctx.legacy_code,
        }


class WriteTasks(Action):
    description = "Break the system design into file tasks in dependency order."
    template = "project_manager/write_tasks.md"
    output = TaskList

    def prompt_variables(self, ctx: ActionContext) -> Mapping[str, Any]:
        return {
            "prd": ctx.documents.require(PRD).to_markdown(),
            "design": ctx.documents.require(SystemDesign).to_markdown(),
            "existing": _existing(ctx, TaskList),
            "repository": ctx.legacy_code,
        }
