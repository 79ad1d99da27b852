"""The three document actions: requirement → PRD → system design → task list."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from agents.company.documents import PRD, SystemDesign, TaskList
from agents.framework.action import Action, ActionContext
from agents.framework.documents import Document


class DocumentAction(Action, ABC):
    """Writes one document from what comes before it, refining the document of an earlier run
    and seeing the repository's map when there is one."""

    output: ClassVar[type[Document]]

    @abstractmethod
    def sources(self, ctx: ActionContext) -> dict[str, str]:
        """What this document is written from."""

    def prompt_variables(self, ctx: ActionContext) -> Mapping[str, Any]:
        current = ctx.documents.get(self.output)
        existing = current.to_markdown() if current is not None else ""
        return {**self.sources(ctx), "existing": existing, "repository": ctx.legacy_code}


class WritePRD(DocumentAction):
    description = "Write the product requirements document for the user's requirement."
    template = "product_manager/write_prd.md"
    output = PRD

    def sources(self, ctx: ActionContext) -> dict[str, str]:
        if not ctx.requirement:
            raise LookupError("no requirement has been given")
        return {"requirement": ctx.requirement}


class WriteDesign(DocumentAction):
    description = "Write the system design from the PRD."
    template = "architect/write_design.md"
    output = SystemDesign

    def sources(self, ctx: ActionContext) -> dict[str, str]:
        return {"prd": ctx.documents.require(PRD).to_markdown()}


class WriteTasks(DocumentAction):
    description = "Break the system design into file tasks in dependency order."
    template = "project_manager/write_tasks.md"
    output = TaskList

    def sources(self, ctx: ActionContext) -> dict[str, str]:
        return {
            "prd": ctx.documents.require(PRD).to_markdown(),
            "design": ctx.documents.require(SystemDesign).to_markdown(),
        }
