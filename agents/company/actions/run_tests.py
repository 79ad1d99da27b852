"""RunTests: the proposal's tests in a sandboxed copy, with the project's own environment."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents.edits.proposal import Proposal
from agents.execution.project_env import ensure_project_env
from agents.execution.sandbox import Containment, SandboxLimits, run_on_copy
from agents.execution.test_runner import JUNIT_FILE, JunitReader, JunitResults, TestCounts
from agents.framework.action import Action, ActionContext, ActionOutput
from agents.framework.context import TestVerdict


class TestReport(BaseModel):
    """What a test run showed; `missing_packages` and `refused_packages` mean the code was
    not to blame. `containment` is None when no test ran. `counts` and `failing_tests` come
    from pytest's JUnit XML, and are unknown when it wrote none that could be read."""

    __test__ = False  # not a pytest class

    passed: bool
    exit_code: int | None
    timed_out: bool = False
    network_isolated: bool = False
    containment: Containment | None = None
    sandbox_notes: list[str] = Field(default_factory=list)
    missing_packages: list[str] = Field(default_factory=list)
    refused_packages: list[str] = Field(default_factory=list)
    counts: TestCounts | None = None
    failing_tests: list[str] = Field(default_factory=list)
    output: str = ""

    @property
    def not_run(self) -> bool:
        """True when the tests could not run because of the requirements, not the code."""
        return bool(self.missing_packages or self.refused_packages)

    @property
    def verdict(self) -> TestVerdict:
        """QA's word on the run; "not run" is no pass, and no failure of the code either."""
        if self.not_run:
            return "not run"
        if self.timed_out:
            return "timed out"
        return "passed" if self.passed else "failed"

    @property
    def not_run_reason(self) -> str | None:
        """Why no test ran, in words for the terminal line and the report."""
        if self.refused_packages:
            return (
                "these requirements were refused, as only plain package names with versions "
                "are installed: " + ", ".join(self.refused_packages)
            )
        if self.missing_packages:
            return "these packages could not be installed: " + ", ".join(self.missing_packages)
        return None

    def line(self) -> str:
        """One line for the terminal, e.g. `tests: 1 failed, 2 passed`."""
        reason = self.not_run_reason
        if reason is not None:
            return f"tests: not run — {reason}"
        if self.timed_out:
            return "tests: timed out"
        counts = self.counts
        if counts is None:
            return "tests: passed" if self.passed else f"tests: failed (exit code {self.exit_code})"
        parts = ((counts.failed, "failed"), (counts.errors, "errors"), (counts.passed, "passed"))
        return "tests: " + (", ".join(f"{n} {label}" for n, label in parts if n) or "no tests")

    def to_json(self) -> dict[str, Any]:
        """The same shape as a repository's `ChangeReport.to_json`; a new project has no
        "before", so its failing tests are all newly failing."""
        counts = self.counts
        document: dict[str, Any] = {
            "before": None,
            "after": {
                "passed": counts.passed if counts else None,
                "failed": counts.failed if counts else len(self.failing_tests),
                "errors": counts.errors if counts else None,
                "exitCode": self.exit_code,
                "timedOut": self.timed_out,
            },
            "newlyFailing": list(self.failing_tests),
            "stillFailing": [],
            "fixed": [],
            "verdict": self.verdict,
            "line": self.line(),
        }
        if self.not_run_reason is not None:
            document["reason"] = self.not_run_reason
        return document

    def summary(self) -> str:
        """The run folder's `test_report.md`: the same text as the project's report."""
        return self.to_markdown() + "\n"

    def to_markdown(self) -> str:
        reason = self.not_run_reason
        if reason is not None:
            verdict = f"not run: {reason}"
        elif self.timed_out:
            verdict = "stopped at the time limit"
        else:
            verdict = "passed" if self.passed else f"failed (exit code {self.exit_code})"
        sandbox = ""
        if self.containment is not None:
            notes = "".join(f"- {note}\n" for note in self.sandbox_notes)
            sandbox = f"**Sandbox:** {self.containment}\n\n{notes}\n"
        return f"# Test report\n\n**Result:** {verdict}\n\n{sandbox}```\n{self.output}\n```"


class RunTests(Action):
    """Installs what the project needs, then runs pytest on the proposal in a sandbox."""

    description = "Run the project's tests in a sandbox."

    def __init__(self, limits: SandboxLimits, envs_root: Path | None = None) -> None:
        self.limits = limits
        self.envs_root = envs_root

    async def run(self, ctx: ActionContext) -> ActionOutput:
        raise TypeError("RunTests needs the proposal: call run_tests()")

    async def run_tests(
        self, proposal: Proposal, requirements: Sequence[str], base: Path | None = None
    ) -> TestReport:
        env = await ensure_project_env(requirements, root=self.envs_root)
        if env.missing or env.refused:
            return TestReport(
                passed=False,
                exit_code=None,
                missing_packages=env.missing,
                refused_packages=env.refused,
                output=env.log,
            )
        pytest = [str(env.python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        # xunit1 names each test's file, so the failing tests carry pytest's node ids.
        pytest += [f"--junitxml={JUNIT_FILE}", "-o", "junit_family=xunit1"]
        junit = JunitReader()
        copy = await run_on_copy(
            base, proposal, pytest, limits=self.limits, python=env.python, collect=junit
        )
        result = copy.result
        results = junit.results()
        per_test = results if isinstance(results, JunitResults) else None
        output = "\n".join(part for part in (result.stdout, result.stderr) if part.strip())
        if result.timed_out:
            output += f"\n[stopped: the tests ran longer than {self.limits.timeout:g}s]"
        return TestReport(
            passed=result.ok,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            network_isolated=result.network_isolated,
            containment=result.containment,
            sandbox_notes=list(result.notes),
            counts=per_test.counts if per_test else None,
            failing_tests=sorted(per_test.failed | per_test.errors) if per_test else [],
            output=output.strip(),
        )
