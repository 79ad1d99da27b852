"""What every role of the software company shares: it works in the run's workspace."""

from __future__ import annotations

from typing import Any, ClassVar

import prompts
from agents.company.context import CompanyContext
from agents.company.workspace import Workspace
from agents.framework.context import Context
from agents.framework.role import Role


class CompanyRole(Role):
    """`prompt_folder` names the role's folder in `prompts/`, whose `profile.md` holds the goal
    and constraints its system message states."""

    context_type: ClassVar[type[Context]] = CompanyContext
    prompt_folder: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "prompt_folder" in cls.__dict__:
            cls.goal = prompts.macro(f"{cls.prompt_folder}/profile.md", "goal")
            cls.constraints = prompts.macro(f"{cls.prompt_folder}/profile.md", "constraints")

    @property
    def context(self) -> CompanyContext:
        context = super().context
        if not isinstance(context, CompanyContext):
            raise TypeError(f"{self.name} needs a CompanyContext, not a {type(context).__name__}")
        return context

    @property
    def workspace(self) -> Workspace:
        return self.context.workspace
