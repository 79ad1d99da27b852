"""Configuration precedence, validation, the default file, and missing-endpoint errors."""

from pathlib import Path

import pytest
import yaml

from agents import LLM, ConfigError, LLMSettings, load_settings, write_default_config


def write_config(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_file_then_environment_then_arguments(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(
        home / ".sopls" / "config.yaml",
        {"llm": {"model": "from-file", "temperature": 0.7, "max_tokens": 111}},
    )
    assert load_settings().llm.model == "from-file"

    monkeypatch.setenv("SOPLS_LLM__MODEL", "from-env")
    settings = load_settings()
    assert settings.llm.model == "from-env"
    assert settings.llm.temperature == 0.7  # untouched keys still come from the file

    settings = load_settings(llm={"model": "from-argument"})
    assert settings.llm.model == "from-argument"
    assert settings.llm.max_tokens == 111
    assert settings.llm.temperature == 0.7


def test_openai_variables_are_read_and_sopls_variables_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-openai"
    assert settings.llm.base_url == "http://127.0.0.1:9/v1"

    monkeypatch.setenv("SOPLS_LLM__BASE_URL", "http://127.0.0.1:10/v1")
    assert load_settings().llm.base_url == "http://127.0.0.1:10/v1"


def test_explicit_config_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "team.yaml",
        {"llm": {"model": "m"}, "pricing": {"m": {"prompt": 1, "completion": 2}}},
    )
    settings = load_settings(path)
    assert settings.llm.model == "m"
    assert settings.pricing["m"].completion == 2


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml does not exist"):
        load_settings(tmp_path / "nowhere.yaml")


def test_invalid_value_names_the_setting(home: Path) -> None:
    write_config(home / ".sopls" / "config.yaml", {"llm": {"structured_output": "xml"}})
    with pytest.raises(ConfigError, match=r"structured_output"):
        load_settings()


def test_unknown_key_is_refused(home: Path) -> None:
    write_config(home / ".sopls" / "config.yaml", {"llm": {"modle": "typo"}})
    with pytest.raises(ConfigError, match="modle"):
        load_settings()


def test_role_overrides_only_what_they_set() -> None:
    settings = load_settings(
        llm={"model": "cheap", "max_tokens": 500},
        roles={"Engineer": {"llm": {"model": "strong"}}},
    )
    assert settings.llm_for("Engineer").model == "strong"
    assert settings.llm_for("Engineer").max_tokens == 500
    assert settings.llm_for("ProductManager").model == "cheap"


def test_no_key_and_no_endpoint_says_which_setting_to_provide() -> None:
    with pytest.raises(ConfigError) as caught:
        LLM()
    message = str(caught.value)
    assert "OPENAI_API_KEY" in message
    assert "OPENAI_BASE_URL" in message


def test_openai_url_without_key_asks_for_the_key() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        LLM(LLMSettings(base_url="https://api.openai.com/v1"))


def test_local_endpoint_needs_no_key() -> None:
    assert LLM(LLMSettings(base_url="http://127.0.0.1:1/v1")).model == "gpt-4o-mini"


def test_default_config_file_round_trips_and_holds_no_key(home: Path) -> None:
    path = write_default_config()
    assert path == home / ".sopls" / "config.yaml"
    text = path.read_text()
    assert "structured_output" in text
    assert load_settings().llm == LLMSettings()
    assert load_settings().llm.api_key is None
    with pytest.raises(ConfigError, match="already exists"):
        write_default_config()


def test_key_is_not_in_the_printed_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-value")
    settings = load_settings()
    assert "sk-very-secret-value" not in repr(settings)
    assert "sk-very-secret-value" not in str(settings.model_dump())
    assert "sk-very-secret-value" not in settings.model_dump_json()
