from __future__ import annotations

from agents.company.actions.documents import WriteDesign, WriteTasks
from agents.company.roles.document_role import DocumentRole


class ProjectManager(DocumentRole):
    profile = "Project Manager"
    prompt_folder = "project_manager"
    writes = WriteTasks
    after = WriteDesign
