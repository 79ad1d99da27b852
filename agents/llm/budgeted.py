"""The budget around a model: a call is refused before it is sent when it could overspend the
investment, and what it cost is settled once it ended, however it ended.

What a call costs is what the endpoint reports, else the estimate of what was kept. An answer
that failed half-way is counted too: the endpoint bills what it sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from agents.config import ModelPrice
from agents.llm.budget import CallRecord, CostManager
from agents.llm.model import Answer, Call, ChatMessage, ChatModel, WrapperModel, caller
from agents.llm.pricing import cost_usd, find_price
from repo_index.tokens import estimate_message_tokens

logger = logging.getLogger("sopls.llm")

_unpriced_warned: set[str] = set()


class Budgeted(WrapperModel):
    """Answers through `inner` within `cost`, at the price of `model` in `pricing`."""

    def __init__(
        self,
        inner: ChatModel,
        *,
        cost: CostManager,
        model: str,
        pricing: Mapping[str, ModelPrice] | None = None,
    ) -> None:
        super().__init__(inner)
        self.cost = cost
        self.model = model
        self.price = find_price(model, pricing)
        if self.price is None and model not in _unpriced_warned:
            _unpriced_warned.add(model)
            logger.warning(
                "No price known for model %r: its calls count as $0 (tokens are still counted). "
                "Add it under `pricing:` in the config file.",
                model,
            )

    def upper_cost(self, messages: Sequence[ChatMessage], completion_tokens: int) -> float:
        """The most a call with these messages can cost: its prompt plus the reserved answer."""
        prompt_tokens = estimate_message_tokens(m["content"] for m in messages)
        return cost_usd(self.price, prompt_tokens, completion_tokens)

    async def request(self, call: Call) -> Answer:
        reservation = self.cost.reserve(self.upper_cost(call.messages, call.received.limit_tokens))
        started = time.monotonic()
        try:
            answer = await self.inner.request(call)
        except BaseException:
            if call.received.text:
                partial = call.received.answer("", None)
                self.cost.settle(reservation, self._record(call, partial, started))
            else:
                self.cost.release(reservation)
            raise
        record = self._record(call, answer, started)
        self.cost.settle(reservation, record)
        logger.info(
            "%s: %s, %d prompt + %d completion tokens, $%.4f, %.2fs",
            caller(call.role, call.action),
            self.model,
            record.prompt_tokens,
            record.completion_tokens,
            record.usd,
            record.seconds,
        )
        return replace(answer, record=record)

    def _record(self, call: Call, answer: Answer, started: float) -> CallRecord:
        usage = answer.usage or (
            estimate_message_tokens(m["content"] for m in call.messages),
            answer.estimated_completion,
        )
        return CallRecord(
            role=call.role,
            action=call.action,
            model=self.model,
            prompt_tokens=usage[0],
            completion_tokens=usage[1],
            usd=cost_usd(self.price, *usage),
            usage_estimated=answer.usage is None,
            seconds=time.monotonic() - started,
        )
