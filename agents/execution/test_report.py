"""What QA's test runs showed: one report type for a new project and for a repository.

A report holds the run with the change and, in a repository, the same tests run without it, so
tests that were already failing are reported apart and are not blamed on the change. A new
project has nothing "before" it: every failing test is the change's, and only an environment
that could not be built keeps its tests from running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.execution.probe import Containment
from agents.execution.test_command import TestCommand
from agents.execution.test_markdown import no_tests_markdown, report_markdown
from agents.execution.test_results import TestCounts
from agents.framework.context import TestVerdict


@dataclass(frozen=True)
class TestOutcome:
    """One run of the tests; `exit_code` is None when the time limit stopped it.

    `counts` come from the runner's machine-readable results or its closing summary, and
    `passed_tests` only from JUnit XML (`per_test`); `not_run_reason` says why no test ran at
    all (nothing collected, a missing command, packages that could not be installed, which
    `missing_packages` and `refused_packages` name). `containment` is None when nothing ran,
    and `time_limit` is the limit the run had.
    """

    __test__ = False
    passed: bool
    exit_code: int | None
    timed_out: bool
    failed_tests: frozenset[str]
    output: str
    containment: Containment | None = "none"
    sandbox_notes: tuple[str, ...] = ()
    passed_tests: frozenset[str] = frozenset()
    counts: TestCounts | None = None
    not_run_reason: str | None = None
    per_test: bool = False  # whether every test's outcome is known by name (JUnit XML)
    network_isolated: bool = False
    missing_packages: tuple[str, ...] = ()
    refused_packages: tuple[str, ...] = ()
    time_limit: float | None = None

    @property
    def lacks_packages(self) -> bool:
        """True when the tests could not run because of the requirements, not the code."""
        return bool(self.missing_packages or self.refused_packages)

    def to_json(self) -> dict[str, Any]:
        """The counts for the run result; without machine-readable results only failures are
        known, by name."""
        counts = self.counts
        return {
            "passed": counts.passed if counts else None,
            "failed": counts.failed if counts else len(self.failed_tests),
            "errors": counts.errors if counts else None,
            "exitCode": self.exit_code,
            "timedOut": self.timed_out,
        }


def packages_not_run(missing: list[str], refused: list[str], log: str) -> TestOutcome:
    """The outcome of tests that never started because their packages are not there."""
    if refused:
        reason = (
            "these requirements were refused, as only plain package names with versions "
            "are installed: " + ", ".join(refused)
        )
    else:
        reason = "these packages could not be installed: " + ", ".join(missing)
    return TestOutcome(
        passed=False,
        exit_code=None,
        timed_out=False,
        failed_tests=frozenset(),
        output=log,
        containment=None,
        not_run_reason=reason,
        missing_packages=tuple(missing),
        refused_packages=tuple(refused),
    )


@dataclass(frozen=True)
class ChangeReport:
    """The tests with a change and, unless there was nothing before it (`before` None, a new
    project), without it; only new failures count against the change.

    `must_pass` are the tests a bug report quotes as failing: the change is only a fix when
    they no longer fail.
    """

    __test__ = False
    command: TestCommand
    before: TestOutcome | None
    after: TestOutcome
    must_pass: frozenset[str] = frozenset()
    environment: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def already_failing(self) -> frozenset[str]:
        """Tests failing before the change; they are not the change's fault either way."""
        return self.before.failed_tests if self.before is not None else frozenset()

    @property
    def broken_by_change(self) -> frozenset[str]:
        """Tests failing with the change that did not fail without it."""
        return self.after.failed_tests - self.already_failing

    @property
    def still_failing(self) -> frozenset[str]:
        """Tests failing both before and with the change."""
        return self.already_failing & self.after.failed_tests

    @property
    def fixed(self) -> frozenset[str]:
        """Tests failing before the change that ran and did not fail with it."""
        if self.after.timed_out or self.after.not_run_reason is not None:
            return frozenset()
        fixed = self.already_failing - self.after.failed_tests
        return fixed & self.after.passed_tests if self.after.per_test else fixed

    @property
    def not_run_reason(self) -> str | None:
        """Why no test ran with the change, when none ran without it either; a change that stops
        tests from running is a failure instead (its broken files or exit code show it). With
        nothing before the change, only packages that could not be installed count."""
        if self.before is None:
            return self.after.not_run_reason if self.after.lacks_packages else None
        if self.before.not_run_reason is None and not self.before.timed_out:
            return None
        reason = self.after.not_run_reason
        if reason is None or not self.environment:
            return reason
        return f"{reason} ({self.environment[0]})"

    @property
    def ok(self) -> bool:
        """True when the change breaks nothing the runs can show.

        A failing run whose output names no test (a build error, a crash, an unknown runner) is
        only accepted when the repository failed the same way before the change; tests that did
        not run at all show nothing.
        """
        if self.after.timed_out or self.broken_by_change or self.not_run_reason is not None:
            return False
        if self.after.passed or self.after.failed_tests:
            return True
        before = self.before
        return (
            before is not None
            and not before.timed_out
            and before.exit_code == self.after.exit_code
            and not before.failed_tests
        )

    @property
    def unfixed(self) -> frozenset[str]:
        """The tests the change had to make pass that still fail."""
        return self.must_pass & self.after.failed_tests

    @property
    def verdict(self) -> TestVerdict:
        """QA's word: a change passes only when it breaks nothing and fixes what it must."""
        if self.after.timed_out:
            return "timed out"
        if self.not_run_reason is not None:
            return "not run"
        return "passed" if self.ok and not self.unfixed else "failed"

    def line(self) -> str:
        """One line for the terminal, e.g. `tests: 1 failed before → 1 passed after`."""
        return describe_tests(self.to_json())

    def to_json(self) -> dict[str, Any]:
        """The `tests` field of a run's result and the run folder's `test_report.json`."""
        if self.before is None:
            return self._new_project_json()
        document: dict[str, Any] = {
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "newlyFailing": sorted(self.broken_by_change),
            "stillFailing": sorted(self.still_failing),
            "fixed": sorted(self.fixed),
            "unfixed": sorted(self.unfixed),
            "verdict": self.verdict,
            "changed": list(self.changed),
            "environment": list(self.environment),
        }
        if self.not_run_reason is not None:
            document["reason"] = self.not_run_reason
        document["line"] = describe_tests(document)
        return document

    def _new_project_json(self) -> dict[str, Any]:
        """The same shape without a "before": a new project's failing tests are all new."""
        document: dict[str, Any] = {
            "before": None,
            "after": self.after.to_json(),
            "newlyFailing": sorted(self.after.failed_tests),
            "stillFailing": [],
            "fixed": [],
            "verdict": self.verdict,
        }
        reason = self.not_run_reason
        document["line"] = describe_tests({**document, "reason": reason} if reason else document)
        if reason is not None:
            document["reason"] = reason
        return document

    def summary(self) -> str:
        """The Markdown report: the test report document, and QA's feedback on a change."""
        return report_markdown(self)


@dataclass(frozen=True)
class NoTests:
    """A repository where QA found nothing to run; it is reported, never taken as a pass."""

    __test__ = False
    reason: str
    verdict: TestVerdict = "not run"

    def line(self) -> str:
        return describe_tests(self.to_json())

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "before": None,
            "after": None,
            "newlyFailing": [],
            "stillFailing": [],
            "fixed": [],
            "unfixed": [],
            "verdict": self.verdict,
            "changed": [],
            "environment": [],
            "reason": self.reason,
        }
        document["line"] = describe_tests(document)
        return document

    def summary(self) -> str:
        return no_tests_markdown(self.reason)


def describe_tests(document: dict[str, Any]) -> str:
    """The terminal line for a `tests` document (see `ChangeReport.to_json`), e.g.
    `tests: 1 failed before → 1 passed after (src/sample/simple.py)`, or `tests: 1 failed,
    2 passed` for a new project; when the change is not a pass it names the tests to blame."""
    if "reason" in document:
        return f"tests: not run — {document['reason']}"
    if document["before"] is None:
        return f"tests: {_side(document['after'])}"
    line = f"tests: {_side(document['before'])} before → {_side(document['after'])} after"
    changed = document.get("changed") or []
    if changed:
        line += f" ({_listed(changed)})"
    for key, label in (("newlyFailing", "newly failing"), ("unfixed", "still failing")):
        if document.get(key):
            line += f"; {label}: {_listed(document[key])}"
    return line


def _listed(names: list[str], at_most: int = 3) -> str:
    more = f" and {len(names) - at_most} more" if len(names) > at_most else ""
    return ", ".join(names[:at_most]) + more


def _side(side: dict[str, Any]) -> str:
    if side["timedOut"]:
        return "timed out"
    if side["passed"] is None:
        # a runner whose output gives no counts: what it names, else its exit code
        if side["failed"]:
            return f"{side['failed']} failed"
        return "passed" if side["exitCode"] == 0 else f"failed (exit code {side['exitCode']})"
    counts = ((side["failed"], "failed"), (side["errors"], "errors"), (side["passed"], "passed"))
    return ", ".join(f"{count} {label}" for count, label in counts if count) or "no tests"
