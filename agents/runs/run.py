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
from agents.company.actions.report_bug import BugFeedback, ReportBug
from agents.company.actions.write_code import CodeChange, WriteCode
from agents.company.documents import DOCUMENT_KINDS, PRD
from agents.company.repository_change import LEGACY_CODE_BUDGET
from agents.company.roles import Architect, Engineer, ProductManager, ProjectManager, QaEngineer
from agents.config import Settings
from agents.edits.paths import read_inside
from agents.edits.proposal import Proposal
from agents.errors import SoplsError
from agents.framework.context import Context
from agents.framework.events import EventListener, RunEvent
from agents.framework.message import Message
from agents.framework.role import Role
from agents.framework.team import Team
from agents.llm.budget import CallRecord, CostManager, CostTotals
from agents.llm.journal import CallJournal
from agents.llm.local_model import with_local_model
from agents.redaction import redact
from agents.runs.run_lock import RunLockedError, TargetNotEmptyError
from agents.runs.run_state import (
    RunCost,
    RunError,
    RunFolder,
    RunOptions,
    RunRecord,
    RunStatus,
    write_atomic,
)
from repo_index.index import RepoIndex

logger = logging.getLogger("sopls.run")

README_LINES = 40  # of a repository's README in the roles' context
FREE_NAME_ATTEMPTS = 20  # project_2 … project_20 before a taken name stops the run

# Puts a finished run's proposal in place (the command line writes the project); raises to refuse.
ResultWriter = Callable[[RunRecord, Proposal], None]


def build_team(options: RunOptions, context: Context) -> Team:
    """The company for these options: QA alone to (re)write one file's tests; the Engineer
    straight away for a bug; otherwise the document roles first, the Engineer when implementing;
    QA on request. The budget is the context's: `execute` sets it from the options (0 is
    allowed there: the run stops before its first call)."""
    qa = QaEngineer(
        max_test_rounds=options.max_test_rounds,
        test_timeout=options.test_timeout,
        reqa_file=options.reqa_file,
    )
    roles: list[Role] = [qa]
    if options.mode != "reqa":
        roles = [] if options.mode == "bug" else [ProductManager(), Architect(), ProjectManager()]
        if options.implement or options.mode == "bug":
            engineer = Engineer(
                code_review=options.code_review,
                code_review_k=options.code_review_k,
                max_auto_summarize_code=options.max_auto_summarize_code,
                max_summarize_rounds=options.n_round,
            )
            roles += [engineer, qa] if options.run_tests else [engineer]
    team = Team(context)
    team.hire(roles)
    return team


async def _read_repository(context: Context, root: Path, requirement: str) -> None:
    """What the document roles know of an existing repository: its sopls documents, if it has
    any (to refine), its layout, the start of its README, and its map ranked for the requirement
    (the Legacy Code)."""
    for kind in DOCUMENT_KINDS:
        path = root / "docs" / f"{kind.doc_name}.json"
        if path.is_file():
            try:
                context.documents.put(kind.model_validate_json(path.read_text(encoding="utf-8")))
            except ValueError:
                logger.warning("%s is not a valid %s; it is ignored", path, kind.__name__)

    def repository_map() -> str:
        index = RepoIndex(root)
        try:
            files = index.refresh().files
            layout = sorted({str(Path(p).parent) for p in index.files()} - {"."})
            parts = [f"{files} source files; folders: {', '.join(layout) or '(top level only)'}"]
            readme = next(
                (
                    (path.name, text)
                    for path in sorted(root.glob("README*"))
                    if (text := read_inside(root, path.name)) is not None
                ),
                None,
            )
            if readme is not None:
                name, text = readme
                lines = text.splitlines()
                parts.append(f"{name} (start):\n" + "\n".join(lines[:README_LINES]))
            parts.append(index.context(requirement, (), LEGACY_CODE_BUDGET))
            return "\n\n".join(parts)
        finally:
            index.close()

    context.legacy_code = await asyncio.to_thread(repository_map)


async def _classify(context: Context, requirement: str) -> Literal["feature", "bug"]:
    """The Product Manager's call: a bug takes the short path to the Engineer."""
    manager = ProductManager(context=context)
    kind = await ClassifyRequest().classify(manager.action_context(), requirement)
    context.emit(manager.name, ClassifyRequest.name, "finished", detail=kind.kind)
    return kind.kind


def _hand_over(team: Team, options: RunOptions) -> None:
    """A project or a feature starts with the requirement; a bug goes straight to the Engineer."""
    if options.mode == "reqa" and options.reqa_file is not None:
        change = CodeChange(files=[options.reqa_file])
        team.env.publish(
            Message(content=options.idea, payload=change, cause_by=WriteCode, sent_from="User")
        )
        return
    if options.mode != "bug":
        team.run_project(options.idea)
        return
    bug = BugFeedback(description=options.idea, test_output=options.test_output)
    team.env.publish(
        Message(
            content=options.idea,
            payload=bug,
            cause_by=ReportBug,
            sent_from="User",
        )
    )


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
) -> tuple[RunRecord, Context]:
    """Run (or resume) the run in `folder` to its end; the record is saved whatever happens.

    `write`, when given, puts the result in place before the run counts as completed (see
    `write_result`). `claim_project` gets the project folder as soon as the PRD names it (a new
    run given no folder), before any later call is paid; it raises to stop the run there.
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
    context = Context(
        settings=settings,
        cost=cost,
        raw_output_dir=folder.raw_output_dir,
        journal=CallJournal(folder.journal_path, secrets=[key]),
    )
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
    if record.options.mode != "new" and record.target:
        context.project_root = Path(record.target)
    try:
        context.settings = await with_local_model(settings)
        if context.project_root is not None and record.options.mode in ("feature", "change"):
            await _read_repository(context, context.project_root, record.options.idea)
        if record.options.mode == "change":
            record.options.mode = await _classify(context, record.options.idea)
            folder.save(record)
        team = build_team(record.options, context)
        _hand_over(team, record.options)
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
        error = RunError(role=role, action=action, message=redact(str(exc)) or type(exc).__name__)
        _finish(folder, record, context, failures, "failed", error)
        return record, context
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
    context: Context,
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
