from __future__ import annotations

from typing import Any

from agents.company.actions.documents import WriteDesign, WriteTasks
from agents.company.roles.document_role import DocumentRole


class ProjectManager(DocumentRole):
    profile = "Project Manager"
    goal = "Break the design into file tasks, ordered so each file follows what it uses."
    constraints = "Use exactly the design's file paths."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(actions=[WriteTasks], watch=[WriteDesign], **kwargs)
