"""The one LLM client: any OpenAI-compatible endpoint through the async `openai` SDK.

Every call goes: budget reservation → endpoint slot → request (streamed, retried on
429/5xx/timeouts with backoff that honours `Retry-After`) → usage and cost → settlement.

The endpoint is not trusted to keep its limits: an answer is cut off once it passes the
completion tokens reserved for it, and one deadline (`llm.timeout`) covers each attempt from the
request to the last byte, so neither a flood nor a drip can outspend the budget or outlast the
timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
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
from agents.errors import (
    LLMError,
    OutputTruncatedError,
    SoplsError,
    StructuredOutputError,
    redact,
    register_secret,
)
from agents.llm.budget import CallRecord, CostManager
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
from repo_index.tokens import BYTES_PER_TOKEN, estimate_message_tokens, estimate_tokens

logger = logging.getLogger("sopls.llm")

M = TypeVar("M", bound=BaseModel)
ChatMessage = dict[str, str]

STRUCTURED_RETRIES = 2
RETRY_AFTER_LIMIT = 60.0
"""The longest `Retry-After` honoured; a longer one gets the usual backoff instead."""
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0
_RETRIED_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
_SDK_TIMEOUT_MARGIN = 1.0
"""The SDK's own timeout is per read; it only backs up the attempt's deadline, so it comes later."""
_JSON_BYTES_PER_TEXT_BYTE = 6
"""The most JSON spends on one byte of text (`\\u0001`), which bounds a non-streamed body."""
_BODY_OVERHEAD = 64 * 1024
_DETAIL_CHARS = 300
TYPICAL_BYTES_PER_TOKEN = 4
"""What real tokenizers average (`repo_index.tokens` estimates on the high side, with three):
an answer of `max_tokens` real tokens is about this long, so this much is reserved and read."""
_unpriced_warned: set[str] = set()
_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str, float], openai.AsyncOpenAI]
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


@dataclass(frozen=True)
class _Answer:
    content: str
    finish_reason: str
    usage: tuple[int, int] | None
    estimated_completion: int
    """Completion tokens to count when the endpoint reports no usage."""


class _AnswerText:
    """An answer as it arrives, cut once it passes `limit_bytes`.

    Counted in UTF-8 bytes as it comes, so it is never re-estimated, and the text kept never
    estimates above `limit_bytes / BYTES_PER_TOKEN` (that is `estimate_tokens`, rounded up).
    """

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._used = 0
        self._parts: list[str] = []

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

    def answer(self, finish_reason: str, usage: tuple[int, int] | None) -> _Answer:
        text = self.text
        return _Answer(text, finish_reason, usage, estimate_tokens(text))


def _token_count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _usage_pair(prompt: object, completion: object) -> tuple[int, int] | None:
    """Reported usage, unless the endpoint sent something that is not two token counts."""
    counts = _token_count(prompt), _token_count(completion)
    return None if counts[0] is None or counts[1] is None else (counts[0], counts[1])


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait an HTTP error asked for (`retry-after-ms` or `retry-after` in seconds)."""
    for name, per_second in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            seconds = float(headers.get(name) or "") / per_second
        except ValueError:
            continue
        if 0 <= seconds <= RETRY_AFTER_LIMIT:
            return seconds
    return None


def _backoff(retry: int) -> float:
    return min(FIRST_BACKOFF * 2**retry, MAX_BACKOFF) * (1 - 0.25 * random.random())


def _one_line(text: str) -> str:
    """An endpoint's error text as one bounded line: it may be long, multi-line or hostile."""
    line = " ".join(text.split()).rstrip(".")
    return line if len(line) <= _DETAIL_CHARS else line[: _DETAIL_CHARS - 1] + "…"


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
        register_secret(settings.api_key.get_secret_value() if settings.api_key else None)
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
        ident = (settings.endpoint, key, settings.timeout)
        if ident not in shared:
            made = await asyncio.to_thread(
                openai.AsyncOpenAI,
                api_key=key,
                base_url=settings.endpoint,
                timeout=settings.timeout + _SDK_TIMEOUT_MARGIN,
                max_retries=0,  # retried here, each attempt under one deadline
            )
            shared.setdefault(ident, made)  # a concurrent first call may have made one too
        return shared[ident]

    @property
    def reserved_completion_tokens(self) -> int:
        """The answer tokens reserved per call, by the estimate: `max_tokens` real tokens' worth.

        An answer is cut once it passes them, so an estimated answer never costs more.
        """
        return math.ceil(self._answer_bytes / BYTES_PER_TOKEN)  # as `estimate_tokens` counts

    @property
    def _answer_bytes(self) -> int:
        return self.settings.max_tokens * TYPICAL_BYTES_PER_TOKEN

    def upper_cost(self, messages: Sequence[ChatMessage]) -> float:
        """The most a call with these messages can cost: its prompt plus the reserved answer."""
        prompt_tokens = estimate_message_tokens(m["content"] for m in messages)
        return cost_usd(self.price, prompt_tokens, self.reserved_completion_tokens)

    async def acompletion(
        self,
        messages: Sequence[ChatMessage],
        *,
        response_format: dict[str, Any] | None = None,
        role: str = "",
        action: str = "",
    ) -> Completion:
        """One chat completion, refused before sending when it could overspend the budget.

        The answer is at most the reserved tokens long (longer ones end as truncated),
        and what it cost is what the endpoint reports, else the estimate of what was kept. An
        answer that failed half-way is counted too: the endpoint bills what it sent.

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
        received = _AnswerText(self._answer_bytes)
        try:
            async with endpoint_slots(self.settings.endpoint, self.settings.max_concurrency).slot():
                answer = await self._request(request, received)
        except BaseException:
            if received.text:
                partial = received.answer("", None)
                self.cost.settle(
                    reservation, self._record(role, action, messages, partial, started)
                )
            else:
                self.cost.release(reservation)
            raise
        content, finish_reason = answer.content, answer.finish_reason
        record = self._record(role, action, messages, answer, started)
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

    def _record(
        self,
        role: str,
        action: str,
        messages: Sequence[ChatMessage],
        answer: _Answer,
        started: float,
    ) -> CallRecord:
        usage = answer.usage or (
            estimate_message_tokens(m["content"] for m in messages),
            answer.estimated_completion,
        )
        return CallRecord(
            role=role,
            action=action,
            model=self.model,
            prompt_tokens=usage[0],
            completion_tokens=usage[1],
            usd=cost_usd(self.price, *usage),
            usage_estimated=answer.usage is None,
            seconds=time.monotonic() - started,
        )

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

    async def _request(self, request: dict[str, Any], received: _AnswerText) -> _Answer:
        """The answer, from at most `max_retries + 1` attempts of at most `llm.timeout` each.

        An attempt that already received part of an answer is not repeated: it is paid for, and
        a repeat could pay as much again.
        """
        client = await self._client()
        tries = self.settings.max_retries + 1
        failure: Exception | None = None
        for attempt in range(tries):
            if failure is not None:
                wait = None
                if isinstance(failure, openai.APIStatusError):
                    wait = _retry_after(failure.response.headers)
                await asyncio.sleep(_backoff(attempt - 1) if wait is None else wait)
            try:
                async with asyncio.timeout(self.settings.timeout):
                    return await self._attempt(client, request, received)
            except openai.APIStatusError as exc:
                if exc.status_code not in _RETRIED_STATUSES:
                    raise self._status_error(exc, tries=1) from None
                failure = exc
            except (TimeoutError, openai.APIConnectionError) as exc:
                if received.text:
                    raise self._cut_short(exc) from exc
                failure = exc
        raise self._gave_up(failure, tries) from (
            None if isinstance(failure, openai.APIStatusError) else failure
        )

    async def _attempt(
        self, client: openai.AsyncOpenAI, request: dict[str, Any], received: _AnswerText
    ) -> _Answer:
        if not self.settings.stream:
            return await self._read_whole(client, request, received)
        finish_reason = ""
        usage: tuple[int, int] | None = None
        stream = await client.chat.completions.create(
            **request, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = _usage_pair(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices or ():
                    content = choice.delta.content if choice.delta else None
                    if content and not received.add(content):
                        return received.answer("length", usage)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        return received.answer(finish_reason, usage)

    async def _read_whole(
        self, client: openai.AsyncOpenAI, request: dict[str, Any], received: _AnswerText
    ) -> _Answer:
        """A non-streamed answer, read only as far as an answer within its reservation reaches."""
        limit = received.limit_bytes * _JSON_BYTES_PER_TEXT_BYTE + _BODY_OVERHEAD
        body = bytearray()
        async with client.chat.completions.with_streaming_response.create(**request) as response:
            try:
                async for piece in response.iter_bytes():
                    body += piece
                    if len(body) > limit:
                        return _Answer("", "length", None, self.reserved_completion_tokens)
            except Exception as exc:  # the HTTP library's own errors: the SDK wraps only streams
                raise openai.APIConnectionError(request=response.http_response.request) from exc
        content, finish_reason, usage = self._completion_fields(bytes(body))
        if not received.add(content):
            finish_reason = "length"
        return received.answer(finish_reason, usage)

    def _completion_fields(self, body: bytes) -> tuple[str, str, tuple[int, int] | None]:
        content: object = None
        finish_reason: object = ""
        usage: object = None
        try:
            payload = json.loads(body)
            choice = payload["choices"][0]
            content = choice["message"].get("content") or ""
            finish_reason = choice.get("finish_reason") or ""
            usage = payload.get("usage")
        except (ValueError, LookupError, TypeError, AttributeError):
            content = None
        if not isinstance(content, str) or not isinstance(finish_reason, str):
            raise LLMError(
                f"{self.settings.endpoint} answered model {self.model!r} with something that "
                "is not a chat completion. Check that llm.base_url is an OpenAI-compatible server."
            )
        if not isinstance(usage, dict):
            return content, finish_reason, None
        return (
            content,
            finish_reason,
            _usage_pair(usage.get("prompt_tokens"), usage.get("completion_tokens")),
        )

    def _cut_short(self, exc: Exception) -> LLMError:
        """The error of an attempt that failed after part of the answer came."""
        if isinstance(exc, TimeoutError | openai.APITimeoutError):
            return LLMError(
                f"{self.settings.endpoint} did not finish the answer of model {self.model!r} "
                f"within {self.settings.timeout:g}s (llm.timeout); it was still coming. "
                "Check the server, or raise llm.timeout."
            )
        return LLMError(
            f"The connection to {self.settings.endpoint} broke during the answer of model "
            f"{self.model!r}. Check the server and try again."
        )

    def _gave_up(self, failure: Exception | None, tries: int) -> LLMError:
        """The error after the last attempt failed with `failure`."""
        if isinstance(failure, openai.APIStatusError):
            return self._status_error(failure, tries=tries)
        if isinstance(failure, TimeoutError | openai.APITimeoutError):
            return LLMError(
                f"{self.settings.endpoint} did not answer model {self.model!r} within "
                f"{self.settings.timeout:g}s (tried {tries} times). "
                "Check the server, or raise llm.timeout."
            )
        return LLMError(
            f"Cannot reach {self.settings.endpoint} (tried {tries} times). "
            "Check llm.base_url / OPENAI_BASE_URL and that the server is running."
        )

    def _status_error(self, exc: openai.APIStatusError, *, tries: int) -> LLMStatusError:
        body = exc.body
        detail = exc.message
        if isinstance(body, dict):
            inner = body.get("error", body)
            if isinstance(inner, dict) and isinstance(inner.get("message"), str):
                detail = inner["message"]
        status = exc.status_code
        tried = f" (tried {tries} times)" if tries > 1 else ""
        hint = ""
        if status in (401, 403):
            hint = " Check OPENAI_API_KEY / llm.api_key."
        elif status == 404:
            hint = f" Check that model {self.model!r} exists there (llm.model)."
        return LLMStatusError(
            f"{self.settings.endpoint} answered HTTP {status} for model {self.model!r}{tried}: "
            f"{_one_line(detail)}.{hint}",
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
                # A cut answer raised in `acompletion`, so the one quoted here is within its
                # reservation: a retry re-sends at most that much of it.
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
        text = "".join(f"===== attempt {i} =====\n{a}\n" for i, a in enumerate(answers, 1))
        path.write_text(redact(text, shapes=False), encoding="utf-8")
        return path
