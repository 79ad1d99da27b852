"""Shared pytest fixtures."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_endpoint import ScriptedEndpoint

from agents import LLMSettings


@pytest.fixture
def endpoint() -> Iterator[ScriptedEndpoint]:
    """A running scripted OpenAI-compatible endpoint, stopped after the test."""
    with ScriptedEndpoint() as server:
        yield server


SECRET_KEY = "sk-test-secret-4f1c9a7e"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME and no LLM settings from the machine's environment."""
    for name in list(os.environ):
        if name.startswith(("SOPLS_", "OPENAI_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def llm_settings(endpoint: ScriptedEndpoint) -> LLMSettings:
    """Settings pointing at the scripted endpoint, with short timeouts so failures are quick."""
    return LLMSettings(
        model="gpt-4o-mini",
        base_url=endpoint.base_url,
        api_key=SECRET_KEY,
        timeout=5,
        max_retries=2,
        max_tokens=1024,
    )
