"""Asking for a pydantic model: response formats, then extract → parse → repair → validate."""

from __future__ import annotations

import json
import re
from typing import Any, Literal, TypeVar

import json_repair
from pydantic import BaseModel

import prompts
from agents.config import SchemaLimits

M = TypeVar("M", bound=BaseModel)

Strategy = Literal["json_schema", "json_object", "prompt"]
FALLBACK_ORDER: tuple[Strategy, ...] = ("json_schema", "json_object", "prompt")

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n(.*?)```", re.DOTALL)


class UnreadableOutputError(ValueError):
    """The answer holds no JSON value of the expected shape."""


def json_schema_of(schema: type[BaseModel], limits: SchemaLimits | None = None) -> dict[str, Any]:
    """The JSON schema sent for `schema`; with `limits`, every list and string is bounded and
    `pattern` is dropped (llama.cpp's grammar converter fails on some patterns)."""
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
    """The part of an answer that holds the JSON: a fenced block, else the outermost braces."""
    for block in _FENCE.findall(text):
        if block.lstrip().startswith(("{", "[")):
            return block.strip()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return text.strip()
    start = min(starts)
    end = max(text.rfind("}"), text.rfind("]"))
    return text[start : end + 1] if end > start else text[start:]


def parse_output(text: str, schema: type[M]) -> M:
    """Turn a model's answer into `schema`, repairing near-JSON (trailing commas, quotes...)."""
    candidate = extract_json(text)
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError:
        data = json_repair.loads(candidate)
    if not isinstance(data, dict):
        raise UnreadableOutputError("the answer contains no JSON object")
    return schema.model_validate(data)
