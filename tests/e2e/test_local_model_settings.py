"""Choosing the offline model, bounding schemas for it, and the request fields it is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsp_session import editor_session, execute
from pydantic import BaseModel, Field
from scripted_endpoint import ScriptedEndpoint

from agents import LLM, ConfigError, LLMSettings
from agents.company.documents import PRD, SystemDesign
from agents.config import SchemaLimits
from agents.llm.local_model import require_llm
from agents.llm.structured import json_schema_of


@pytest.mark.parametrize(
    ("settings", "local"),
    [
        ({}, True),
        ({"base_url": "http://127.0.0.1:9/v1"}, False),
        ({"api_key": "sk-x"}, False),
        ({"provider": "local", "base_url": "http://127.0.0.1:9/v1"}, True),
        ({"provider": "endpoint"}, False),
    ],
)
def test_the_local_model_is_used_when_no_endpoint_is_configured(
    settings: dict[str, Any], local: bool
) -> None:
    assert LLMSettings(**settings).uses_local_model is local


def test_a_missing_local_model_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    with pytest.raises(ConfigError, match=r"nowhere\.gguf"):
        require_llm(LLMSettings(provider="local", local_model_path=missing))


def test_an_explicit_endpoint_without_a_key_still_asks_for_one() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        require_llm(LLMSettings(provider="endpoint"))


def nodes(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, list):
        return [n for item in schema for n in nodes(item)]
    if not isinstance(schema, dict):
        return []
    return [schema, *(n for value in schema.values() for n in nodes(value))]


class Patterned(BaseModel):
    code: str = Field(pattern=r"^[A-Z]{3}$")
    tags: list[str] = Field(max_length=2)


def test_bounded_schemas_stop_every_list_and_string() -> None:
    limits = SchemaLimits(max_items=3, max_length=50)
    for model in (PRD, Patterned):
        everything = nodes(json_schema_of(model, limits))
        arrays = [n for n in everything if n.get("type") == "array"]
        strings = [n for n in everything if n.get("type") == "string"]
        assert arrays
        assert strings
        assert all(n["maxItems"] <= 3 for n in arrays)
        assert all(n["maxLength"] <= 50 for n in strings)
        assert not [n for n in everything if "pattern" in n]
    tags = json_schema_of(Patterned, limits)["properties"]["tags"]
    assert tags["maxItems"] == 2  # a tighter bound of the model's own is kept
    assert "pattern" in str(json_schema_of(Patterned))  # unbounded without limits


def test_bounded_list_items_cannot_be_empty_strings() -> None:
    file_list = json_schema_of(SystemDesign, SchemaLimits())["properties"]["file_list"]

    assert file_list["items"]["minLength"] == 1
    assert "minLength" not in json_schema_of(SystemDesign)["properties"]["file_list"]["items"]


async def test_extra_body_and_bounded_schema_reach_the_endpoint(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="Patterned").reply_json({"code": "ABC", "tags": []})
    settings = llm_settings.model_copy(
        update={
            "structured_output": "json_object",
            "extra_body": {"repeat_penalty": 1.15},
            "schema_limits": SchemaLimits(max_items=4, max_length=20),
        }
    )

    answer = await LLM(settings).aask("tag it", schema=Patterned)

    assert answer == Patterned(code="ABC", tags=[])
    (request,) = endpoint.chat_requests
    assert request.body["repeat_penalty"] == 1.15
    sent = request.body["response_format"]["schema"]
    assert sent["properties"]["code"]["maxLength"] == 20
    assert "pattern" not in str(sent)


async def test_a_run_on_a_missing_local_model_fails_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    options = {"llm": {"provider": "local", "localModelPath": str(missing)}}
    async with editor_session(tmp_path, initialization_options=options) as client:
        result = await execute(client, "sopls.generateProject", {"idea": "a hello CLI"})

    assert result["status"] == "failed"
    assert str(missing) in result["error"]["message"]
    assert "GGUF" in result["error"]["message"]
    assert result["files"] == []
