"""The lines a person reads about a run: money and how a run ended."""

from __future__ import annotations

import pytest

from agents.framework.events import RunEvent
from agents.runs.run_state import RunError, RunOptions, RunRecord
from server.progress import ending_line, usd


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(0, "$0.00"), (3, "$3.00"), (0.05, "$0.05"), (2.345, "$2.35"), (0.0123, "$0.0123")],
)
def test_money_reads_to_the_cent_unless_it_is_a_fraction_of_one(amount: float, shown: str) -> None:
    assert usd(amount) == shown


def test_a_run_that_did_not_complete_is_one_sentence_with_its_role_and_step() -> None:
    record = RunRecord(id="r1", options=RunOptions(idea="x"), status="budget_exceeded")
    assert ending_line(record) == "run r1 budget exceeded: no reason was recorded."
    record.error = RunError(role="Architect", action="WriteDesign", message="it broke.")
    assert ending_line(record) == "run r1 budget exceeded in Architect/WriteDesign: it broke."


def test_a_file_step_shows_how_many_files_are_done_from_its_start() -> None:
    step = {"path": "src/game.py", "total": 5}
    started = RunEvent("Engineer", "WriteCode", "started", 0.0, done=1, **step)
    assert started.label == "Engineer · src/game.py (1/5)"
    finished = RunEvent("Engineer", "WriteCode", "finished", 0.0, done=2, **step)
    assert finished.label == "Engineer · src/game.py (2/5)"
    assert RunEvent("Architect", "WriteDesign", "started", 0.0).label == "Architect · WriteDesign"
