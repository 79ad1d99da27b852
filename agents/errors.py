"""Errors that users of the library can tell apart and act on, and the redaction of secrets.

Each error says what went wrong and what to do about it; none carries an API key. The one
redaction of secrets is here too, since every error text passes it, as do log records and the
stored LLM files: configured API keys are replaced wherever they appear. Error texts and log
records also lose anything shaped like a key (`Bearer …`, `sk-…`, long mixed letter-and-digit
tokens), since an endpoint may echo a key sopls never saw configured. Model content that is
stored (the call journal, raw outputs) loses only the configured keys, so ordinary code in
answers stays intact.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 8
"""Shorter keys (`ollama`, `x`) guard nothing, and replacing them would mangle ordinary text."""

_KEY_SHAPES = re.compile(
    r"(?P<bearer>\b[Bb]earer\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|\b(?:sk|rk|pk)-[A-Za-z0-9_-]{12,}"
    r"|\b(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{32,}\b"
)

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
"""Environment variables whose names look like this hold secrets: never passed to code sopls
runs."""

_secrets: tuple[str, ...] = ()
_lock = threading.Lock()
_log_redaction_installed = False


def register_secret(secret: str | None) -> None:
    """Redact `secret` from now on, everywhere in this process, logs included."""
    global _secrets
    install_log_redaction()
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if secret not in _secrets:
            # Longest first, so a key that contains another is replaced whole.
            _secrets = tuple(sorted((*_secrets, secret), key=len, reverse=True))


def redact(text: str, *, shapes: bool = True) -> str:
    """`text` without the configured keys and, with `shapes`, without anything key-like."""
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    if shapes:
        text = _KEY_SHAPES.sub(lambda found: (found["bearer"] or "") + REDACTED, text)
    return text


def redact_data(value: Any, *, shapes: bool = True) -> Any:
    """`value` with every string redacted, however deeply nested in dicts and lists."""
    if isinstance(value, str):
        return redact(value, shapes=shapes)
    if isinstance(value, dict):
        return {k: redact_data(v, shapes=shapes) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v, shapes=shapes) for v in value]
    return value


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format: keep both, redacted
        message = f"{record.msg} {record.args}"
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Chained exceptions from the HTTP stack may quote a key the endpoint echoed.
        trace = logging.Formatter().formatException(record.exc_info)
        clean = redact(trace)
        if clean != trace:
            record.exc_text = clean
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_log_redaction() -> None:
    """Redact every log record of the process when it is made, whichever handler prints it.

    A record factory rather than a handler filter: handlers come and go (the CLI's, pytest's),
    and a filter on a logger does not see its children's records.
    """
    global _log_redaction_installed
    with _lock:
        if _log_redaction_installed:
            return
        _log_redaction_installed = True
        make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(redacting_factory)


class SoplsError(Exception):
    """Base of every error sopls raises on purpose.

    `role` and `action` say where in the SOP it happened, when that is known. Its text passes
    the redaction when it is made, since it reaches logs, run records and the editor.
    """

    role: str = ""
    action: str = ""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    def located(self, role: str, action: str) -> None:
        """Record where the error happened, unless a deeper layer already did."""
        if not self.role and not self.action:
            self.role, self.action = role, action


class ConfigError(SoplsError):
    """A setting is missing or invalid; the message names the setting to provide."""


class BudgetExceededError(SoplsError):
    """A call was refused before it was sent because it could overspend the investment."""

    def __init__(self, *, spent: float, investment: float, needed: float) -> None:
        self.spent = spent
        self.investment = investment
        self.needed = needed
        super().__init__(
            f"The budget is spent: ${spent:.4f} of the ${investment:.4f} investment is used "
            f"and the next call may cost up to ${needed:.4f}. "
            "Invest more (team.invest, --investment) to go on."
        )


class LLMError(SoplsError):
    """The endpoint could not give an answer (network, HTTP status, timeout)."""


class OutputTruncatedError(LLMError):
    """The model stopped at its token limit, so its answer is incomplete."""


class StructuredOutputError(LLMError):
    """The model's answer could not be turned into the requested schema, even after retries."""

    def __init__(self, message: str, *, raw_output_path: Path | None = None) -> None:
        self.raw_output_path = raw_output_path
        super().__init__(message)
