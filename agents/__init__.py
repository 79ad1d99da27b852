"""The agent framework: messages, memory, roles, actions, the team, and the LLM layer."""

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
