"""The boundary every LLM layer shares: one chat request in, one answer out.

The transport answers a call over HTTP; each wrapper is a model around another one that adds a
single concern (the endpoint's slot, the budget, the run's journal), as pydantic-ai's `Model`
and `WrapperModel` do.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agents.llm.budget import CallRecord
from repo_index.tokens import BYTES_PER_TOKEN, estimate_tokens

ChatMessage = dict[str, str]


def tokens_within(limit_bytes: int) -> int:
    """What the longest text of `limit_bytes` counts by the estimate (as `estimate_tokens` counts),
    so that what is reserved for an answer is what its longest kept text costs."""
    return math.ceil(limit_bytes / BYTES_PER_TOKEN)


@dataclass(frozen=True)
class Completion:
    """An answer; `record` is None when it was replayed from the run's journal."""

    content: str
    finish_reason: str
    record: CallRecord | None


@dataclass(frozen=True)
class Answer:
    """What a layer gives back: the answer, the usage the endpoint reported (None when it sent
    none), and what the call cost once the budget layer measured it (None when replayed)."""

    content: str
    finish_reason: str
    usage: tuple[int, int] | None = None
    estimated_completion: int = 0
    """Completion tokens to count when the endpoint reports no usage."""
    record: CallRecord | None = None


class AnswerText:
    """An answer as it arrives, cut once it passes `limit_bytes`.

    Counted in UTF-8 bytes as it comes, so it is never re-estimated, and the text kept never
    estimates above `limit_bytes / BYTES_PER_TOKEN` (that is `estimate_tokens`, rounded up).
    """

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._used = 0
        self._parts: list[str] = []

    @property
    def limit_tokens(self) -> int:
        """The completion tokens the longest answer kept counts."""
        return tokens_within(self.limit_bytes)

    def add(self, piece: str) -> bool:
        """Keep `piece`, or as much of it as fits; False once the answer passed the limit."""
        data = piece.encode("utf-8")
        room = self.limit_bytes - self._used
        if len(data) > room:
            self._parts.append(data[:room].decode("utf-8", "ignore"))
            self._used = self.limit_bytes
            return False
        self._parts.append(piece)
        self._used += len(data)
        return True

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def answer(self, finish_reason: str, usage: tuple[int, int] | None) -> Answer:
        text = self.text
        return Answer(text, finish_reason, usage, estimate_tokens(text))


@dataclass(frozen=True)
class Call:
    """One request: the messages, the body sent for them, who asks, and the answer as it comes.

    `received` is shared by the layers, so that the budget layer can count the part of an answer
    that came before the call failed: the endpoint bills what it sent.
    """

    messages: Sequence[ChatMessage]
    body: dict[str, Any]
    received: AnswerText
    role: str = ""
    action: str = ""


class ChatModel(ABC):
    """A chat model, or a layer around one: the only thing a layer must do is answer a call."""

    @abstractmethod
    async def request(self, call: Call) -> Answer:
        """The answer to `call`, or an error saying why there is none."""


class WrapperModel(ChatModel, ABC):
    """A layer that adds one concern around `inner`, which answers the call."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner


def chat_messages(system: str | None, prompt: str) -> list[ChatMessage]:
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": prompt}]


def caller(role: str, action: str) -> str:
    """Who asked, for logs and errors."""
    return "/".join(part for part in (role, action) if part) or "a direct request"
