"""What every role of the software company shares: it works in the run's workspace."""

from __future__ import annotations

from typing import ClassVar

from agents.company.context import CompanyContext
from agents.company.workspace import Workspace
from agents.framework.context import Context
from agents.framework.role import Role


class CompanyRole(Role):
    context_type: ClassVar[type[Context]] = CompanyContext

    @property
    def context(self) -> CompanyContext:
        context = super().context
        if not isinstance(context, CompanyContext):
            raise TypeError(f"{self.name} needs a CompanyContext, not a {type(context).__name__}")
        return context

    @property
    def workspace(self) -> Workspace:
        return self.context.workspace
