"""Messages: what roles say to each other, routed by the action that caused them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agents.framework.action import Action, UserRequirement

if TYPE_CHECKING:
    from agents.framework.role import Role


@dataclass(frozen=True)
class Message:
    """One utterance; `payload` holds the structured document (a PRD, a design ...) if any.

    `send_to` lists role types; empty means everyone who watches `cause_by`.
    """

    content: str
    cause_by: type[Action] = UserRequirement
    payload: BaseModel | None = None
    sent_from: str = ""
    send_to: frozenset[type[Role]] = frozenset()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def addressed_to(self, role: Role) -> bool:
        return any(isinstance(role, kind) for kind in self.send_to)


def format_history(messages: Iterable[Message]) -> str:
    """Messages as prompt text: who said it, through which action, and what."""
    return "\n\n".join(
        f"### {m.sent_from or 'User'} ({m.cause_by.name})\n{m.content}" for m in messages
    )
