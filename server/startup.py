"""`sopls startup`: run the company on an idea in the terminal, then write the project.

Kept apart from `server/cli.py` so that commands which never talk to an LLM (`sopls index`) do
not load the LLM stack. Everything that can be checked before the first call is checked in
`prepare` (arguments, the target folder, the lock on it), so a refusal never costs money; model
text and paths are printed escaped, never read as Rich markup.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agents.company.roles.qa_engineer import REPORT_PATH
from agents.config import Settings, load_settings
from agents.edits.paths import safe_relative_path
from agents.edits.proposal import Proposal
from agents.errors import SoplsError
from agents.execution.test_report import describe_tests
from agents.framework.context import Context
from agents.framework.events import RunEvent
from agents.llm.local_model import local_model_file, offline_notice, require_llm
from agents.runs.run import execute, write_result
from agents.runs.run_lock import RunLock, claim_folder
from agents.runs.run_state import RunCompletedError, RunFolder, RunOptions, RunRecord, new_run_id
from server.arguments import describe
from server.disk_writer import WriteResult, write_project
from server.progress import ending_line


class CliError(Exception):
    """A bad argument: printed as one line, exit code 2."""


def progress_printer(err: Console):
    def show(event: RunEvent) -> None:
        label = escape(event.label)
        cost = f"[dim]${event.cost_usd:.4f}[/dim]"
        if event.status == "started":
            if event.path is None:
                err.print(f"[cyan]…[/cyan] {label} {cost}")
        elif event.status == "finished":
            detail = f" {escape(event.detail)}" if event.detail else ""
            err.print(f"[green]✓[/green] {label} {cost}{detail}")
        else:
            err.print(f"[red]✗[/red] {label}: {escape(event.detail)}")

    return show


def cost_table(record: RunRecord, context: Context) -> Table:
    table = Table(title=f"Run {record.id}: {record.status}")
    for column in ("role", "calls", "prompt tokens", "completion tokens", "cost (USD)"):
        table.add_column(column, justify="left" if column == "role" else "right")
    for role, totals in sorted(context.cost.by_role().items()):
        table.add_row(
            escape(role),
            str(totals.calls),
            str(totals.prompt_tokens),
            str(totals.completion_tokens),
            f"{totals.usd:.4f}",
        )
    cost = record.cost
    table.add_row(
        "[bold]total[/bold]",
        str(cost.calls),
        str(cost.prompt_tokens),
        str(cost.completion_tokens),
        f"[bold]{cost.usd:.4f}[/bold]",
    )
    return table


@dataclass
class StartedRun:
    """A run ready to go: its folder and record, the settings, and the locks it holds."""

    folder: RunFolder
    record: RunRecord
    settings: Settings
    locks: list[RunLock] = field(default_factory=list)

    def claim_project(self, root: Path) -> None:
        """Take the folder the PRD named: free and locked, else the run stops before paying on."""
        self.locks.append(claim_folder(root, self.record.id, empty=True))

    def release(self) -> None:
        for lock in self.locks:
            lock.release()
        self.locks.clear()


@dataclass
class ProjectWriter:
    """Writes a finished run's result: a new project into its free folder, a change into the
    repository (committed when asked for); keeps what it wrote for the closing line."""

    folder: RunFolder
    result: WriteResult | None = None

    def __call__(self, record: RunRecord, proposal: Proposal) -> None:
        root = self.folder.project_root(record)
        if record.options.mode == "new":
            self.result = write_project(root, proposal, new_project=True)
        else:
            message = f"sopls: {record.options.idea}" if record.options.commit else None
            self.result = write_project(root, proposal, new_project=False, commit_message=message)


def _flag(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def new_run_options(
    idea: str | None, options: dict[str, Any], project_path: Path | None
) -> RunOptions:
    if not idea or not idea.strip():
        raise CliError('say what to build, e.g. sopls startup "a snake game in the terminal"')
    if project_path is not None and project_path.exists() and not project_path.is_dir():
        raise CliError(f"--project-path {project_path} is a file; pass a folder (new or empty)")
    try:
        return RunOptions(idea=idea, **options)
    except ValidationError as exc:
        raise CliError(describe(exc, _flag)) from None


def check_repository(project_path: Path | None, allow_dirty: bool) -> Path:
    """The repository `--inc` changes: it must exist, be a git work tree, and be clean."""
    if project_path is None or not project_path.is_dir():
        raise CliError("--inc changes an existing repository: pass it with --project-path")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", ".", ":(exclude).sopls"],
        cwd=project_path,
        capture_output=True,
        text=True,
    )
    if status.returncode != 0:
        raise CliError(f"--project-path {project_path} is not a git repository")
    if status.stdout.strip() and not allow_dirty:
        raise CliError(
            f"{project_path} has uncommitted changes; commit or stash them first, or pass "
            "--allow-dirty to let sopls change the working tree anyway"
        )
    return project_path


def checked_source(root: Path, path: str) -> str:
    """A file of the repository, as a relative path; anything else is a clear error."""
    try:
        relative = safe_relative_path(path, root)
    except SoplsError as exc:
        raise CliError(f"--reqa-file: {exc}") from None
    if not (root / relative).is_file():
        raise CliError(f"--reqa-file {path} is not a file of {root}")
    return relative


def prepare(
    idea: str | None,
    options: dict[str, Any],
    project_path: Path | None,
    recover_path: Path | None,
    investment: float | None,
    *,
    allow_dirty: bool = False,
) -> StartedRun:
    """A new run, or the run to resume, with every check that needs no LLM call done and the
    run's folders locked; nothing is saved when a check fails."""
    target = project_path.absolute() if project_path is not None else None
    if recover_path is not None:
        return _resume(recover_path, target, investment, options.get("require_tests"))
    run_options = new_run_options(idea, options, target)
    if run_options.mode != "new":
        root = check_repository(target, allow_dirty)
        if run_options.reqa_file is not None:
            run_options.reqa_file = checked_source(root, run_options.reqa_file)
    settings = load_settings()
    require_llm(settings.llm)
    if "require_tests" not in options:
        run_options.require_tests = settings.run.require_tests
    workspace = Path.cwd() / "workspace"
    in_workspace = target is None
    if in_workspace and run_options.project_name is not None:
        target = workspace / run_options.project_name
    run_id = new_run_id()
    locks = _lock(run_id, target, workspace if in_workspace else None, run_options.mode == "new")
    folder, record = RunFolder.create(workspace, run_options, target=target, run_id=run_id)
    return StartedRun(folder, record, settings, locks)


def _resume(
    recover_path: Path, target: Path | None, investment: float | None, require_tests: bool | None
) -> StartedRun:
    """The stored run, checked and locked like a new one; `target` moves a new project, and
    `require_tests`, when given, replaces the stored option."""
    settings = load_settings()
    require_llm(settings.llm)
    folder, record = RunFolder.open(recover_path)
    try:
        record.resume_with(investment)
    except RunCompletedError as exc:
        raise CliError(f"{exc} and written") from None
    except ValidationError as exc:
        raise CliError(describe(exc, _flag)) from None
    if require_tests is not None:
        record.options.require_tests = require_tests
    if target is not None:
        if record.options.mode != "new":
            raise CliError("--project-path with --recover-path only moves a new project")
        record.target = str(target)
    workspace = None if record.target else folder.path.parent.parent.parent
    project = folder.project_root(record) if record.target or record.project_name else None
    locks = _lock(record.id, project, workspace, record.options.mode == "new")
    return StartedRun(folder, record, settings, locks)


def _lock(
    run_id: str, project: Path | None, workspace: Path | None, new_project: bool
) -> list[RunLock]:
    """Lock the run's project folder (free, for a new project) and, for a run in the default
    workspace, the workspace: exclusively while the project has no name, as it could become
    any, and shared once it has one."""
    locks: list[RunLock] = []
    try:
        if workspace is not None:
            locks.append(claim_folder(workspace, run_id, empty=False, shared=project is not None))
        if project is not None:
            locks.append(claim_folder(project, run_id, empty=new_project))
    except SoplsError as exc:
        for lock in locks:
            lock.release()
        raise CliError(str(exc)) from None
    return locks


def run(started: StartedRun, out: Console, err: Console) -> int:
    """Run to the end with progress on stderr, then write the project; a run whose work is
    already done (`unwritten`) is only written, paying nothing."""
    folder, record, settings = started.folder, started.record, started.settings
    err.print(f"[bold]sopls[/bold] run {escape(record.id)} · {escape(str(folder.path))}")
    writer = ProjectWriter(folder)
    if record.status == "unwritten":
        write_result(folder, record, folder.proposal(), writer)
    else:
        if settings.llm.uses_local_model:
            notice = offline_notice(local_model_file(settings.llm))
            err.print(f"[yellow]{escape(notice)}[/yellow]")
        try:
            record, context = asyncio.run(
                execute(
                    folder,
                    record,
                    settings,
                    listeners=[progress_printer(err)],
                    write=writer,
                    claim_project=started.claim_project,
                )
            )
        except KeyboardInterrupt:
            err.print(f"Cancelled. Resume with: sopls startup --recover-path {_quoted(folder)}")
            return 130
        out.print(cost_table(record, context))
    return _report(folder, record, writer.result, out, err)


def _report(
    folder: RunFolder, record: RunRecord, written: WriteResult | None, out: Console, err: Console
) -> int:
    """The closing lines and the exit code: 0 only when the project is written, every file was
    accepted, QA's tests (if any ran) did not fail, and ran when the run requires it."""
    for path, reason in record.file_errors.items():
        err.print(f"[red]✗[/red] {escape(path)}: {escape(reason)}")
    resume = f"sopls startup --recover-path {_quoted(folder)}"
    elsewhere = " (add --project-path DIR to put the project elsewhere)"
    movable = record.options.mode == "new"
    if record.status == "unwritten":
        reason = record.error.message if record.error else "it was not written"
        err.print(f"[red]✗[/red] The project was not written: {escape(reason)}")
        err.print(
            f"The finished work is kept; write it without paying again with: {resume}"
            + (elsewhere if movable else "")
        )
        return 1
    if record.status != "completed":
        err.print(f"[red]✗[/red] {escape(ending_line(record))}")
        if record.error is not None and record.error.answer is not None:
            err.print(f"The model's answer is saved at {escape(record.error.answer)}")
        hint = elsewhere if movable and record.target is None else ""
        err.print(f"The run's state is kept; resume with: {resume}{hint}")
        return 1
    root = folder.project_root(record)
    if written is not None:
        commit = f" and committed {written.commit[:10]}" if written.commit else ""
        out.print(f"Wrote {len(written.written)} files to {escape(str(root))}{commit}.")
    if record.tests is not None:
        colour = "green" if record.tests.get("verdict") == "passed" else "yellow"
        line = record.tests.get("line") or describe_tests(record.tests)
        err.print(f"[{colour}]{escape(str(line))}[/{colour}]")
    if record.test_verdict in ("failed", "timed out"):
        report = escape(str(root / REPORT_PATH if movable else folder.path / "test_report.md"))
        err.print(f"[red]✗[/red] QA's tests {record.test_verdict}; the report is {report}")
        return 1
    missing = record.required_tests_missing()
    if missing is not None:
        err.print(
            f"[red]✗[/red] The tests did not run ({escape(missing)}), and --require-tests "
            "(run.require_tests) asks for tests that run; make them runnable and run again, or "
            "leave the option off."
        )
        return 1
    return 1 if record.file_errors else 0


def _quoted(folder: RunFolder) -> str:
    """The run folder as a shell word, escaped for Rich."""
    return escape(shlex.quote(str(folder.path)))
