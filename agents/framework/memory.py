"""A role's (or the environment's) record of messages, each kept once, in order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from agents.framework.message import Message


class Memory:
    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._ids: set[str] = set()

    def add(self, message: Message) -> bool:
        """Store a message once; False when it was already there."""
        if message.id in self._ids:
            return False
        self._ids.add(message.id)
        self._messages.append(message)
        return True

    def extend(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self.add(message)

    def recent(self, k: int = 0) -> list[Message]:
        """The last `k` messages, oldest first (all of them when k is 0)."""
        return list(self._messages[-k:] if k else self._messages)

    def __contains__(self, message: object) -> bool:
        return isinstance(message, Message) and message.id in self._ids

    def __iter__(self) -> Iterator[Message]:
        return iter(list(self._messages))

    def __len__(self) -> int:
        return len(self._messages)
