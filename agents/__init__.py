"""The agent framework and the software company built on it; the public names, listed once.

Names are imported on first use, so `import agents.errors` (or a command that never talks to
an LLM) does not pay for loading the `openai` SDK.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_WHERE = {
    "Action": "agents.framework.action",
    "ActionContext": "agents.framework.action",
    "ActionOutput": "agents.framework.action",
    "LLMSettings": "agents.config",
    "Settings": "agents.config",
    "load_settings": "agents.config",
    "write_default_config": "agents.config",
    "CompanyContext": "agents.company.context",
    "Context": "agents.framework.context",
    "CostManager": "agents.llm.budget",
    "Environment": "agents.framework.environment",
    "BudgetExceededError": "agents.errors",
    "ConfigError": "agents.errors",
    "LLMError": "agents.errors",
    "OutputTruncatedError": "agents.errors",
    "SoplsError": "agents.errors",
    "StructuredOutputError": "agents.errors",
    "LLM": "agents.llm.client",
    "Memory": "agents.framework.memory",
    "Message": "agents.framework.message",
    "Requirement": "agents.framework.message",
    "ReactMode": "agents.framework.role",
    "Role": "agents.framework.role",
    "TaskFailedError": "agents.framework.role",
    "Team": "agents.framework.team",
    "TeamOutcome": "agents.framework.team",
}

__all__ = [
    "LLM",
    "Action",
    "ActionContext",
    "ActionOutput",
    "BudgetExceededError",
    "CompanyContext",
    "ConfigError",
    "Context",
    "CostManager",
    "Environment",
    "LLMError",
    "LLMSettings",
    "Memory",
    "Message",
    "OutputTruncatedError",
    "ReactMode",
    "Requirement",
    "Role",
    "Settings",
    "SoplsError",
    "StructuredOutputError",
    "TaskFailedError",
    "Team",
    "TeamOutcome",
    "load_settings",
    "write_default_config",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from agents.company.context import CompanyContext
    from agents.config import LLMSettings, Settings, load_settings, write_default_config
    from agents.errors import (
        BudgetExceededError,
        ConfigError,
        LLMError,
        OutputTruncatedError,
        SoplsError,
        StructuredOutputError,
    )
    from agents.framework.action import Action, ActionContext, ActionOutput
    from agents.framework.context import Context
    from agents.framework.environment import Environment
    from agents.framework.memory import Memory
    from agents.framework.message import Message, Requirement
    from agents.framework.role import ReactMode, Role, TaskFailedError
    from agents.framework.team import Team, TeamOutcome
    from agents.llm.budget import CostManager
    from agents.llm.client import LLM
