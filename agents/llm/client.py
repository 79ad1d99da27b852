"""The one LLM client: any OpenAI-compatible endpoint, in layers around one transport.

Every call goes: the run's journal (a replayed answer ends it here) → budget reservation →
endpoint slot → request (streamed, retried on 429/5xx/timeouts with backoff that honours
`Retry-After`) → usage and cost → settlement → the journal records the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from agents.config import LLMSettings, ModelPrice, load_settings
from agents.errors import OutputTruncatedError, SoplsError, register_secret
from agents.llm.budget import CostManager
from agents.llm.budgeted import Budgeted
from agents.llm.failures import LLMStatusError
from agents.llm.journal import CallJournal
from agents.llm.journaled import Journaled
from agents.llm.model import Answer, ChatMessage, ChatModel, Completion, caller, chat_messages
from agents.llm.slotted import Slotted
from agents.llm.structured import StructuredAsk
from agents.llm.transport import Transport

__all__ = ["LLM", "ChatMessage", "Completion", "LLMStatusError"]

M = TypeVar("M", bound=BaseModel)


class LLM:
    """A chat model on one endpoint, with a budget, a price and structured output."""

    def __init__(
        self,
        settings: LLMSettings | None = None,
        *,
        pricing: Mapping[str, ModelPrice] | None = None,
        cost: CostManager | None = None,
        raw_output_dir: Path | None = None,
        journal: CallJournal | None = None,
    ) -> None:
        if settings is None:
            loaded = load_settings()
            settings, pricing = loaded.llm, {**loaded.pricing, **(pricing or {})}
        settings.require_endpoint()
        register_secret(settings.api_key.get_secret_value() if settings.api_key else None)
        self.settings = settings
        self.cost = cost if cost is not None else CostManager()
        self.raw_output_dir = raw_output_dir
        self.journal = journal
        self._transport = Transport(settings)
        slotted = Slotted(
            self._transport, endpoint=settings.endpoint, limit=settings.max_concurrency
        )
        self._budgeted = Budgeted(slotted, cost=self.cost, model=settings.model, pricing=pricing)
        self._model: ChatModel = (
            self._budgeted
            if journal is None
            else Journaled(self._budgeted, journal=journal, model=settings.model)
        )
        self._structured = StructuredAsk(settings, self.acompletion, raw_output_dir)

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def price(self) -> ModelPrice | None:
        return self._budgeted.price

    @property
    def reserved_completion_tokens(self) -> int:
        """The answer tokens reserved per call, by the estimate: `max_tokens` real tokens' worth.

        An answer is cut once it passes them, so an estimated answer never costs more.
        """
        return self._transport.answer_tokens

    def upper_cost(self, messages: Sequence[ChatMessage]) -> float:
        """The most a call with these messages can cost: its prompt plus the reserved answer."""
        return self._budgeted.upper_cost(messages, self.reserved_completion_tokens)

    async def acompletion(
        self,
        messages: Sequence[ChatMessage],
        *,
        response_format: dict[str, Any] | None = None,
        role: str = "",
        action: str = "",
    ) -> Completion:
        """One chat completion, refused before sending when it could overspend the budget.

        The answer is at most the reserved tokens long (longer ones end as truncated). With a
        journal, a request answered in an earlier attempt of the run is replayed from it.
        """
        call = self._transport.prepare(messages, response_format, role=role, action=action)
        return self._finish(await self._model.request(call), role, action)

    def _finish(self, answer: Answer, role: str, action: str) -> Completion:
        if answer.finish_reason == "length":
            raise OutputTruncatedError(
                f"The answer of model {self.model!r} to {caller(role, action)} was cut off: it "
                f"reached max_tokens={self.settings.max_tokens} (finish_reason 'length'). "
                "Raise llm.max_tokens or ask for less."
            )
        return Completion(answer.content, answer.finish_reason, answer.record)

    @overload
    async def aask(
        self, prompt: str, system: str | None = None, *, role: str = "", action: str = ""
    ) -> str: ...

    @overload
    async def aask(
        self,
        prompt: str,
        system: str | None = None,
        *,
        schema: type[M],
        role: str = "",
        action: str = "",
    ) -> M: ...

    async def aask(
        self,
        prompt: str,
        system: str | None = None,
        *,
        schema: type[M] | None = None,
        role: str = "",
        action: str = "",
    ) -> str | M:
        """Ask one question: text back, or a validated instance of `schema`."""
        try:
            if schema is None:
                messages = chat_messages(system, prompt)
                return (await self.acompletion(messages, role=role, action=action)).content
            return await self._structured.ask(prompt, system, schema, role, action)
        except SoplsError as exc:
            exc.located(role, action)
            raise
