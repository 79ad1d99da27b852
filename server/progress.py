"""What the editor sees of a running run: work-done progress, `sopls/runEvent`, log messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from agents.framework.events import RunEvent
from agents.llm.budget import CallRecord
from agents.runs.run_state import RunError, RunRecord

RUN_EVENT = "sopls/runEvent"

# Where each role's stage starts in the overall percentage, in SOP order.
STAGES: dict[str, tuple[int, int]] = {
    "ProductManager": (0, 15),
    "Architect": (15, 30),
    "ProjectManager": (30, 40),
    "Engineer": (40, 85),
    "QaEngineer": (85, 99),
}


def usd(amount: float) -> str:
    """Money for people: `$3.00`, to the cent; an amount below a dollar that is not whole cents
    keeps four places (`$0.0123`), since a cheap model's runs cost fractions of a cent."""
    cents = amount * 100
    if amount >= 1 or abs(cents - round(cents)) < 1e-9:
        return f"${amount:.2f}"
    return f"${amount:.4f}"


def ending_line(record: RunRecord) -> str:
    """One sentence for a run that did not complete: how it ended, in which role and step, and
    why, e.g. "run … failed in ProjectManager/WriteTasks: the model's task list did not …"."""
    error = record.error or RunError(message="no reason was recorded")
    where = "/".join(part for part in (error.role, error.action) if part)
    status = record.status.replace("_", " ")
    reason = error.message.rstrip(".")
    return f"run {record.id} {status}{f' in {where}' if where else ''}: {reason}."


def describe(event: RunEvent) -> str:
    """One line for a person, e.g. "Engineer · src/game.py (2/5)"."""
    failed = f" failed: {event.detail}" if event.status == "failed" else ""
    return event.label + failed


def percentage(event: RunEvent) -> int:
    start, end = STAGES.get(event.role, (0, 99))
    if event.total:
        return start + (end - start) * (event.done or 0) // event.total
    return end if event.status == "finished" else start


class RunProgress:
    """Reports one run's events to the client on a progress token (when it has one)."""

    def __init__(self, server: LanguageServer, run_id: str, token: types.ProgressToken | None):
        self.server = server
        self.run_id = run_id
        self.token = token
        self._percentage = 0

    def begin(self, title: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.begin(
                self.token,
                types.WorkDoneProgressBegin(
                    title=title, cancellable=True, message="starting", percentage=0
                ),
            )

    def on_event(self, event: RunEvent) -> None:
        """A report per stage and per file, with the percentage and the cost so far."""
        notification: dict[str, Any] = {
            "runId": self.run_id,
            "role": event.role,
            "action": event.action,
            "status": event.status,
            "cost": round(event.cost_usd, 6),
        }
        if event.path is not None:
            notification["path"] = event.path
        if event.tests is not None:
            notification["tests"] = event.tests
        self.server.protocol.notify(RUN_EVENT, notification)
        if self.token is None:
            return
        self._percentage = max(self._percentage, percentage(event))
        self.server.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(
                message=f"{describe(event)} · {usd(event.cost_usd)}",
                percentage=self._percentage,
                cancellable=True,
            ),
        )

    def on_call(self, record: CallRecord) -> None:
        """A log line per LLM call: who, which model, tokens, cost and time (never the key)."""
        who = "/".join(p for p in (record.role, record.action) if p) or "sopls"
        self.server.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Info,
                message=(
                    f"{who}: {record.model}, {record.prompt_tokens} prompt + "
                    f"{record.completion_tokens} completion tokens, ${record.usd:.4f}, "
                    f"{record.seconds:.2f}s"
                ),
            )
        )

    def end(self, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=message)
            )

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the user cancels the progress in the editor.

        pygls cancels the token's future from the cancel notification's handler, on the event
        loop's thread, so the callback runs there too.
        """
        if self.token is None:
            return
        future = self.server.work_done_progress.tokens.get(self.token)
        if future is not None:
            future.add_done_callback(lambda done: callback() if done.cancelled() else None)
