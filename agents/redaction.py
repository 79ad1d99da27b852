"""The one redaction of secrets, which every error text, log record and stored LLM file passes.

Configured API keys are replaced wherever they appear. Error texts and log records also lose
anything shaped like a key (`Bearer …`, `sk-…`, long mixed letter-and-digit tokens), since an
endpoint may echo a key sopls never saw configured. Model content that is stored (the call
journal, raw outputs) loses only the configured keys, so ordinary code in answers stays intact.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 8
"""Shorter keys (`ollama`, `x`) guard nothing, and replacing them would mangle ordinary text."""

_KEY_SHAPES = re.compile(
    r"(?P<bearer>\b[Bb]earer\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|\b(?:sk|rk|pk)-[A-Za-z0-9_-]{12,}"
    r"|\b(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{32,}\b"
)

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
