from __future__ import annotations

from typing import Any

from agents.company.actions.documents import WritePRD
from agents.company.roles.document_role import DocumentRole
from agents.framework.message import Requirement


class ProductManager(DocumentRole):
    profile = "Product Manager"
    goal = "Turn the user's requirement into a clear, small, buildable PRD."
    constraints = "Write in the user's language; keep the scope to what was asked."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(actions=[WritePRD], watch=[Requirement], **kwargs)
