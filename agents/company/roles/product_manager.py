from __future__ import annotations

from typing import Any

import prompts
from agents.company.actions.documents import WritePRD
from agents.company.roles.document_role import DocumentRole
from agents.framework.message import Requirement


class ProductManager(DocumentRole):
    profile = "Product Manager"
    goal = prompts.macro("product_manager/profile.md", "goal")
    constraints = prompts.macro("product_manager/profile.md", "constraints")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(actions=[WritePRD], watch=[Requirement], **kwargs)
