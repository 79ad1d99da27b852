from __future__ import annotations

from typing import Any

from agents.company.actions.documents import WriteDesign, WritePRD
from agents.company.roles.document_role import DocumentRole


class Architect(DocumentRole):
    profile = "Architect"
    goal = "Design a small, correct system that Engineers can build file by file."
    constraints = "Prefer the standard library and well-known packages; keep the file list short."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(actions=[WriteDesign], watch=[WritePRD], **kwargs)
