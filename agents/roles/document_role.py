"""A role whose work is one document: it is shared with the team and proposed under `docs/`."""

from __future__ import annotations

from agents.action import ActionOutput
from agents.documents import Document
from agents.role import Role


class DocumentRole(Role):
    def keep(self, output: ActionOutput) -> None:
        if not isinstance(output.payload, Document):
            return
        document = output.payload
        self.context.documents.put(document)
        base = f"docs/{document.doc_name}"
        proposal = self.context.proposal
        proposal.put(f"{base}.json", document.model_dump_json(indent=2) + "\n", role=self.name)
        proposal.put(f"{base}.md", document.to_markdown() + "\n", role=self.name)
