"""The one way QA runs tests: a command in a sandboxed copy of the proposal, under limits.

In an existing repository the same tests also run in a copy as the repository is (the run
"before"), concurrently, so tests that were already failing are not blamed on the change. A
new project has no "before": its tests run once, in the environment of its requirements.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from agents.edits.proposal import Proposal
from agents.execution.project_env import ensure_project_env
from agents.execution.resource_limits import SandboxLimits
from agents.execution.sandbox import CopyRun, run_on_copy
from agents.execution.test_command import TestCommand, TestKind, run_argv
from agents.execution.test_report import ChangeReport, TestOutcome, packages_not_run
from agents.execution.test_results import (
    JUNIT_FILE,
    JunitReader,
    JunitResults,
    one_line,
    parse_counts,
    parse_failed_tests,
)
from agents.execution.test_setup import TestSetup, copy_arguments, setup_notes

_DEFAULT_LIMITS = SandboxLimits()
_NO_SETUP = TestSetup()
# pytest's exit codes for "interrupted", "internal error", "usage error" and "no tests collected".
_PYTEST_NOT_RUN_CODES = {2: "was interrupted", 3: "hit an internal error", 4: "was misused"}
_PYTEST_NO_TESTS = 5
_COMMAND_NOT_FOUND = 127
_NEW_PROJECT_PYTEST = ("-m", "pytest", "-q", "-p", "no:cacheprovider")


@dataclass(frozen=True)
class Before:
    """The run without the change: the source as it is, with `extra` written over it (a new
    regression test, so the run shows the bug it checks)."""

    extra: Proposal | None = None


async def run_tests(
    source: Path | None,
    proposal: Proposal,
    command: TestCommand,
    *,
    limits: SandboxLimits = _DEFAULT_LIMITS,
    setup: TestSetup = _NO_SETUP,
    changed: Iterable[str] = (),
    before: Before | None = None,
) -> ChangeReport:
    """Run `command` in a sandboxed copy of `source` (empty when None) with `proposal` applied,
    and, with `before`, in one without it, concurrently, each under `limits`.

    `changed` are the source files the change is about, for the report's line.
    """
    argv = run_argv(command)
    if command.kind == "pytest":
        # xunit1 names each test's file, so results carry the same node ids as pytest's output.
        argv += [f"--junitxml={JUNIT_FILE}", "-o", "junit_family=xunit1"]
    copy = partial(run_on_copy, source, limits=limits, **copy_arguments(setup, command))

    async def once(changes: Proposal | None) -> tuple[TestOutcome, CopyRun]:
        junit = JunitReader()
        run = await copy(changes, argv, collect=junit)
        return _outcome(run, command.kind, junit.results(), limits), run

    previous: TestOutcome | None = None
    if before is None:
        after, after_copy = await once(proposal)
        notes = setup_notes(after_copy, "changed")
    else:
        (previous, before_copy), (after, after_copy) = await asyncio.gather(
            once(before.extra), once(proposal)
        )
        notes = [*setup_notes(before_copy, "as it is"), *setup_notes(after_copy, "changed")]
    notes = [*setup.notes, *notes]
    return ChangeReport(
        command=command,
        before=previous,
        after=after,
        environment=tuple(dict.fromkeys(notes)),
        changed=tuple(sorted(changed)),
    )


async def run_repository_tests(
    root: Path,
    proposal: Proposal,
    command: TestCommand,
    *,
    baseline: Proposal | None = None,
    **options: Any,
) -> ChangeReport:
    """A repository's tests with the change and as the repository is (plus `baseline`);
    `options` are `run_tests`'s."""
    return await run_tests(root, proposal, command, before=Before(baseline), **options)


async def run_project_tests(
    proposal: Proposal,
    requirements: Sequence[str],
    base: Path | None = None,
    *,
    limits: SandboxLimits = _DEFAULT_LIMITS,
    envs_root: Path | None = None,
) -> ChangeReport:
    """A new project's pytest suite, with the packages its requirements name installed."""
    env = await ensure_project_env(requirements, root=envs_root)
    command = TestCommand(argv=[str(env.python), *_NEW_PROJECT_PYTEST], kind="pytest")
    if env.missing or env.refused:
        outcome = packages_not_run(env.missing, env.refused, env.log)
        return ChangeReport(command=command, before=None, after=outcome)
    return await run_tests(
        base, proposal, command, limits=limits, setup=TestSetup(python=env.python)
    )


def _outcome(
    run: CopyRun, kind: TestKind, junit: JunitResults | str | None, limits: SandboxLimits
) -> TestOutcome:
    """Names are made relative to the copy, as runners such as node name a file by its path.

    pytest's JUnit results, when readable, give the per-test outcomes; otherwise the names
    come from the output.
    """
    result = run.result
    output = "\n".join(part for part in (result.stdout, result.stderr) if part)
    prefixes = {f"{run.root}{os.sep}", f"{run.root.resolve()}{os.sep}"}
    names = frozenset(_strip_prefixes(name, prefixes) for name in parse_failed_tests(output, kind))
    results = junit if isinstance(junit, JunitResults) else None
    return TestOutcome(
        passed=result.ok,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        failed_tests=results.failed | results.errors if results else names,
        output=output,
        containment=result.containment,
        sandbox_notes=result.notes,
        passed_tests=results.passed if results else frozenset(),
        counts=results.counts if results else parse_counts(output, kind),
        per_test=results is not None,
        not_run_reason=None if result.timed_out else _not_run_reason(run, kind, junit),
        network_isolated=result.network_isolated,
        time_limit=limits.timeout,
    )


def _not_run_reason(run: CopyRun, kind: TestKind, junit: JunitResults | str | None) -> str | None:
    """Why a run that finished ran no test at all, or None when some test ran."""
    result = run.result
    if result.exit_code == _COMMAND_NOT_FOUND:
        return f"the test command was not found ({one_line(shlex.join(result.command[:1]))})"
    if kind != "pytest" or result.ok:
        return None
    if isinstance(junit, str):
        return one_line(junit)
    if junit is None:
        return f"pytest wrote no results (exit code {result.exit_code})"
    if junit.ran_a_test:
        return None
    if junit.collection_error is not None:
        return one_line(junit.collection_error)
    if result.exit_code == _PYTEST_NO_TESTS:
        return "pytest collected no tests"
    return f"pytest {_PYTEST_NOT_RUN_CODES.get(result.exit_code or 0, 'ran no test')}"


def _strip_prefixes(name: str, prefixes: Iterable[str]) -> str:
    for prefix in prefixes:
        name = name.replace(prefix, "")
    return name
