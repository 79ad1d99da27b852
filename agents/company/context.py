"""What the company's roles share beyond the framework's context: the run's workspace."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.company.workspace import Workspace
from agents.edits.proposal import Proposal
from agents.framework.context import Context


@dataclass
class CompanyContext(Context):
    workspace: Workspace = field(default_factory=Workspace)

    @property
    def proposal(self) -> Proposal:
        """The files the run proposes, as the editor and the command line receive them."""
        return self.workspace.proposal
