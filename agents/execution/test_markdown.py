"""The Markdown of a test report, from the templates in `prompts/qa/`.

The same text is the run folder's `test_report.md`, the project's `docs/test_report.md`, and
what QA sends back to the Engineer as a change's debug logs, so the model reads it too.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

import prompts
from agents.execution.test_command import run_argv

if TYPE_CHECKING:
    from agents.execution.test_report import ChangeReport, TestOutcome

_LISTED_AT_MOST = 20
_OUTPUT_TAIL_LINES = 30


def report_markdown(report: ChangeReport) -> str:
    """A new project's report shows its whole output; a repository's compares the two runs."""
    if report.before is None:
        return _new_project_markdown(report)
    before, after = report.before, report.after
    tail = None  # the output shows what no test name can: a build error, a crash
    if not report.ok and not report.broken_by_change:
        tail = "\n".join(after.output.rstrip().splitlines()[-_OUTPUT_TAIL_LINES:])
    return prompts.render(
        "qa/change_report.md",
        command=_inline(shlex.join(run_argv(report.command))),
        before=_describe(before),
        after=_describe(after),
        sandbox=f"Sandbox: {after.containment}. {' '.join(after.sandbox_notes)}".rstrip(),
        verdict=_verdict(report),
        broken=_bullets(report.broken_by_change),
        environment=list(report.environment),
        already_failing=_bullets(report.already_failing),
        tail=tail,
        fence="`" * max(3, _longest_backtick_run(tail or "") + 1),
    )


def no_tests_markdown(reason: str) -> str:
    """A repository with no test command to run."""
    return prompts.render(
        "qa/change_report.md",
        command=None,
        before=None,
        after=None,
        sandbox=None,
        verdict=f"not run: {reason}.",
        broken=[],
        environment=[],
        already_failing=[],
        tail=None,
        fence=None,
    )


def _new_project_markdown(report: ChangeReport) -> str:
    after = report.after
    reason = report.not_run_reason
    if reason is not None:
        result = f"not run: {reason}"
    elif after.timed_out:
        result = "stopped at the time limit"
    else:
        result = "passed" if after.passed else f"failed (exit code {after.exit_code})"
    limit = after.time_limit
    stopped_after = f"{limit:g}" if after.timed_out and limit is not None else None
    return prompts.render(
        "qa/test_report.md",
        result=result,
        sandbox=after.containment,
        notes=list(after.sandbox_notes),
        output=after.output.strip(),
        stopped_after=stopped_after,
    )


def _verdict(report: ChangeReport) -> str:
    if report.after.timed_out:
        return "not OK: the tests did not finish in time with the change."
    if report.not_run_reason is not None:
        return f"not run: {report.not_run_reason}."
    broken = len(report.broken_by_change)
    if broken:
        return f"not OK: the change breaks {broken} test{'s' if broken != 1 else ''}."
    if report.unfixed:
        return f"not OK: these tests still fail: {', '.join(sorted(report.unfixed))}."
    if not report.ok:
        return (
            "not OK: the tests fail with the change in a way that names no test and "
            "differs from the run before it."
        )
    return "OK: the change breaks no test."


def _describe(outcome: TestOutcome) -> str:
    if outcome.timed_out:
        return "timed out"
    if outcome.passed:
        return "passed"
    count = len(outcome.failed_tests)
    named = f", {count} failing test{'s' if count != 1 else ''}" if count else ""
    return f"failed (exit code {outcome.exit_code}){named}"


def _bullets(names: Iterable[str]) -> list[str]:
    ordered = sorted(names)
    lines = [f"- {_inline(name)}" for name in ordered[:_LISTED_AT_MOST]]
    if len(ordered) > _LISTED_AT_MOST:
        lines.append(f"- … and {len(ordered) - _LISTED_AT_MOST} more")
    return lines


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def _inline(text: str) -> str:
    """Markdown inline code that stays intact when the text holds backticks itself."""
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if "`" in text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
