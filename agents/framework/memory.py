"""A role's (or the environment's) record of messages, indexed by the action that caused them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from agents.framework.action import Action
from agents.framework.message import Message


class Memory:
    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._ids: set[str] = set()
        self._by_cause: defaultdict[type[Action], list[Message]] = defaultdict(list)

    def add(self, message: Message) -> bool:
        """Store a message once; False when it was already there."""
        if message.id in self._ids:
            return False
        self._ids.add(message.id)
        self._messages.append(message)
        self._by_cause[message.cause_by].append(message)
        return True

    def extend(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self.add(message)

    def recent(self, k: int = 0) -> list[Message]:
        """The last `k` messages, oldest first (all of them when k is 0)."""
        return list(self._messages[-k:] if k else self._messages)

    def by_cause(self, *causes: type[Action]) -> list[Message]:
        """Messages caused by any of these actions, in the order they arrived."""
        if len(causes) == 1:
            return list(self._by_cause.get(causes[0], ()))
        wanted = set(causes)
        return [m for m in self._messages if m.cause_by in wanted]

    def latest(self, cause: type[Action]) -> Message | None:
        found = self._by_cause.get(cause)
        return found[-1] if found else None

    def __contains__(self, message: object) -> bool:
        return isinstance(message, Message) and message.id in self._ids

    def __iter__(self) -> Iterator[Message]:
        return iter(list(self._messages))

    def __len__(self) -> int:
        return len(self._messages)
