"""The `sopls` command line. Results go to stdout; progress and logs go to stderr."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from agents import write_default_config
from agents.config import Settings, load_settings
from agents.context import Context
from agents.errors import SoplsError
from agents.events import RunEvent
from agents.run import execute
from agents.run_state import RunFolder, RunOptions, RunRecord
from server.disk_writer import write_project

app = typer.Typer(
    name="sopls",
    help="An AI software company: PRD, design, tasks, reviewed code and tests from one line.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DEFAULT_INVESTMENT = 3.0
T = TypeVar("T")


class CliError(Exception):
    """A bad argument: printed as one line, exit code 2."""


def _configure_logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if verbosity < 3:
        # The HTTP stack's debug output is noise unless asked for explicitly.
        for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai"):
            logging.getLogger(noisy).setLevel(max(level, logging.INFO))


def _init_config() -> None:
    path = write_default_config()
    out.print(
        f"Wrote {path}. Put your model and endpoint there; keep the API key in OPENAI_API_KEY."
    )


@app.callback(invoke_without_command=True)
def main_options(
    ctx: typer.Context,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="more logs on stderr (-vv debug)")
    ] = 0,
    init_config: Annotated[
        bool, typer.Option("--init-config", help="write a commented ~/.sopls/config.yaml")
    ] = False,
    show_version: Annotated[bool, typer.Option("--version", help="print the version")] = False,
) -> None:
    _configure_logging(verbose)
    if show_version:
        out.print(f"sopls {version('sopls')}")
        raise typer.Exit(0)
    if init_config:
        _guard(_init_config)
        raise typer.Exit(0)


def _progress(event: RunEvent) -> None:
    where = f"{event.role} · {event.path}" if event.path else f"{event.role} · {event.action}"
    count = f" ({event.done}/{event.total})" if event.total and event.status != "started" else ""
    cost = f"[dim]${event.cost_usd:.4f}[/dim]"
    if event.status == "started":
        if event.path is None:
            err.print(f"[cyan]…[/cyan] {where} {cost}")
    elif event.status == "finished":
        err.print(f"[green]✓[/green] {where}{count} {cost}")
    else:
        err.print(f"[red]✗[/red] {where}{count}: {event.detail}")


def _cost_table(record: RunRecord, context: Context) -> Table:
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


def _new_run_options(
    idea: str | None, options: dict[str, object], project_path: Path | None
) -> RunOptions:
    if not idea or not idea.strip():
        raise CliError('say what to build, e.g. sopls startup "a snake game in the terminal"')
    if project_path is not None and project_path.exists() and not project_path.is_dir():
        raise CliError(f"--project-path {project_path} is a file; pass a folder (new or empty)")
    try:
        return RunOptions(idea=idea, **options)
    except ValidationError as exc:
        problems = "; ".join(
            f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}"
            for e in exc.errors()
        )
        raise CliError(problems) from None


def _run(folder: RunFolder, record: RunRecord, settings: Settings) -> int:
    err.print(f"[bold]sopls[/bold] run {record.id} · {folder.path}")
    try:
        record, context = asyncio.run(execute(folder, record, settings, listeners=[_progress]))
    except KeyboardInterrupt:
        err.print(f"Cancelled. Resume with: sopls startup --recover-path {folder.path}")
        return 130
    out.print(_cost_table(record, context))
    for path, reason in record.file_errors.items():
        err.print(f"[red]✗[/red] {path}: {reason}")
    if record.status != "completed":
        where = (
            "/".join(p for p in (record.error.role, record.error.action) if p)
            if record.error
            else ""
        )
        reason = record.error.message if record.error else record.status
        err.print(f"[red]{record.status}[/red]{f' in {where}' if where else ''}: {reason}")
        err.print(
            f"The run's state is kept; resume with: sopls startup --recover-path {folder.path}"
        )
        return 1
    root = folder.project_root(record)
    result = write_project(root, context.proposal, new_project=True)
    commit = f" and committed {result.commit[:10]}" if result.commit else ""
    out.print(f"Wrote {len(result.written)} files to {root}{commit}.")
    return 1 if record.file_errors else 0


def _guard(step: Callable[[], T]) -> T:
    try:
        return step()
    except CliError as exc:
        err.print(f"sopls: {exc}")
        raise typer.Exit(2) from None
    except SoplsError as exc:
        err.print(f"sopls: {exc}")
        raise typer.Exit(1) from None


@app.command()
def startup(
    idea: Annotated[str | None, typer.Argument(help="what to build, in one line")] = None,
    investment: Annotated[
        float | None, typer.Option(help=f"USD the run may spend [default: {DEFAULT_INVESTMENT}]")
    ] = None,
    n_round: Annotated[int, typer.Option(help="rounds of team work")] = 5,
    code_review: Annotated[bool, typer.Option(help="review each file (LGTM/LBTM)")] = True,
    run_tests: Annotated[bool, typer.Option(help="have QA write and run tests")] = False,
    implement: Annotated[bool, typer.Option(help="write code, not only documents")] = True,
    project_name: Annotated[str | None, typer.Option(help="snake_case project name")] = None,
    project_path: Annotated[
        Path | None, typer.Option(help="project folder [default: ./workspace/<project_name>]")
    ] = None,
    max_auto_summarize_code: Annotated[
        int, typer.Option(help="rewrite rounds driven by the code summary (-1: until done)")
    ] = 0,
    recover_path: Annotated[
        Path | None, typer.Option(help="a run folder to resume (.sopls/runs/<id>)")
    ] = None,
    init_config: Annotated[
        bool, typer.Option("--init-config", help="write a commented ~/.sopls/config.yaml")
    ] = False,
) -> None:
    """Turn an idea into a project: PRD, design, tasks, reviewed code and tests."""
    if init_config:
        _guard(_init_config)
        raise typer.Exit(0)

    def prepare() -> tuple[RunFolder, RunRecord, Settings]:
        if recover_path is not None:
            settings = load_settings()
            settings.llm.require_endpoint()
            folder, record = RunFolder.open(recover_path)
            if record.status == "completed":
                raise CliError(f"run {record.id} is already completed")
            if investment is not None:
                record.options.investment = investment
            return folder, record, settings
        options = _new_run_options(
            idea,
            {
                "investment": investment if investment is not None else DEFAULT_INVESTMENT,
                "n_round": n_round,
                "code_review": code_review,
                "run_tests": run_tests,
                "implement": implement,
                "project_name": project_name,
                "max_auto_summarize_code": max_auto_summarize_code,
            },
            project_path,
        )
        settings = load_settings()
        settings.llm.require_endpoint()
        folder, record = RunFolder.create(Path.cwd() / "workspace", options, target=project_path)
        return folder, record, settings

    folder, record, settings = _guard(prepare)
    code = _guard(lambda: _run(folder, record, settings))
    raise typer.Exit(code)


@app.command()
def serve(
    tcp: Annotated[
        str | None, typer.Option(help="listen on HOST:PORT instead of stdin/stdout")
    ] = None,
) -> None:
    """Run the language server (JSON-RPC on stdin/stdout; stdout carries nothing else)."""
    from server.commands import SERVER

    if tcp is None:
        SERVER.start_io()
        return
    host, _, port = tcp.rpartition(":")
    if not host or not port.isdigit():
        err.print(f"sopls: --tcp wants HOST:PORT, e.g. 127.0.0.1:2087, not {tcp!r}")
        raise typer.Exit(2)
    SERVER.start_tcp(host, int(port))


def main() -> None:
    app()
