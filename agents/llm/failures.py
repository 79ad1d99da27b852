"""What a failed exchange with an endpoint says: one line naming the endpoint, the model and the
setting to check, whatever the endpoint sent back."""

from __future__ import annotations

import openai

from agents.config import LLMSettings
from agents.errors import LLMError

_DETAIL_CHARS = 300


class LLMStatusError(LLMError):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


def _one_line(text: str) -> str:
    """An endpoint's error text as one bounded line: it may be long, multi-line or hostile."""
    line = " ".join(text.split()).rstrip(".")
    return line if len(line) <= _DETAIL_CHARS else line[: _DETAIL_CHARS - 1] + "…"


def not_a_completion(settings: LLMSettings) -> LLMError:
    return LLMError(
        f"{settings.endpoint} answered model {settings.model!r} with something that "
        "is not a chat completion. Check that llm.base_url is an OpenAI-compatible server."
    )


def cut_short(settings: LLMSettings, exc: Exception) -> LLMError:
    """The error of an attempt that failed after part of the answer came."""
    if isinstance(exc, TimeoutError | openai.APITimeoutError):
        return LLMError(
            f"{settings.endpoint} did not finish the answer of model {settings.model!r} "
            f"within {settings.timeout:g}s (llm.timeout); it was still coming. "
            "Check the server, or raise llm.timeout."
        )
    return LLMError(
        f"The connection to {settings.endpoint} broke during the answer of model "
        f"{settings.model!r}. Check the server and try again."
    )


def gave_up(settings: LLMSettings, failure: Exception | None, tries: int) -> LLMError:
    """The error after the last attempt failed with `failure`."""
    if isinstance(failure, openai.APIStatusError):
        return status_error(settings, failure, tries=tries)
    if isinstance(failure, TimeoutError | openai.APITimeoutError):
        return LLMError(
            f"{settings.endpoint} did not answer model {settings.model!r} within "
            f"{settings.timeout:g}s (tried {tries} times). "
            "Check the server, or raise llm.timeout."
        )
    return LLMError(
        f"Cannot reach {settings.endpoint} (tried {tries} times). "
        "Check llm.base_url / OPENAI_BASE_URL and that the server is running."
    )


def status_error(
    settings: LLMSettings, exc: openai.APIStatusError, *, tries: int
) -> LLMStatusError:
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
        hint = f" Check that model {settings.model!r} exists there (llm.model)."
    return LLMStatusError(
        f"{settings.endpoint} answered HTTP {status} for model {settings.model!r}{tried}: "
        f"{_one_line(detail)}.{hint}",
        status=status,
    )
