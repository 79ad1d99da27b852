"""Settings: ~/.sopls/config.yaml < environment < explicit arguments.

The environment is read twice: `SOPLS_…` keys (nested with `__`, e.g. `SOPLS_LLM__MODEL`) and the
conventional `OPENAI_API_KEY` / `OPENAI_BASE_URL`, which the `SOPLS_` keys override.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from agents.errors import ConfigError, register_secret

StructuredOutputMode = Literal["auto", "json_schema", "json_object", "prompt"]
Provider = Literal["auto", "endpoint", "local"]

OPENAI_API_URL = "https://api.openai.com/v1"


def default_config_path() -> Path:
    """Where the user's config file lives (`SOPLS_CONFIG_FILE` moves it)."""
    explicit = os.environ.get("SOPLS_CONFIG_FILE")
    return Path(explicit).expanduser() if explicit else Path.home() / ".sopls" / "config.yaml"


class SchemaLimits(BaseModel):
    """Bounds written into every schema sent to the model, so that grammar-constrained generation
    always stops (a small model may otherwise repeat list items forever)."""

    model_config = ConfigDict(extra="forbid")

    max_items: int = Field(3, gt=0)
    max_length: int = Field(120, gt=0)


class LLMSettings(BaseModel):
    """One OpenAI-compatible endpoint and how to talk to it."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider = Field(
        "auto",
        description="endpoint: base_url/api_key; local: a GGUF model run by llama.cpp; "
        "auto: local when neither base_url nor api_key is set",
    )
    local_model_path: Path | None = Field(
        None, description="the GGUF file for the local provider (default: the bundled model)"
    )

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: SecretStr | None = None
    structured_output: StructuredOutputMode = "auto"
    max_tokens: int = Field(4096, gt=0)
    temperature: float = Field(0.2, ge=0, le=2)
    timeout: float = Field(120.0, gt=0, description="seconds per attempt")
    max_concurrency: int = Field(4, ge=1, description="requests in flight per endpoint")
    max_retries: int = Field(3, ge=0, description="extra attempts on 429, 5xx and timeouts")
    stream: bool = True
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description="extra request fields the endpoint understands, e.g. llama.cpp's "
        "repeat_penalty",
    )
    schema_limits: SchemaLimits | None = None

    @property
    def uses_local_model(self) -> bool:
        """True when calls go to a model sopls runs itself rather than to a configured endpoint."""
        if self.provider != "auto":
            return self.provider == "local"
        has_key = self.api_key is not None and bool(self.api_key.get_secret_value())
        return self.base_url is None and not has_key

    @property
    def endpoint(self) -> str:
        return (self.base_url or OPENAI_API_URL).rstrip("/")

    def require_endpoint(self) -> None:
        """Fail with the exact setting to provide when no usable endpoint is configured."""
        if self.api_key is not None and self.api_key.get_secret_value():
            return
        if self.base_url is None:
            raise ConfigError(
                "No LLM endpoint is configured. Set OPENAI_API_KEY (or llm.api_key in "
                f"{default_config_path()}) to use OpenAI, or set OPENAI_BASE_URL "
                "(or llm.base_url, SOPLS_LLM__BASE_URL) to an OpenAI-compatible server."
            )
        if self.endpoint == OPENAI_API_URL:
            raise ConfigError(
                f"llm.base_url is {OPENAI_API_URL}, which needs an API key: set OPENAI_API_KEY "
                f"(or llm.api_key in {default_config_path()}, or SOPLS_LLM__API_KEY)."
            )


class RoleLLMSettings(BaseModel):
    """Per-role overrides of the LLM settings; unset fields keep the global value."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    structured_output: StructuredOutputMode | None = None
    max_tokens: int | None = Field(None, gt=0)
    temperature: float | None = Field(None, ge=0, le=2)
    timeout: float | None = Field(None, gt=0)


class RoleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    llm: RoleLLMSettings = RoleLLMSettings()


class ModelPrice(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


class ServerSettings(BaseModel):
    """How `sopls serve` reads its messages. Framing comes before `initialize`, so these come
    from the config file and the environment only, read when the server starts."""

    model_config = ConfigDict(extra="forbid")

    max_message_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="the largest JSON-RPC message read; a larger one is skipped with an error",
    )


class RunSettings(BaseModel):
    """Defaults of every run, which a run's own options (CLI flags, command arguments) override."""

    model_config = ConfigDict(extra="forbid")

    require_tests: bool = Field(
        False,
        description="a run whose tests could not run ends as an error (exit code 1) instead "
        "of a warning",
    )


_config_file: ContextVar[Path | None] = ContextVar("sopls_config_file", default=None)


class _OpenAIEnvironment(PydanticBaseSettingsSource):
    """Maps the OpenAI SDK's conventional variables onto `llm.*`."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        llm: dict[str, str] = {}
        if key := os.environ.get("OPENAI_API_KEY"):
            llm["api_key"] = key
        if url := os.environ.get("OPENAI_BASE_URL"):
            llm["base_url"] = url
        return {"llm": llm} if llm else {}


class Settings(BaseSettings):
    """Everything sopls can be configured with (PRODUCT.md §10)."""

    model_config = SettingsConfigDict(
        env_prefix="SOPLS_", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    llm: LLMSettings = LLMSettings()
    roles: dict[str, RoleSettings] = Field(default_factory=dict)
    pricing: dict[str, ModelPrice] = Field(default_factory=dict)
    server: ServerSettings = ServerSettings()
    run: RunSettings = RunSettings()
    workspace: Path | None = None
    test_command: str | None = Field(
        None, description="the repository's test command, when it is not pytest/npm/go/cargo"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file.get() or default_config_path()
        return (
            init_settings,
            env_settings,
            _OpenAIEnvironment(settings_cls),
            YamlConfigSettingsSource(settings_cls, yaml_file=path),
        )

    def llm_for(self, role: str | None) -> LLMSettings:
        """The LLM settings of one role: its overrides on top of the global ones."""
        override = self.roles.get(role) if role else None
        if override is None:
            return self.llm
        return self.llm.model_copy(update=override.llm.model_dump(exclude_none=True))


@contextmanager
def _reading(path: Path | None):
    token = _config_file.set(path)
    try:
        yield
    finally:
        _config_file.reset(token)


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build settings from the file, the environment and `overrides` (highest precedence)."""
    path = Path(config_file).expanduser() if config_file is not None else None
    if path is not None and not path.is_file():
        raise ConfigError(
            f"Config file {path} does not exist; create it with `sopls --init-config`."
        )
    with _reading(path):
        try:
            settings = Settings(**overrides)
        except ValueError as exc:
            where = path or default_config_path()
            raise ConfigError(
                f"Invalid configuration (from {where}, SOPLS_* or arguments): {exc}"
            ) from exc
    # Known from here on, so no log line or error can show a key, even before a model is asked.
    for key in (settings.llm.api_key, *(role.llm.api_key for role in settings.roles.values())):
        register_secret(key.get_secret_value() if key is not None else None)
    return settings


def write_default_config(path: Path | None = None, *, overwrite: bool = False) -> Path:
    """Write a commented config file with every key at its default; never holds a key."""
    target = path or default_config_path()
    if target.exists() and not overwrite:
        raise ConfigError(f"{target} already exists; edit it, or remove it to write a fresh one.")
    target.parent.mkdir(parents=True, exist_ok=True)
    text = resources.files("agents").joinpath("default_config.yaml").read_text(encoding="utf-8")
    target.write_text(text, encoding="utf-8")
    return target
