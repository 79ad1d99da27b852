"""Progress events of a run, for terminals and editors to show (PRODUCT.md §8 `sopls/runEvent`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

EventStatus = Literal["started", "finished", "failed"]


@dataclass(frozen=True)
class RunEvent:
    role: str
    action: str
    status: EventStatus
    cost_usd: float
    path: str | None = None
    done: int | None = None
    total: int | None = None
    detail: str = ""
    # QA's test document (see `QaReport.to_json`), on the events that end a test run
    tests: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """Who is doing what, as terminals and editors show it: "Engineer · src/game.py (2/5)",
        the count being the files done so far, so a file just started shows it too."""
        count = f" ({self.done or 0}/{self.total})" if self.total else ""
        return f"{self.role} · {self.path or self.action}{count}"


EventListener = Callable[[RunEvent], None]
