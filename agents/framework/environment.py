"""The room the roles share: messages are published here and delivered to those interested."""

from __future__ import annotations

from collections.abc import Iterable

from agents.framework.context import Context
from agents.framework.memory import Memory
from agents.framework.message import Message
from agents.framework.role import Role
from agents.framework.scheduling import run_all


class Environment:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.roles: dict[str, Role] = {}
        self.history = Memory()

    def add_roles(self, roles: Iterable[Role]) -> None:
        for role in roles:
            if role.name in self.roles:
                raise ValueError(f"a role named {role.name!r} is already in the team")
            self.roles[role.name] = role
            role.join(self.publish, self.context)

    def publish(self, message: Message) -> None:
        """Record a message and deliver it to every role interested in it."""
        if not self.history.add(message):
            return
        for role in self.roles.values():
            if role.is_interested(message):
                role.deliver(message)

    @property
    def is_idle(self) -> bool:
        return not any(role.has_news for role in self.roles.values())

    async def run_round(self) -> None:
        """Every role with news reacts, concurrently; the first failure cancels the others."""
        await run_all(role.run() for role in self.roles.values() if role.has_news)
