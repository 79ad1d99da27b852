from __future__ import annotations

from typing import Any

import prompts
from agents.company.actions.documents import WriteDesign, WriteTasks
from agents.company.roles.document_role import DocumentRole


class ProjectManager(DocumentRole):
    profile = "Project Manager"
    goal = prompts.macro("project_manager/profile.md", "goal")
    constraints = prompts.macro("project_manager/profile.md", "constraints")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(actions=[WriteTasks], watch=[WriteDesign], **kwargs)
