"""Running the software company on a requirement: the one entry point for the CLI and the server.

The run's folder holds its record, checkpoints and call journal. Resuming rebuilds the team and
replays every stored call from the journal, so it continues after the last finished call without
paying for anything twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from agents.actions.classify import ClassifyRequest
from agents.actions.report_bug import BugFeedback, ReportBug
from agents.actions.write_code import CodeChange, WriteCode
from agents.config import Settings
from agents.context import Context
from agents.cost import CallRecord, CostManager, CostTotals
from agents.documents import DOCUMENT_KINDS, PRD
from agents.events import EventListener, RunEvent
from agents.llm.journal import CallJournal
from agents.llm.local_model import with_local_model
from agents.message import Message
from agents.role import Role
from agents.roles import Architect, Engineer, ProductManager, ProjectManager, QaEngineer
from agents.roles.repository_change import LEGACY_CODE_BUDGET
from agents.run_state import RunCost, RunError, RunFolder, RunOptions, RunRecord, RunStatus
from agents.team import Team
from repo_index.index import RepoIndex

logger = logging.getLogger("sopls.run")

README_LINES = 40  # of a repository's README in the roles' context


def build_team(options: RunOptions, context: Context) -> Team:
    """The company for these options: QA alone to (re)write one file's tests; the Engineer
    straight away for a bug; otherwise the document roles first, the Engineer when implementing;
    QA on request."""
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
    team.invest(options.investment)
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
            readme = next((p for p in root.glob("README*") if p.is_file()), None)
            if readme is not None:
                lines = readme.read_text(encoding="utf-8", errors="replace").splitlines()
                parts.append(f"{readme.name} (start):\n" + "\n".join(lines[:README_LINES]))
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
) -> tuple[RunRecord, Context]:
    """Run (or resume) the run in `folder` to its end; the record is saved whatever happens."""
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

    context.listeners.extend([failures, checkpoint, *listeners])
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
        error = RunError(role=role, action=action, message=str(exc) or type(exc).__name__)
        _finish(folder, record, context, failures, "failed", error)
        return record, context
    if outcome.status == "budget_exceeded":
        error = RunError(message=outcome.error or "the budget is spent")
        _finish(folder, record, context, failures, "budget_exceeded", error)
    else:
        _finish(folder, record, context, failures, "completed", None)
    return record, context


def _finish(
    folder: RunFolder,
    record: RunRecord,
    context: Context,
    failures: _Failures,
    status: RunStatus,
    error: RunError | None,
) -> None:
    prd = context.documents.get(PRD)
    record.project_name = record.options.project_name or (prd.project_name if prd else None)
    record.status = status
    record.error = error
    record.cost = RunCost.of(context.cost.totals)
    record.file_errors = dict(failures.files)
    folder.checkpoint(context)
    folder.save(record)
