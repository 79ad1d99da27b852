"""`sopls startup`: run the company on an idea in the terminal, then write the project.

Kept apart from `server/cli.py` so that commands which never talk to an LLM (`sopls index`) do
not load the LLM stack.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from agents.config import Settings, load_settings
from agents.context import Context
from agents.errors import SoplsError
from agents.events import RunEvent
from agents.llm.local_model import local_model_file, offline_notice, require_llm
from agents.paths import safe_relative_path
from agents.run import execute
from agents.run_state import RunFolder, RunOptions, RunRecord
from server.arguments import describe
from server.disk_writer import write_project


class CliError(Exception):
    """A bad argument: printed as one line, exit code 2."""


def progress_printer(err: Console):
    def show(event: RunEvent) -> None:
        where = f"{event.role} · {event.path}" if event.path else f"{event.role} · {event.action}"
        count = (
            f" ({event.done}/{event.total})" if event.total and event.status != "started" else ""
        )
        cost = f"[dim]${event.cost_usd:.4f}[/dim]"
        if event.status == "started":
            if event.path is None:
                err.print(f"[cyan]…[/cyan] {where} {cost}")
        elif event.status == "finished":
            err.print(f"[green]✓[/green] {where}{count} {cost}")
        else:
            err.print(f"[red]✗[/red] {where}{count}: {event.detail}")

    return show


def cost_table(record: RunRecord, context: Context) -> Table:
    table = Table(title=f"Run {record.id}: {record.status}")
    for column in ("role", "calls", "prompt tokens", "completion tokens", "cost (USD)"):
        table.add_column(column, justify="left" if column == "role" else "right")
    for role, totals in sorted(context.cost.by_role().items()):
        table.add_row(
            role,
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
        raise CliError(describe(exc, lambda field: "--" + field.replace("_", "-"))) from None


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
) -> tuple[RunFolder, RunRecord, Settings]:
    """A new run (arguments checked first), or the run to resume."""
    if recover_path is not None:
        settings = load_settings()
        require_llm(settings.llm)
        folder, record = RunFolder.open(recover_path)
        if record.status == "completed":
            raise CliError(f"run {record.id} is already completed")
        if investment is not None:
            record.options.investment = investment
        return folder, record, settings
    run_options = new_run_options(idea, options, project_path)
    if run_options.mode != "new":
        root = check_repository(project_path, allow_dirty)
        if run_options.reqa_file is not None:
            run_options.reqa_file = checked_source(root, run_options.reqa_file)
    settings = load_settings()
    require_llm(settings.llm)
    folder, record = RunFolder.create(Path.cwd() / "workspace", run_options, target=project_path)
    return folder, record, settings


def run(
    folder: RunFolder, record: RunRecord, settings: Settings, out: Console, err: Console
) -> int:
    """Run to the end with progress on stderr; write the project when it completed."""
    err.print(f"[bold]sopls[/bold] run {record.id} · {folder.path}")
    if settings.llm.uses_local_model:
        err.print(f"[yellow]{offline_notice(local_model_file(settings.llm))}[/yellow]")
    try:
        record, context = asyncio.run(
            execute(folder, record, settings, listeners=[progress_printer(err)])
        )
    except KeyboardInterrupt:
        err.print(f"Cancelled. Resume with: sopls startup --recover-path {folder.path}")
        return 130
    out.print(cost_table(record, context))
    for path, reason in record.file_errors.items():
        err.print(f"[red]✗[/red] {path}: {reason}")
    if record.status != "completed":
        error = record.error
        where = "/".join(p for p in (error.role, error.action) if p) if error else ""
        reason = error.message if error else record.status
        err.print(f"[red]{record.status}[/red]{f' in {where}' if where else ''}: {reason}")
        err.print(
            f"The run's state is kept; resume with: sopls startup --recover-path {folder.path}"
        )
        return 1
    root = folder.project_root(record)
    if record.options.mode == "new":
        result = write_project(root, context.proposal, new_project=True)
    else:
        message = f"sopls: {record.options.idea}" if record.options.commit else None
        result = write_project(root, context.proposal, new_project=False, commit_message=message)
    commit = f" and committed {result.commit[:10]}" if result.commit else ""
    out.print(f"Wrote {len(result.written)} files to {root}{commit}.")
    return 1 if record.file_errors else 0
