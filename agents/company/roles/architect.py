from __future__ import annotations

from agents.company.actions.documents import WriteDesign, WritePRD
from agents.company.roles.document_role import DocumentRole


class Architect(DocumentRole):
    profile = "Architect"
    prompt_folder = "architect"
    writes = WriteDesign
    after = WritePRD
