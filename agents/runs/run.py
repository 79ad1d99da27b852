"""Running the software company on a requirement: the one entry point for the CLI and the server.

The run's folder holds its record, checkpoints and call journal. Resuming rebuilds the team and
replays every stored call from the journal, so it continues after the last finished call without
paying for anything twice. A run whose result must be written somewhere (the command line writes
the project) is `completed` only once it is; until then it is `unwritten`, and can be written
later from its stored proposal without replaying anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from agents.company.actions.classify import ClassifyRequest
from agents.company.context import CompanyContext
from agents.company.documents import DOCUMENT_KINDS, PRD
from agents.company.repository_change import LEGACY_CODE_BUDGET
from agents.company.roles import ProductManager
from agents.company.sop import build_team, hand_over
from agents.company.workspace import RepositoryIndex, Workspace
from agents.config import Settings
from agents.edits.atomic_write import write_atomic
from agents.edits.proposal import Proposal
from agents.errors import SoplsError, StructuredOutputError, redact
from agents.framework.events import EventListener, RunEvent
from agents.llm.budget import CallRecord, CostManager, CostTotals
from agents.llm.journal import CallJournal
from agents.llm.local_model import with_local_model
from agents.runs.run_lock import RunLockedError, TargetNotEmptyError
from agents.runs.run_state import (
    RunCost,
    RunError,
    RunFolder,
    RunRecord,
    RunStatus,
)

logger = logging.getLogger("sopls.run")

FREE_NAME_ATTEMPTS = 20  # project_2 … project_20 before a taken name stops the run

# Puts a finished run's proposal in place (the command line writes the project); raises to refuse.
ResultWriter = Callable[[RunRecord, Proposal], None]


async def _read_repository(context: CompanyContext, requirement: str) -> None:
    """What the document roles know of an existing repository: its sopls documents, if it has
    any (to refine), and its overview with the map ranked for the requirement (the Legacy
    Code)."""
    workspace = context.workspace
    for kind in DOCUMENT_KINDS:
        path = f"docs/{kind.doc_name}.json"
        text = workspace.on_disk(path)
        if text is not None:
            try:
                context.documents.put(kind.model_validate_json(text))
            except ValueError:
                logger.warning("%s is not a valid %s; it is ignored", path, kind.__name__)
    context.legacy_code = await workspace.overview(requirement, LEGACY_CODE_BUDGET)


async def _classify(context: CompanyContext, requirement: str) -> Literal["feature", "bug"]:
    """The Product Manager's call: a bug takes the short path to the Engineer."""
    manager = ProductManager(context=context)
    kind = await ClassifyRequest().classify(manager.action_context(), requirement)
    context.emit(manager.name, ClassifyRequest.name, "finished", detail=kind.kind)
    return kind.kind


def _claim_free_name(name: str, claim: Callable[[str], None]) -> str:
    """The PRD's project name, or with a number added when that folder is taken by another
    project or run, as two ideas often get the same name; a folder that cannot be made at all
    stops the run (the caller's error says why)."""
    for attempt in range(1, FREE_NAME_ATTEMPTS + 1):
        candidate = name if attempt == 1 else f"{name}_{attempt}"
        try:
            claim(candidate)
        except (TargetNotEmptyError, RunLockedError):
            if attempt == FREE_NAME_ATTEMPTS:
                raise
            continue
        if candidate != name:
            logger.warning("The folder %s is taken, so the project is named %s.", name, candidate)
        return candidate
    raise AssertionError("unreachable: the last attempt returns or raises")


class _Failures:
    """Which role and action failed last (for the run's error), and which files failed."""

    def __init__(self) -> None:
        self.event: RunEvent | None = None
        self.files: dict[str, str] = {}

    def __call__(self, event: RunEvent) -> None:
        if event.path is None:
            if event.status == "failed":
                self.event = event
        elif event.status == "failed":
            self.files[event.path] = event.detail
        elif event.status == "finished":
            self.files.pop(event.path, None)


async def execute(
    folder: RunFolder,
    record: RunRecord,
    settings: Settings,
    *,
    listeners: Iterable[EventListener] = (),
    call_observers: Iterable[Callable[[CallRecord], None]] = (),
    write: ResultWriter | None = None,
    claim_project: Callable[[Path], None] | None = None,
    index: RepositoryIndex | None = None,
) -> tuple[RunRecord, CompanyContext]:
    """Run (or resume) the run in `folder` to its end; the record is saved whatever happens.

    `write`, when given, puts the result in place before the run counts as completed (see
    `write_result`). `claim_project` gets the project folder as soon as the PRD names it (a new
    run given no folder), before any later call is paid; it raises to stop the run there.
    `index`, when given, is an open index of the repository the run changes (the language
    server's), used instead of building another.
    """
    key = settings.llm.api_key.get_secret_value() if settings.llm.api_key else ""
    previous = record.cost
    cost = CostManager(
        investment=record.options.investment,
        totals=CostTotals(
            calls=previous.calls,
            prompt_tokens=previous.prompt_tokens,
            completion_tokens=previous.completion_tokens,
            usd=previous.usd,
        ),
        observers=list(call_observers),
    )
    root = Path(record.target) if record.options.mode != "new" and record.target else None
    context = CompanyContext(
        settings=settings,
        cost=cost,
        raw_output_dir=folder.raw_output_dir,
        journal=CallJournal(folder.journal_path, secrets=[key]),
        workspace=Workspace(root, test_command_setting=settings.test_command),
    )
    if index is not None and root is not None:
        context.workspace.use_index(index)
    failures = _Failures()

    def checkpoint(event: RunEvent) -> None:
        if event.status == "finished":
            folder.checkpoint(context)
            record.cost = RunCost.of(cost.totals)
            folder.save(record)

    def name_project(event: RunEvent) -> None:
        prd = context.documents.get(PRD)
        if event.status != "finished" or record.project_name is not None or prd is None:
            return
        record.project_name = record.options.project_name or prd.project_name
        if claim_project is not None and record.target is None:
            record.project_name = _claim_free_name(
                record.project_name, lambda name: claim_project(folder.project_root_for(name))
            )
        folder.save(record)

    context.listeners.extend([failures, checkpoint, *listeners, name_project])
    record.status = "running"
    record.error = None
    folder.save(record)
    try:
        context.settings = await with_local_model(settings)
        if root is not None and record.options.mode in ("feature", "change"):
            await _read_repository(context, record.options.idea)
        if record.options.mode == "change":
            record.options.mode = await _classify(context, record.options.idea)
            folder.save(record)
        team = build_team(record.options, context)
        hand_over(team, record.options)
        outcome = await team.run(n_round=record.options.n_round)
    except asyncio.CancelledError:
        cancelled = RunError(message="the run was cancelled; resume it to continue")
        _finish(folder, record, context, failures, "cancelled", cancelled)
        raise
    except Exception as exc:
        logger.debug("run %s failed", record.id, exc_info=True)
        role, action = getattr(exc, "role", ""), getattr(exc, "action", "")
        if not (role or action) and failures.event is not None:
            role, action = failures.event.role, failures.event.action
        answer = exc.raw_output_path if isinstance(exc, StructuredOutputError) else None
        error = RunError(
            role=role,
            action=action,
            message=redact(str(exc)) or type(exc).__name__,
            answer=str(answer) if answer is not None else None,
        )
        _finish(folder, record, context, failures, "failed", error)
        return record, context
    finally:
        context.workspace.close()
    if outcome.status == "budget_exceeded":
        error = RunError(message=outcome.error or "the budget is spent")
        _finish(folder, record, context, failures, "budget_exceeded", error)
    elif write is None:
        _finish(folder, record, context, failures, "completed", None)
    else:
        _finish(folder, record, context, failures, "unwritten", None)
        write_result(folder, record, context.proposal, write)
    return record, context


def write_result(
    folder: RunFolder, record: RunRecord, proposal: Proposal, write: ResultWriter
) -> None:
    """Write a finished run's result and only then mark it completed; a failure keeps it
    `unwritten` with the reason, so it can be written again without replaying a call."""
    try:
        write(record, proposal)
    except (SoplsError, OSError) as exc:
        record.status = "unwritten"
        record.error = RunError(action="write", message=str(exc))
    else:
        record.status = "completed"
        record.error = None
    folder.save(record)


def _finish(
    folder: RunFolder,
    record: RunRecord,
    context: CompanyContext,
    failures: _Failures,
    status: RunStatus,
    error: RunError | None,
) -> None:
    prd = context.documents.get(PRD)
    if record.project_name is None:  # else named when the PRD came, perhaps with a number
        record.project_name = record.options.project_name or (prd.project_name if prd else None)
    record.status = status
    record.error = error
    record.cost = RunCost.of(context.cost.totals)
    record.file_errors = dict(failures.files)
    record.test_verdict = context.test_verdict
    if context.test_report is not None:
        record.tests = context.test_report.to_json()
        write_atomic(folder.path / "test_report.md", context.test_report.summary())
        write_atomic(folder.path / "test_report.json", json.dumps(record.tests, indent=2) + "\n")
    folder.checkpoint(context)
    folder.save(record)
