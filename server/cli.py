"""The `sopls` command line. Results go to stdout; progress and logs go to stderr."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from agents.errors import SoplsError

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
    from agents.config import write_default_config

    path = write_default_config()
    out.print(
        f"Wrote {escape(str(path))}. Put your model and endpoint there; "
        "keep the API key in OPENAI_API_KEY."
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


def _guard(step: Callable[[], T]) -> T:
    from server.startup import CliError

    try:
        return step()
    except CliError as exc:
        err.print(f"sopls: {escape(str(exc))}")
        raise typer.Exit(2) from None
    except SoplsError as exc:
        err.print(f"sopls: {escape(str(exc))}")
        raise typer.Exit(1) from None


@app.command()
def startup(
    idea: Annotated[str | None, typer.Argument(help="what to build, in one line")] = None,
    investment: Annotated[
        float | None,
        typer.Option(
            help=f"USD the run may spend, 0 or more [default: {DEFAULT_INVESTMENT}]; "
            "with --recover-path, the new total"
        ),
    ] = None,
    n_round: Annotated[int, typer.Option(help="rounds of team work")] = 5,
    code_review: Annotated[bool, typer.Option(help="review each file (LGTM/LBTM)")] = True,
    run_tests: Annotated[bool, typer.Option(help="have QA write and run tests")] = False,
    implement: Annotated[bool, typer.Option(help="write code, not only documents")] = True,
    project_name: Annotated[str | None, typer.Option(help="snake_case project name")] = None,
    project_path: Annotated[
        Path | None,
        typer.Option(
            help="project folder, new or empty [default: ./workspace/<project_name>]; "
            "with --recover-path, where a new project not yet written goes instead"
        ),
    ] = None,
    max_auto_summarize_code: Annotated[
        int, typer.Option(help="rewrite rounds driven by the code summary (-1: until done)")
    ] = 0,
    inc: Annotated[
        bool,
        typer.Option(
            "--inc", help="change the existing repository at --project-path (feature or bug)"
        ),
    ] = False,
    commit: Annotated[bool, typer.Option("--commit", help="with --inc: commit the change")] = False,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="with --inc: accept uncommitted changes")
    ] = False,
    reqa_file: Annotated[
        str | None,
        typer.Option(help="write or rewrite the tests of this file of --project-path only"),
    ] = None,
    require_tests: Annotated[
        bool | None,
        typer.Option(
            "--require-tests/--no-require-tests",
            help="exit 1 when QA's tests could not run, instead of warning "
            "[default: run.require_tests, else off]; with --recover-path, the new setting",
            show_default=False,
        ),
    ] = None,
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

    from server import startup as company

    options = {
        "investment": investment if investment is not None else DEFAULT_INVESTMENT,
        "n_round": n_round,
        "code_review": code_review,
        "run_tests": run_tests,
        "implement": implement,
        "project_name": project_name,
        "max_auto_summarize_code": max_auto_summarize_code,
    }
    if require_tests is not None:
        options["require_tests"] = require_tests
    if inc:
        options |= {"mode": "change", "commit": commit, "run_tests": True}
    if reqa_file is not None:
        options |= {"mode": "reqa", "reqa_file": reqa_file, "commit": commit, "run_tests": True}
        idea = idea or f"tests for {reqa_file}"
    started = _guard(
        lambda: company.prepare(
            idea, options, project_path, recover_path, investment, allow_dirty=allow_dirty
        )
    )
    try:
        code = _guard(lambda: company.run(started, out, err))
    finally:
        started.release()
    raise typer.Exit(code)


@app.command()
def serve(
    tcp: Annotated[
        str | None, typer.Option(help="listen on HOST:PORT instead of stdin/stdout")
    ] = None,
) -> None:
    """Run the language server (JSON-RPC on stdin/stdout; stdout carries nothing else)."""
    from server.transport import serve as serve_transport

    code = serve_transport(tcp)
    if code:
        raise typer.Exit(code)


@app.command()
def index(
    path: Annotated[Path, typer.Argument(help="the workspace folder")] = Path("."),
    budget: Annotated[int, typer.Option(help="tokens the map may use")] = 1024,
    focus: Annotated[
        list[str] | None, typer.Option(help="a file you work on (repeatable); shown in full")
    ] = None,
    requirement: Annotated[
        str, typer.Option(help="what you want to change; files it names rank higher")
    ] = "",
    stats: Annotated[bool, typer.Option(help="also print files, tags, cache hits, times")] = False,
    cache: Annotated[bool, typer.Option(help="use and update .sopls/index.db")] = True,
) -> None:
    """Print the ranked repository map (the Legacy Code context) of a workspace."""
    import time

    from repo_index.index import RepoIndex

    if not path.is_dir():
        err.print(f"sopls: {escape(str(path))} is not a folder; pass the workspace to index")
        raise typer.Exit(2)
    if budget < 0:
        err.print("sopls: --budget must be zero or more tokens")
        raise typer.Exit(2)
    started = time.perf_counter()
    workspace = RepoIndex(path, use_cache=cache)
    try:
        text = workspace.context(requirement, focus or [], budget)
    finally:
        workspace.close()
    elapsed = time.perf_counter() - started
    typer.echo(text)
    if stats:
        figures = workspace.stats
        languages = ", ".join(f"{name} {count}" for name, count in figures.languages.items())
        times = ", ".join(f"{step} {seconds:.3f}s" for step, seconds in figures.seconds.items())
        typer.echo(
            f"\nfiles {figures.files} ({languages}); definitions {figures.definitions}; "
            f"references {figures.references}; parsed {figures.parsed}; "
            f"cache hits {figures.cache_hits}; skipped {figures.skipped}\n"
            f"time {elapsed:.3f}s ({times})"
        )


def main() -> None:
    app()
