"""Rules that decide how the scripted endpoint answers each chat request.

The models are pydantic so that a script can be written as JSON for tests that
start the endpoint as a separate process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter

Body = dict[str, Any]


class _Strict(BaseModel):
    """Rejects unknown keys so a typo in a JSON script fails loudly."""

    model_config = ConfigDict(extra="forbid")


class Usage(_Strict):
    """Token counts reported back to the client."""

    prompt_tokens: int
    completion_tokens: int

    def as_dict(self) -> dict[str, int]:
        """OpenAI usage object, including the total clients usually read."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


def message_text(message: Mapping[str, Any]) -> str:
    """Plain text of a message, whether its content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _messages(body: Body) -> list[Mapping[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)]


def schema_names(body: Body) -> set[str]:
    """Every name under which a request announces its expected JSON schema.

    Clients name the schema in ``response_format`` when the server supports it, and
    fall back to pasting the schema (with its ``"title"``) into the prompt otherwise.
    """
    names: set[str] = set()
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        json_schema = response_format.get("json_schema")
        if isinstance(json_schema, dict) and isinstance(json_schema.get("name"), str):
            names.add(json_schema["name"])
        schema = response_format.get("schema")
        if isinstance(schema, dict) and isinstance(schema.get("title"), str):
            names.add(schema["title"])
    for message in _messages(body):
        names.update(re.findall(r'"title"\s*:\s*"([^"\\]*)"', message_text(message)))
    return names


def _word_count(text: str) -> int:
    return len(text.split())


def estimate_usage(body: Body, completion: str) -> Usage:
    """Deterministic stand-in for a tokenizer so usage assertions are stable."""
    messages = _messages(body)
    prompt = sum(_word_count(message_text(m)) + 4 for m in messages)
    return Usage(prompt_tokens=prompt, completion_tokens=max(1, _word_count(completion)))


class Match(_Strict):
    """Conditions on a chat request; every condition left as None matches anything."""

    schema_: str | None = Field(default=None, alias="schema")
    contains: str | None = None
    model: str | None = None
    stream: bool | None = None
    system_contains: str | None = None
    api_key: str | None = None
    predicate: Callable[[Body], bool] | None = Field(default=None, exclude=True)

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    def matches(self, body: Body, api_key: str = "") -> bool:
        """Whether the parsed request body, sent with `api_key`, satisfies all set conditions."""
        if self.api_key is not None and api_key != self.api_key:
            return False
        messages = _messages(body)
        if self.schema_ is not None and self.schema_ not in schema_names(body):
            return False
        if self.contains is not None and not any(
            self.contains in message_text(m) for m in messages
        ):
            return False
        if self.model is not None and body.get("model") != self.model:
            return False
        if self.stream is not None and bool(body.get("stream")) != self.stream:
            return False
        if self.system_contains is not None and not any(
            self.system_contains in message_text(m) for m in messages if m.get("role") == "system"
        ):
            return False
        return self.predicate is None or bool(self.predicate(body))


API_KEY_PLACEHOLDER = "{api_key}"
"""Replaced, in a fault's message or a text answer, by the key the request presented."""

STREAM_PIECE_CHARS = 16


class Text(_Strict):
    """An assistant answer, ``content`` repeated ``repeat`` times.

    It may ignore ``max_tokens`` (a large ``repeat``) or drip: ``interval`` seconds pass between
    pieces of ``piece_chars`` characters, streamed or not.
    """

    kind: Literal["text"] = "text"
    content: str
    usage: Usage | None = None
    omit_usage: bool = False
    delay: float = 0.0
    repeat: int = Field(1, ge=1)
    piece_chars: int = Field(STREAM_PIECE_CHARS, ge=1)
    interval: float = Field(0.0, ge=0)

    def __init__(self, content: str, **data: Any) -> None:
        BaseModel.__init__(self, content=content, **data)

    @property
    def text(self) -> str:
        """The whole answer the client receives."""
        return self.content * self.repeat


class Json(_Strict):
    """An assistant answer whose content is the JSON encoding of ``data``."""

    kind: Literal["json"] = "json"
    data: Any
    usage: Usage | None = None
    omit_usage: bool = False
    delay: float = 0.0

    def __init__(self, data: Any, **kwargs: Any) -> None:
        BaseModel.__init__(self, data=data, **kwargs)

    @property
    def text(self) -> str:
        """The text the client receives."""
        return json.dumps(self.data)


class Truncated(_Strict):
    """An answer cut off by the token limit (finish_reason "length")."""

    kind: Literal["truncated"] = "truncated"
    content: str
    usage: Usage | None = None

    def __init__(self, content: str, **data: Any) -> None:
        BaseModel.__init__(self, content=content, **data)

    @property
    def text(self) -> str:
        """The text the client receives."""
        return self.content


class Fault(_Strict):
    """An HTTP error, optionally telling the client when to retry.

    ``{api_key}`` in the message echoes the presented key, as some servers do on a 401.
    """

    kind: Literal["fault"] = "fault"
    status: int = 500
    retry_after: float | None = None
    message: str = "scripted endpoint fault"


class Hang(_Strict):
    """Accept the request and never answer, to exercise client timeouts."""

    kind: Literal["hang"] = "hang"
    seconds: float = 30.0

    def __init__(self, seconds: float = 30.0, **data: Any) -> None:
        BaseModel.__init__(self, seconds=seconds, **data)


Reply = Annotated[Text | Json | Truncated | Fault | Hang, Field(discriminator="kind")]


class Rule(_Strict):
    """One scripted behaviour; ``times=None`` lets it answer any number of requests."""

    match: Match = Field(default_factory=Match)
    reply: Reply
    times: int | None = None

    _used: int = PrivateAttr(default=0)

    @property
    def used(self) -> int:
        """How many requests this rule has answered."""
        return self._used

    @property
    def exhausted(self) -> bool:
        """True once the rule has answered as many requests as ``times`` allows."""
        return self.times is not None and self._used >= self.times

    def consume(self) -> None:
        """Count one answered request; the caller serialises access."""
        self._used += 1


_RULES = TypeAdapter(list[Rule])


def load_rules(source: str | Path | Iterable[Rule | Mapping[str, Any]]) -> list[Rule]:
    """Rules from a JSON file (a list, or an object with ``rules``) or from Python objects."""
    if isinstance(source, str | Path):
        data = json.loads(Path(source).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data.get("rules", [])
        return _RULES.validate_python(data)
    return [r if isinstance(r, Rule) else Rule.model_validate(r) for r in source]
