"""A role whose work is one document: shared with the team, and proposed under `docs/` for new
projects and for repositories that already keep sopls documents."""

from __future__ import annotations

from agents.edits.paths import read_inside
from agents.framework.action import ActionOutput
from agents.framework.documents import Document
from agents.framework.role import Role


class DocumentRole(Role):
    def keep(self, output: ActionOutput) -> None:
        if not isinstance(output.payload, Document):
            return
        document = output.payload
        self.context.documents.put(document)
        base = f"docs/{document.doc_name}"
        root = self.context.project_root
        if root is not None and not (root / f"{base}.json").is_file():
            return  # a repository without sopls documents gets code changes only
        for path, text in (
            (f"{base}.json", document.model_dump_json(indent=2) + "\n"),
            (f"{base}.md", document.to_markdown() + "\n"),
        ):
            before = None if root is None else read_inside(root, path)
            self.context.proposal.put(path, text, role=self.name, before=before)
