"""The one LLM client: any OpenAI-compatible endpoint through the async `openai` SDK.

Every call goes: budget reservation → endpoint slot → request (streamed, retried by the SDK on
429/5xx/timeouts with backoff that honours `Retry-After`) → usage and cost → settlement.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar, overload

import openai
from pydantic import BaseModel

from agents.config import LLMSettings, ModelPrice, load_settings
from agents.cost import CallRecord, CostManager
from agents.errors import LLMError, OutputTruncatedError, SoplsError, StructuredOutputError
from agents.llm.concurrency import endpoint_slots
from agents.llm.journal import CallJournal, JournalEntry, fingerprint
from agents.llm.pricing import cost_usd, find_price
from agents.llm.structured import (
    FALLBACK_ORDER,
    Strategy,
    fix_request,
    parse_output,
    response_format,
    schema_instructions,
)
from repo_index.tokens import estimate_message_tokens, estimate_tokens

logger = logging.getLogger("sopls.llm")

M = TypeVar("M", bound=BaseModel)
ChatMessage = dict[str, str]

STRUCTURED_RETRIES = 2
_RETRIED_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
_unpriced_warned: set[str] = set()
_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str, float, int], openai.AsyncOpenAI]
] = weakref.WeakKeyDictionary()


class LLMStatusError(LLMError):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Completion:
    """An answer; `record` is None when it was replayed from the run's journal."""

    content: str
    finish_reason: str
    record: CallRecord | None


def _messages(system: str | None, prompt: str) -> list[ChatMessage]:
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": prompt}]


def _caller(role: str, action: str) -> str:
    return "/".join(part for part in (role, action) if part) or "a direct request"


class LLM:
    """A chat model on one endpoint, with a budget, a price and structured output."""

    _strategies: ClassVar[dict[tuple[str, str], Strategy]] = {}

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
        self.settings = settings
        self.cost = cost if cost is not None else CostManager()
        self.raw_output_dir = raw_output_dir
        self.journal = journal
        self.price = find_price(settings.model, pricing)
        if self.price is None and settings.model not in _unpriced_warned:
            _unpriced_warned.add(settings.model)
            logger.warning(
                "No price known for model %r: its calls count as $0 (tokens are still counted). "
                "Add it under `pricing:` in the config file.",
                settings.model,
            )

    @property
    def model(self) -> str:
        return self.settings.model

    async def _client(self) -> openai.AsyncOpenAI:
        """The SDK client of this endpoint on the running loop, shared by every role's LLM:
        creating one costs tens of milliseconds (TLS setup) and a new connection pool, so it is
        made in a worker thread, leaving the loop free to answer the editor."""
        settings = self.settings
        key = settings.api_key.get_secret_value() if settings.api_key else "no-key"
        shared = _clients.setdefault(asyncio.get_running_loop(), {})
        ident = (settings.endpoint, key, settings.timeout, settings.max_retries)
        if ident not in shared:
            made = await asyncio.to_thread(
                openai.AsyncOpenAI,
                api_key=key,
                base_url=settings.endpoint,
                timeout=settings.timeout,
                max_retries=settings.max_retries,
            )
            shared.setdefault(ident, made)  # a concurrent first call may have made one too
        return shared[ident]

    def upper_cost(self, messages: Sequence[ChatMessage]) -> float:
        """The most a call with these messages can cost: its prompt plus `max_tokens` of answer."""
        prompt_tokens = estimate_message_tokens(m["content"] for m in messages)
        return cost_usd(self.price, prompt_tokens, self.settings.max_tokens)

    async def acompletion(
        self,
        messages: Sequence[ChatMessage],
        *,
        response_format: dict[str, Any] | None = None,
        role: str = "",
        action: str = "",
    ) -> Completion:
        """One chat completion, refused before sending when it could overspend the budget.

        With a journal, a request answered in an earlier attempt of the run is replayed from it:
        no request is sent and nothing is spent again.
        """
        request = self._request_body(messages, response_format)
        key = fingerprint(request)
        stored = self.journal.replay(key) if self.journal else None
        if stored is not None:
            logger.info("%s: replayed from the run's journal", _caller(role, action))
            return self._finish(stored.content, stored.finish_reason, role, action)
        reservation = self.cost.reserve(self.upper_cost(messages))
        started = time.monotonic()
        try:
            async with endpoint_slots(self.settings.endpoint, self.settings.max_concurrency).slot():
                content, finish_reason, usage = await self._request(request)
        except BaseException:
            self.cost.release(reservation)
            raise
        estimated = usage is None
        if usage is None:
            usage = (
                estimate_message_tokens(m["content"] for m in messages),
                estimate_tokens(content),
            )
        record = CallRecord(
            role=role,
            action=action,
            model=self.model,
            prompt_tokens=usage[0],
            completion_tokens=usage[1],
            usd=cost_usd(self.price, *usage),
            usage_estimated=estimated,
            seconds=time.monotonic() - started,
        )
        self.cost.settle(reservation, record)
        logger.info(
            "%s: %s, %d prompt + %d completion tokens, $%.4f, %.2fs",
            _caller(role, action),
            self.model,
            record.prompt_tokens,
            record.completion_tokens,
            record.usd,
            record.seconds,
        )
        if self.journal is not None:
            self.journal.record(
                JournalEntry(
                    key=key,
                    role=role,
                    action=action,
                    model=self.model,
                    request=request,
                    content=content,
                    finish_reason=finish_reason,
                    prompt_tokens=record.prompt_tokens,
                    completion_tokens=record.completion_tokens,
                    usd=record.usd,
                )
            )
        return self._finish(content, finish_reason, role, action, record)

    def _finish(
        self,
        content: str,
        finish_reason: str,
        role: str,
        action: str,
        record: CallRecord | None = None,
    ) -> Completion:
        if finish_reason == "length":
            raise OutputTruncatedError(
                f"The answer of model {self.model!r} to {_caller(role, action)} was cut off: it "
                f"reached max_tokens={self.settings.max_tokens} (finish_reason 'length'). "
                "Raise llm.max_tokens or ask for less."
            )
        return Completion(content=content, finish_reason=finish_reason, record=record)

    def _request_body(
        self, messages: Sequence[ChatMessage], response_format: dict[str, Any] | None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": self.settings.max_tokens,
            "temperature": self.settings.temperature,
        }
        if response_format is not None:
            request["response_format"] = response_format
        if self.settings.extra_body:
            request["extra_body"] = dict(self.settings.extra_body)
        return request

    async def _request(self, request: dict[str, Any]) -> tuple[str, str, tuple[int, int] | None]:
        try:
            client = await self._client()
            if not self.settings.stream:
                answer = await client.chat.completions.create(**request)
                choice = answer.choices[0]
                usage = answer.usage
                return (
                    choice.message.content or "",
                    choice.finish_reason or "",
                    (usage.prompt_tokens, usage.completion_tokens) if usage else None,
                )
            parts: list[str] = []
            finish_reason = ""
            usage_pair: tuple[int, int] | None = None
            stream = await client.chat.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        usage_pair = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices:
                        if choice.delta and choice.delta.content:
                            parts.append(choice.delta.content)
                        if choice.finish_reason:
                            finish_reason = choice.finish_reason
            return "".join(parts), finish_reason, usage_pair
        except openai.APITimeoutError as exc:
            raise LLMError(
                f"{self.settings.endpoint} did not answer model {self.model!r} within "
                f"{self.settings.timeout:g}s (tried {self.settings.max_retries + 1} times). "
                "Check the server, or raise llm.timeout."
            ) from exc
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except openai.APIConnectionError as exc:
            raise LLMError(
                f"Cannot reach {self.settings.endpoint} (tried {self.settings.max_retries + 1} "
                "times). Check llm.base_url / OPENAI_BASE_URL and that the server is running."
            ) from exc

    def _status_error(self, exc: openai.APIStatusError) -> LLMStatusError:
        body = exc.body
        detail = exc.message
        if isinstance(body, dict):
            inner = body.get("error", body)
            if isinstance(inner, dict) and isinstance(inner.get("message"), str):
                detail = inner["message"]
        status = exc.status_code
        tries = (
            f" (tried {self.settings.max_retries + 1} times)" if status in _RETRIED_STATUSES else ""
        )
        hint = ""
        if status in (401, 403):
            hint = " Check OPENAI_API_KEY / llm.api_key."
        elif status == 404:
            hint = f" Check that model {self.model!r} exists there (llm.model)."
        return LLMStatusError(
            f"{self.settings.endpoint} answered HTTP {status} for model {self.model!r}{tries}: "
            f"{detail}.{hint}",
            status=status,
        )

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
                messages = _messages(system, prompt)
                return (await self.acompletion(messages, role=role, action=action)).content
            return await self._ask_structured(prompt, system, schema, role, action)
        except SoplsError as exc:
            exc.located(role, action)
            raise

    def _strategies_to_try(self) -> tuple[Strategy, ...]:
        configured = self.settings.structured_output
        if configured != "auto":
            return (configured,)
        known = self._strategies.get((self.settings.endpoint, self.model))
        start = FALLBACK_ORDER.index(known) if known else 0
        return FALLBACK_ORDER[start:]

    async def _ask_structured(
        self, prompt: str, system: str | None, schema: type[M], role: str, action: str
    ) -> M:
        strategies = self._strategies_to_try()
        for strategy in strategies:
            try:
                result = await self._ask_with(strategy, prompt, system, schema, role, action)
            except LLMStatusError as exc:
                refused = exc.status in (400, 422) and strategy != strategies[-1]
                if not refused:
                    raise
                logger.info(
                    "%s refused response format %r (%s); trying the next one",
                    self.settings.endpoint,
                    strategy,
                    exc,
                )
                continue
            self._strategies[(self.settings.endpoint, self.model)] = strategy
            return result
        raise AssertionError("unreachable: the last strategy either returns or raises")

    async def _ask_with(
        self,
        strategy: Strategy,
        prompt: str,
        system: str | None,
        schema: type[M],
        role: str,
        action: str,
    ) -> M:
        if strategy != "json_schema":
            limits = self.settings.schema_limits
            prompt = f"{prompt.rstrip()}\n\n{schema_instructions(schema, limits)}"
        messages = _messages(system, prompt)
        fmt = response_format(strategy, schema, self.settings.schema_limits)
        answers: list[str] = []
        for _ in range(1 + STRUCTURED_RETRIES):
            completion = await self.acompletion(
                messages, response_format=fmt, role=role, action=action
            )
            answers.append(completion.content)
            try:
                return parse_output(completion.content, schema)
            except ValueError as exc:
                error = exc
                messages = [
                    *messages,
                    {"role": "assistant", "content": completion.content},
                    {"role": "user", "content": fix_request(schema, exc)},
                ]
        saved = self._save_raw(answers, schema, role, action)
        raise StructuredOutputError(
            f"{_caller(role, action)}: model {self.model!r} did not give a valid "
            f"{schema.__name__} after {len(answers)} attempts. Last error: {error}. "
            f"The raw output is saved at {saved}.",
            raw_output_path=saved,
        )

    def _save_raw(
        self, answers: list[str], schema: type[BaseModel], role: str, action: str
    ) -> Path:
        folder = self.raw_output_dir or Path(tempfile.gettempdir()) / "sopls-raw-output"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = "-".join(p for p in (stamp, role, action, schema.__name__) if p)
        path = folder / f"{name}.txt"
        path.write_text(
            "".join(f"===== attempt {i} =====\n{a}\n" for i, a in enumerate(answers, 1)),
            encoding="utf-8",
        )
        return path
