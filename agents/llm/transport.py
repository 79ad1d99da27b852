"""One OpenAI-compatible exchange through the async `openai` SDK: the request is sent, and its
answer streamed (or read whole), retried on 429/5xx/timeouts with backoff that honours
`Retry-After`.

The endpoint is not trusted to keep its limits: an answer is cut off once it passes the bytes
allowed to it (`max_tokens` real tokens' worth), and one deadline (`llm.timeout`) covers each
attempt from the request to the last byte, so neither a flood nor a drip can outspend the budget
or outlast the timeout.
"""

from __future__ import annotations

import asyncio
import json
import random
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import openai

from agents.config import LLMSettings
from agents.llm.failures import cut_short, gave_up, not_a_completion, status_error
from agents.llm.model import Answer, AnswerText, Call, ChatMessage, ChatModel, tokens_within

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
TYPICAL_BYTES_PER_TOKEN = 4
"""What real tokenizers average (`repo_index.tokens` estimates on the high side, with three):
an answer of `max_tokens` real tokens is about this long, so this much is reserved and read."""
_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, str, float], openai.AsyncOpenAI]
] = weakref.WeakKeyDictionary()


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


async def shared_client(settings: LLMSettings) -> openai.AsyncOpenAI:
    """The SDK client of this endpoint on the running loop, shared by every role's LLM:
    creating one costs tens of milliseconds (TLS setup) and a new connection pool, so it is
    made in a worker thread, leaving the loop free to answer the editor."""
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


class Transport(ChatModel):
    """The endpoint of `settings` over HTTP: the innermost layer, which sends what it is given."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings

    @property
    def answer_bytes(self) -> int:
        """How much of an answer is kept: `max_tokens` real tokens' worth."""
        return self.settings.max_tokens * TYPICAL_BYTES_PER_TOKEN

    @property
    def answer_tokens(self) -> int:
        """What the longest answer kept counts by the estimate (as `estimate_tokens` counts)."""
        return tokens_within(self.answer_bytes)

    def prepare(
        self,
        messages: Sequence[ChatMessage],
        response_format: dict[str, Any] | None,
        *,
        role: str = "",
        action: str = "",
    ) -> Call:
        """A call of `messages`, whose answer will be kept to `answer_bytes`."""
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": self.settings.max_tokens,
            "temperature": self.settings.temperature,
        }
        if response_format is not None:
            body["response_format"] = response_format
        if self.settings.extra_body:
            body["extra_body"] = dict(self.settings.extra_body)
        return Call(messages, body, AnswerText(self.answer_bytes), role, action)

    async def request(self, call: Call) -> Answer:
        """The answer, from at most `max_retries + 1` attempts of at most `llm.timeout` each.

        An attempt that already received part of an answer is not repeated: it is paid for, and
        a repeat could pay as much again.
        """
        client = await shared_client(self.settings)
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
                    return await self._attempt(client, call)
            except openai.APIStatusError as exc:
                if exc.status_code not in _RETRIED_STATUSES:
                    raise status_error(self.settings, exc, tries=1) from None
                failure = exc
            except (TimeoutError, openai.APIConnectionError) as exc:
                if call.received.text:
                    raise cut_short(self.settings, exc) from exc
                failure = exc
        raise gave_up(self.settings, failure, tries) from (
            None if isinstance(failure, openai.APIStatusError) else failure
        )

    async def _attempt(self, client: openai.AsyncOpenAI, call: Call) -> Answer:
        if not self.settings.stream:
            return await self._read_whole(client, call)
        received = call.received
        finish_reason = ""
        usage: tuple[int, int] | None = None
        stream = await client.chat.completions.create(
            **call.body, stream=True, stream_options={"include_usage": True}
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

    async def _read_whole(self, client: openai.AsyncOpenAI, call: Call) -> Answer:
        """A non-streamed answer, read only as far as an answer within its bound reaches."""
        limit = call.received.limit_bytes * _JSON_BYTES_PER_TEXT_BYTE + _BODY_OVERHEAD
        body = bytearray()
        create = client.chat.completions.with_streaming_response.create
        async with create(**call.body) as response:
            try:
                async for piece in response.iter_bytes():
                    body += piece
                    if len(body) > limit:
                        return Answer("", "length", None, call.received.limit_tokens)
            except Exception as exc:  # the HTTP library's own errors: the SDK wraps only streams
                raise openai.APIConnectionError(request=response.http_response.request) from exc
        content, finish_reason, usage = self._completion_fields(bytes(body))
        if not call.received.add(content):
            finish_reason = "length"
        return call.received.answer(finish_reason, usage)

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
            raise not_a_completion(self.settings)
        if not isinstance(usage, dict):
            return content, finish_reason, None
        return (
            content,
            finish_reason,
            _usage_pair(usage.get("prompt_tokens"), usage.get("completion_tokens")),
        )
