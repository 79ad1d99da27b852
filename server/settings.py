"""Settings from the editor: `initializationOptions` and the `sopls` configuration section.

Both use the config file's keys; editors tend to send camelCase (`baseUrl`), so keys are
converted to snake_case with pydantic's alias conversion, the inverse of the one
`server/arguments.py` uses. Invalid settings never stop the server: it says what is wrong and
goes on with the settings from the file and the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic.alias_generators import to_snake

from agents.config import Settings, load_settings
from agents.errors import ConfigError


def snake_keys(value: Any, *, free_form: bool = False) -> Any:
    """`value` with every mapping key in snake_case; keys under `roles` and `pricing` (role and
    model names) are kept as they are."""
    if not isinstance(value, Mapping):
        return value
    result: dict[str, Any] = {}
    for key, item in value.items():
        name = str(key) if free_form else to_snake(str(key))
        result[name] = snake_keys(item, free_form=name in ("roles", "pricing") and not free_form)
    return result


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def client_overrides(initialization_options: Any, configuration: Any) -> dict[str, Any]:
    """The editor's settings, configuration section over initialization options.

    Initialization options may be the settings themselves or `{globalSettings, settings}`.
    """
    overrides: dict[str, Any] = {}
    for source in (initialization_options, configuration):
        if not isinstance(source, Mapping):
            continue
        if "settings" in source or "globalSettings" in source:
            for part in ("globalSettings", "settings"):
                if isinstance(source.get(part), Mapping):
                    overrides = _merge(overrides, snake_keys(source[part]))
        else:
            overrides = _merge(overrides, snake_keys(source))
    return overrides


def resolve(overrides: Mapping[str, Any]) -> tuple[Settings, str | None]:
    """Settings with the editor's overrides, or without them and the reason they were refused."""
    try:
        return load_settings(**overrides), None
    except ConfigError as exc:
        return load_settings(), f"sopls: ignoring the editor's settings: {exc}"
