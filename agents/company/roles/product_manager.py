from __future__ import annotations

from agents.company.actions.documents import WritePRD
from agents.company.roles.document_role import DocumentRole
from agents.framework.message import Requirement


class ProductManager(DocumentRole):
    profile = "Product Manager"
    prompt_folder = "product_manager"
    writes = WritePRD
    after = Requirement
