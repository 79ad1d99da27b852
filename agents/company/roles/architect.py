from __future__ import annotations

from typing import Any

import prompts
from agents.company.actions.documents import WriteDesign, WritePRD
from agents.company.roles.document_role import DocumentRole


class Architect(DocumentRole):
    profile = "Architect"
    goal = prompts.macro("architect/profile.md", "goal")
    constraints = prompts.macro("architect/profile.md", "constraints")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(actions=[WriteDesign], watch=[WritePRD], **kwargs)
