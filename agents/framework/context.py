"""What a team's roles share, passed explicitly: settings, budget, documents, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from agents.config import Settings, load_settings
from agents.framework.documents import DocumentStore
from agents.framework.events import EventListener, EventStatus, RunEvent
from agents.llm.budget import CostManager
from agents.llm.client import LLM
from agents.llm.journal import CallJournal

TestVerdict = Literal["passed", "failed", "timed out", "not run"]


class QaReport(Protocol):
    """QA's last test run, a new project's or a repository's, as the run's folder and result
    keep it; the two kinds share one JSON shape so every client reads them alike."""

    @property
    def verdict(self) -> TestVerdict: ...

    def to_json(self) -> dict[str, Any]: ...

    def summary(self) -> str: ...


@dataclass
class Context:
    settings: Settings = field(default_factory=load_settings)
    cost: CostManager = field(default_factory=CostManager)
    requirement: str = ""  # what the user asked for, set once when the team gets its work
    legacy_code: str = ""  # the existing code's map for the requirement, when there is some
    raw_output_dir: Path | None = None
    documents: DocumentStore = field(default_factory=DocumentStore)
    journal: CallJournal | None = None
    # QA's last word on the tests; None when none ran
    test_verdict: TestVerdict | None = None
    test_report: QaReport | None = None  # QA's last test run
    listeners: list[EventListener] = field(default_factory=list)
    _llms: dict[str, LLM] = field(default_factory=dict, init=False, repr=False)

    def llm_for(self, role: str) -> LLM:
        """The model of one role (its `roles.<Role>.llm` overrides applied), sharing the budget."""
        if role not in self._llms:
            self._llms[role] = LLM(
                self.settings.llm_for(role),
                pricing=self.settings.pricing,
                cost=self.cost,
                raw_output_dir=self.raw_output_dir,
                journal=self.journal,
            )
        return self._llms[role]

    def emit(
        self,
        role: str,
        action: str,
        status: EventStatus,
        *,
        path: str | None = None,
        done: int | None = None,
        total: int | None = None,
        detail: str = "",
        tests: dict[str, Any] | None = None,
    ) -> None:
        """Tell every listener what just happened, with the money spent so far."""
        event = RunEvent(role, action, status, self.cost.spent, path, done, total, detail, tests)
        for listener in self.listeners:
            listener(event)
