"""Asking for a pydantic model: response formats, then extract → parse → repair → validate,
and the loop that asks again with the error when the answer does not validate."""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import json_repair
from pydantic import BaseModel

import prompts
from agents.config import LLMSettings, SchemaLimits
from agents.errors import StructuredOutputError, redact
from agents.llm.failures import LLMStatusError
from agents.llm.model import ChatMessage, Completion, caller, chat_messages

logger = logging.getLogger("sopls.llm")

M = TypeVar("M", bound=BaseModel)

Strategy = Literal["json_schema", "json_object", "prompt"]
FALLBACK_ORDER: tuple[Strategy, ...] = ("json_schema", "json_object", "prompt")
STRUCTURED_RETRIES = 2
_accepted: dict[tuple[str, str], Strategy] = {}
"""The response format each endpoint and model last took, so that later asks start there."""

# What `_layout` looks for outside brackets, and inside them (where a string is one token, its
# closing quote optional so that a truncated answer's last string runs to the end).
_IN_PROSE = re.compile(r"```|[{\[]")
_IN_BRACKETS = re.compile(r'```|[{}\[\]]|"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_FENCE_INFO = re.compile(r"[A-Za-z0-9_+.-]*[ \t]*\r?\n")


class UnreadableOutputError(ValueError):
    """The answer holds no JSON value of the expected shape."""


def json_schema_of(schema: type[BaseModel], limits: SchemaLimits | None = None) -> dict[str, Any]:
    """The JSON schema sent for `schema`; with `limits`, every list and string is bounded, no list
    item may be an empty string (a small model fills a file list with them), and `pattern` is
    dropped (llama.cpp's grammar converter fails on some patterns)."""
    json_schema = schema.model_json_schema()
    return json_schema if limits is None else _bounded(json_schema, limits)


def _bounded(node: Any, limits: SchemaLimits) -> Any:
    if isinstance(node, list):
        return [_bounded(item, limits) for item in node]
    if not isinstance(node, dict):
        return node
    bounded = {key: _bounded(value, limits) for key, value in node.items() if key != "pattern"}
    if bounded.get("type") == "array":
        bounded["maxItems"] = min(bounded.get("maxItems", limits.max_items), limits.max_items)
        items = bounded.get("items")
        if isinstance(items, dict) and items.get("type") == "string":
            items["minLength"] = max(items.get("minLength", 0), 1)
    if bounded.get("type") == "string":
        bounded["maxLength"] = min(bounded.get("maxLength", limits.max_length), limits.max_length)
    return bounded


def response_format(
    strategy: Strategy, schema: type[BaseModel], limits: SchemaLimits | None = None
) -> dict[str, Any] | None:
    """The request's `response_format` (None: the schema goes in the prompt only)."""
    json_schema = json_schema_of(schema, limits)
    if strategy == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": False},
        }
    if strategy == "json_object":
        # llama.cpp's server reads `schema` here and constrains generation with it.
        return {"type": "json_object", "schema": json_schema}
    return None


def schema_instructions(schema: type[BaseModel], limits: SchemaLimits | None = None) -> str:
    return prompts.render(
        "llm/output_schema.md",
        schema_name=schema.__name__,
        schema_json=json.dumps(json_schema_of(schema, limits), indent=2),
    )


def fix_request(schema: type[BaseModel], error: Exception) -> str:
    return prompts.render("llm/fix_output.md", schema_name=schema.__name__, error=str(error)[:4000])


def extract_json(text: str) -> str:
    """The part of an answer that holds its JSON, tried in this order: the whole answer when it is
    a JSON value (a fence inside one of its strings is content); a fenced block that stands
    outside every string; a bracketed span (the first that parses, else the longest, to repair)."""
    stripped = text.strip()
    if _is_json(stripped):
        return stripped
    fences, spans = _layout(text)
    bracketed = [block.strip() for block in fences if block.lstrip().startswith(("{", "["))]
    return _pick(bracketed) or _pick(spans) or stripped


def parse_output(text: str, schema: type[M]) -> M:
    """Turn a model's answer into `schema`, repairing near-JSON (trailing commas, quotes...)."""
    candidate = extract_json(text)
    try:
        try:
            data = json.loads(candidate, strict=False)
        except json.JSONDecodeError:
            data = json_repair.loads(candidate)
    except RecursionError:
        raise UnreadableOutputError("the answer is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise UnreadableOutputError("the answer contains no JSON object")
    return schema.model_validate(data)


def _is_json(text: str) -> bool:
    """Whether `text` is one JSON value; raw control characters inside strings are accepted, as
    llama.cpp's grammar-constrained answers carry them."""
    try:
        json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return False
    return True


def _pick(candidates: list[str]) -> str | None:
    """The first candidate that is JSON as it stands, objects before arrays (every document is
    an object; prose may hold a `[1]`), else the longest one (for repair)."""
    ranked = sorted(candidates, key=lambda candidate: not candidate.startswith("{"))
    return next((c for c in ranked if _is_json(c)), max(candidates, key=len, default=None))


def _layout(text: str) -> tuple[list[str], list[str]]:
    """The contents of the fenced blocks and the outermost bracketed spans of `text`.

    One pass that tracks JSON strings inside brackets, so a fence or a bracket within a string
    value belongs to that value; quotes in the prose around the JSON start no string. A fence
    outside every string ends whatever span is open, and a span or fence the answer leaves
    open runs to its end (a truncated answer, for repair).
    """
    fences: list[str] = []
    spans: list[str] = []
    depth = span_start = 0
    fence_start: int | None = None
    pos = 0
    while match := (_IN_BRACKETS if depth else _IN_PROSE).search(text, pos):
        token, pos = match.group(), match.end()
        if token == "```":
            if depth:
                spans.append(text[span_start : match.start()])
                depth = 0
            if fence_start is None:
                info = _FENCE_INFO.match(text, pos)
                fence_start = pos = info.end() if info else pos
            else:
                fences.append(text[fence_start : match.start()])
                fence_start = None
        elif token in ("{", "["):
            if depth == 0:
                span_start = match.start()
            depth += 1
        elif token in ("}", "]"):
            depth -= 1
            if depth == 0:
                spans.append(text[span_start:pos])
    if depth:
        spans.append(text[span_start:])
    if fence_start is not None:
        fences.append(text[fence_start:])
    return fences, spans


class Complete(Protocol):
    """One chat completion, as the client makes it (budget, journal and all)."""

    async def __call__(
        self,
        messages: Sequence[ChatMessage],
        *,
        response_format: dict[str, Any] | None,
        role: str,
        action: str,
    ) -> Completion: ...


class StructuredAsk:
    """Asks `complete` for a validated `schema` instance, in the first response format the
    endpoint accepts, feeding each invalid answer back with its error."""

    def __init__(
        self, settings: LLMSettings, complete: Complete, raw_output_dir: Path | None
    ) -> None:
        self.settings = settings
        self.complete = complete
        self.raw_output_dir = raw_output_dir

    async def ask(
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
            _accepted[(self.settings.endpoint, self.settings.model)] = strategy
            return result
        raise AssertionError("unreachable: the last strategy either returns or raises")

    def _strategies_to_try(self) -> tuple[Strategy, ...]:
        configured = self.settings.structured_output
        if configured != "auto":
            return (configured,)
        known = _accepted.get((self.settings.endpoint, self.settings.model))
        start = FALLBACK_ORDER.index(known) if known else 0
        return FALLBACK_ORDER[start:]

    async def _ask_with(
        self,
        strategy: Strategy,
        prompt: str,
        system: str | None,
        schema: type[M],
        role: str,
        action: str,
    ) -> M:
        limits = self.settings.schema_limits
        if strategy != "json_schema":
            prompt = f"{prompt.rstrip()}\n\n{schema_instructions(schema, limits)}"
        messages = chat_messages(system, prompt)
        fmt = response_format(strategy, schema, limits)
        answers: list[str] = []
        for _ in range(1 + STRUCTURED_RETRIES):
            completion = await self.complete(
                messages, response_format=fmt, role=role, action=action
            )
            answers.append(completion.content)
            try:
                return parse_output(completion.content, schema)
            except ValueError as exc:
                error = exc
                # A cut answer raised in `complete`, so the one quoted here is within its
                # reservation: a retry re-sends at most that much of it.
                messages = [
                    *messages,
                    {"role": "assistant", "content": completion.content},
                    {"role": "user", "content": fix_request(schema, exc)},
                ]
        saved = self._save_raw(answers, schema, role, action)
        logger.warning(
            "%s: model %r gave no valid %s in %d attempts; the last error: %s; its answers: %s",
            caller(role, action),
            self.settings.model,
            schema.__name__,
            len(answers),
            error,
            saved,
        )
        raise StructuredOutputError(
            f"the model's {_spoken(schema.__name__)} did not match the expected shape "
            f"after {len(answers)} tries",
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


def _spoken(name: str) -> str:
    """A schema's name as words: `TaskList` → "task list"; an acronym stays (`PRD`)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower() if not name.isupper() else name
