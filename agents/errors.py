"""Errors that users of the library can tell apart and act on.

Each one says what went wrong and what to do about it; none carries an API key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.redaction import redact


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
