"""A role whose work is one document: shared with the team, and proposed under `docs/` for new
projects and for repositories that already keep sopls documents."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from agents.company.roles.company_role import CompanyRole
from agents.framework.action import Action, ActionOutput
from agents.framework.documents import Document


class DocumentRole(CompanyRole):
    """`writes` is the role's one action, taken when `after` (the document before) is done."""

    writes: ClassVar[type[Action]]
    after: ClassVar[type[Action] | type[BaseModel]]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(actions=[self.writes], watch=[self.after], **kwargs)

    def keep(self, output: ActionOutput) -> None:
        if not isinstance(output.payload, Document):
            return
        document = output.payload
        self.context.documents.put(document)
        base = f"docs/{document.doc_name}"
        workspace = self.workspace
        if workspace.is_repository and workspace.on_disk(f"{base}.json") is None:
            return  # a repository without sopls documents gets code changes only
        for path, text in (
            (f"{base}.json", document.model_dump_json(indent=2) + "\n"),
            (f"{base}.md", document.to_markdown() + "\n"),
        ):
            workspace.propose(path, text, role=self.name)
