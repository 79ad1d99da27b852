"""The agent framework: messages, memory, roles, actions, the team, and the LLM layer.

Names are imported on first use, so `import agents.errors` (or a command that never talks to
an LLM) does not pay for loading the `openai` SDK.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_WHERE = {
    "Action": "agents.action",
    "ActionContext": "agents.action",
    "ActionOutput": "agents.action",
    "UserRequirement": "agents.action",
    "LLMSettings": "agents.config",
    "Settings": "agents.config",
    "load_settings": "agents.config",
    "write_default_config": "agents.config",
    "Context": "agents.context",
    "CostManager": "agents.cost",
    "Environment": "agents.environment",
    "BudgetExceededError": "agents.errors",
    "ConfigError": "agents.errors",
    "LLMError": "agents.errors",
    "OutputTruncatedError": "agents.errors",
    "SoplsError": "agents.errors",
    "StructuredOutputError": "agents.errors",
    "LLM": "agents.llm",
    "Memory": "agents.memory",
    "Message": "agents.message",
    "ReactMode": "agents.role",
    "Role": "agents.role",
    "TaskFailedError": "agents.role",
    "Team": "agents.team",
    "TeamOutcome": "agents.team",
}

__all__ = [
    "LLM",
    "Action",
    "ActionContext",
    "ActionOutput",
    "BudgetExceededError",
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
    "Role",
    "Settings",
    "SoplsError",
    "StructuredOutputError",
    "TaskFailedError",
    "Team",
    "TeamOutcome",
    "UserRequirement",
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
    from agents.action import Action, ActionContext, ActionOutput, UserRequirement
    from agents.config import LLMSettings, Settings, load_settings, write_default_config
    from agents.context import Context
    from agents.cost import CostManager
    from agents.environment import Environment
    from agents.errors import (
        BudgetExceededError,
        ConfigError,
        LLMError,
        OutputTruncatedError,
        SoplsError,
        StructuredOutputError,
    )
    from agents.llm import LLM
    from agents.memory import Memory
    from agents.message import Message
    from agents.role import ReactMode, Role, TaskFailedError
    from agents.team import Team, TeamOutcome
