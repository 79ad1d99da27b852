"""Messages: what roles say to each other, routed by the action that caused them or by the type
of what they carry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from pydantic import BaseModel

from agents.framework.action import Action


class Requirement(BaseModel):
    """What the user asks for, carried by the message that hands a team its work."""

    text: str


@dataclass(frozen=True)
class Message:
    """One utterance; `payload` holds the structured document (a PRD, a design ...) if any.

    `send_to` lists role classes; empty means everyone who watches `cause_by` or the payload's
    type. `cause_by` is None for what no action produced: the user's word, a test run's result.
    """

    content: str
    cause_by: type[Action] | None = None
    payload: BaseModel | None = None
    sent_from: str = ""
    send_to: frozenset[type] = frozenset()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
