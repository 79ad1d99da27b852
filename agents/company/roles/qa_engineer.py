"""The QA Engineer: writes tests, runs them in a sandbox, and routes failures.

A code bug goes back to the Engineer as "Debug logs" for the files at fault; a wrong test is
rewritten here. Test runs are bounded by `max_test_rounds` over the whole run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from agents.company.actions.debug_error import BugReport, DebugError, FileFix
from agents.company.actions.report_bug import BugFeedback
from agents.company.actions.run_tests import RunTests, TestReport
from agents.company.actions.write_code import CodeChange, WriteCode
from agents.company.actions.write_regression_test import WriteRegressionTest, regression_test_path
from agents.company.actions.write_test import WriteTest, test_path_for
from agents.company.documents import TaskList
from agents.company.repository_change import LEGACY_CODE_BUDGET
from agents.company.roles.company_role import CompanyRole
from agents.company.roles.engineer import Engineer
from agents.edits.paths import TEST_REPORT_PATH, UnsafePathError, proposal_path
from agents.execution.sandbox import Containment, SandboxLimits
from agents.execution.test_runner import (
    ChangeReport,
    NoTests,
    TestCommand,
    prepare_test_setup,
    run_repository_tests,
)
from agents.framework.message import Message
from agents.framework.scheduling import run_all
from repo_index.outline import outline

REPORT_PATH = TEST_REPORT_PATH


class QaEngineer(CompanyRole):
    profile = "QA Engineer"
    goal = "Prove with tests that the code does what the design says."
    constraints = "Tests are deterministic and fast; blame the code only for real bugs."

    def __init__(
        self,
        *,
        max_test_rounds: int = 3,
        test_timeout: float = 60.0,
        memory_mb: int = 2048,
        reqa_file: str | None = None,
        envs_root: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(actions=[WriteTest, DebugError], watch=[WriteCode, BugFeedback], **kwargs)
        self.max_test_rounds = max_test_rounds
        self.limits = SandboxLimits(timeout=test_timeout, memory_mb=memory_mb)
        self.reqa_file = reqa_file
        self.envs_root = envs_root
        self.rounds_used = 0
        self._regression: str | None = None  # the bug's regression test, once written
        self.report: TestReport | None = None
        self._write_test = WriteTest()
        self._debug = DebugError()

    async def react(self) -> Message | None:
        changes = [m.payload for m in self.news if isinstance(m.payload, CodeChange)]
        if not changes:
            return None
        if self.workspace.root is not None:
            return await self._test_repository(self.workspace.root, changes[-1])
        proposal = self.context.proposal
        sources = [p for p in changes[-1].files if p.endswith(".py") and not _is_test(p)]
        untested = [p for p in sources if proposal.text_of(test_path_for(p)) is None]
        await run_all(self._write_tests_for(p) for p in untested)

        requirements = self.context.documents.require(TaskList).required_packages
        runner = RunTests(self.limits)
        if self.rounds_used >= self.max_test_rounds:
            return self._finish()
        while True:
            self.rounds_used += 1
            self.context.emit(self.name, runner.name, "started", done=self.rounds_used - 1)
            self.report = await runner.run_tests(proposal, requirements, None)
            self.context.test_verdict = self.report.verdict
            self.context.test_report = self.report
            detail = f"tests {self.report.verdict}{_weaker(self.report.containment)}"
            self.context.emit(self.name, runner.name, "finished", detail=detail)
            settled = self.report.passed or self.report.not_run or self.report.timed_out
            if settled or self.rounds_used >= self.max_test_rounds:
                break
            verdict = await self._debug.diagnose(
                self.action_context(),
                self.report.output,
                {p: proposal.text_of(p) or "" for p in sources},
                {
                    t: text
                    for p in sources
                    if (text := proposal.text_of(t := test_path_for(p))) is not None
                },
            )
            if verdict.blame == "code":
                return self._send_bug_report(BugReport(fixes=verdict.fixes))
            await run_all(
                self._write_tests_for(source, fix.debug_logs)
                for fix in verdict.fixes
                for source in sources
                if test_path_for(source) == fix.path
            )
        return self._finish()

    async def _test_repository(self, root: Path, change: CodeChange) -> Message | None:
        """Run the repository's own tests with the change; send what it broke back, bounded.

        With `reqa_file`, QA's own job is that file's tests: written (or rewritten) first, and
        rewritten again with the failures while rounds are left. A bug that no test shows gets
        a regression test first, kept in the proposal once it fails without the fix.
        """
        command = self.workspace.test_command()
        if command is None:
            return self._no_tests()
        feedback = ""
        while True:
            if self.reqa_file is not None:
                await self._write_tests_for(self.reqa_file, feedback)
            report = await self._run_repository_tests(root, command, change)
            if report.verdict == "not run":
                break
            rounds_left = self.rounds_used < self.max_test_rounds
            if self._regression is None and self._needs_regression_test(report, command):
                if not rounds_left:
                    break
                await self._write_regression_test(root, change, "")
                continue
            if self._regression is not None and (problem := self._regression_problem(report)):
                if rounds_left:
                    await self._write_regression_test(root, change, problem + report.summary())
                    continue
                self._drop_regression_test()
                report = await self._run_repository_tests(root, command, change)
                break
            if report.verdict == "passed" or not rounds_left:
                break
            if self.reqa_file is None:
                if not change.files:
                    break
                fixes = [FileFix(path=path, debug_logs=report.summary()) for path in change.files]
                return self._send_bug_report(BugReport(fixes=fixes))
            feedback = report.summary()
        return self.announce(report.summary(), RunTests)

    async def _run_repository_tests(
        self, root: Path, command: TestCommand, change: CodeChange
    ) -> ChangeReport:
        """One round: the environment (built once, then reused), both runs, QA's verdict."""
        self.rounds_used += 1
        self.context.emit(self.name, RunTests.name, "started", done=self.rounds_used - 1)
        proposal = self.context.proposal
        command, setup = await prepare_test_setup(root, proposal, command, envs_root=self.envs_root)
        baseline = proposal.subset([self._regression]) if self._regression else None
        report = await run_repository_tests(
            root,
            proposal,
            command,
            limits=self.limits,
            setup=setup,
            changed=[path for path in change.files if not _is_test(path)],
            baseline=baseline,
        )
        report = replace(report, must_pass=self._must_pass(report))
        self.context.test_verdict = report.verdict
        self.context.test_report = report
        detail = f"{report.line()}{_weaker(report.after.containment)}"
        # Only tests that ran and passed earn a tick; "not run" is no pass either.
        status = "finished" if report.verdict == "passed" else "failed"
        self.context.emit(self.name, RunTests.name, status, detail=detail, tests=report.to_json())
        return report

    def _no_tests(self) -> Message:
        """A repository with nothing to run: the run says so instead of passing."""
        report = NoTests("no test command was found (pytest, npm test, go test, cargo test)")
        self.context.test_verdict = report.verdict
        self.context.test_report = report
        tests = report.to_json()
        self.context.emit(self.name, RunTests.name, "failed", detail=report.line(), tests=tests)
        return self.announce(report.summary(), RunTests)

    def _bug_reports(self) -> list[BugFeedback]:
        return [m.payload for m in self.memory if isinstance(m.payload, BugFeedback)]

    def _must_pass(self, report: ChangeReport) -> frozenset[str]:
        """What a bug fix must make pass: the failing tests the bug report quotes, else every
        test failing before the change (a fix that leaves them failing fixed nothing)."""
        bugs = self._bug_reports()
        if not bugs:
            return frozenset()
        quoted = "\n".join(bug.test_output for bug in bugs)
        named = frozenset(test for test in report.already_failing if test in quoted)
        return named or report.already_failing

    def _needs_regression_test(self, report: ChangeReport, command: TestCommand) -> bool:
        """A bug no test shows: the tests ran, none failed before the change."""
        return (
            bool(self._bug_reports())
            and self.reqa_file is None
            and command.kind == "pytest"
            and report.before.not_run_reason is None
            and not report.before.timed_out
            and not report.already_failing
        )

    def _regression_problem(self, report: ChangeReport) -> str:
        """Why the regression test cannot stay as it is, or "" when it shows the bug."""
        path = self._regression
        if path in report.after.failed_tests:
            return f"`{path}` cannot be collected with the fix: fix its imports or syntax.\n\n"
        failing = report.before.failed_tests
        if path not in failing and not any(test.startswith(f"{path}::") for test in failing):
            return (
                f"`{path}` passes on the code as it is, so it does not show the reported bug: "
                "assert what the report expects.\n\n"
            )
        return ""

    async def _write_regression_test(self, root: Path, change: CodeChange, feedback: str) -> None:
        """Write (or rewrite) the bug's regression test from the report and the Legacy Code."""
        bug = self._bug_reports()[-1]
        folder = next((name for name in ("tests", "test") if (root / name).is_dir()), "tests")
        path = self._regression or regression_test_path(bug.description, folder)
        sources = {
            source: text
            for source in change.files
            if not _is_test(source) and (text := self.workspace.on_disk(source)) is not None
        }
        legacy = await self.workspace.legacy_code(
            bug.description, list(sources), LEGACY_CODE_BUDGET
        )
        self.context.emit(self.name, WriteRegressionTest.name, "started", path=path)
        text = await WriteRegressionTest().write(
            self.action_context(),
            bug=bug.description + (f"\n\n{bug.test_output}" if bug.test_output else ""),
            test_path=path,
            sources=sources,
            legacy_code=legacy,
            current_test=self.context.proposal.text_of(path) or "",
            feedback=feedback,
        )
        self.workspace.propose(path, text, role=self.name)
        self._regression = path
        self.context.emit(self.name, WriteRegressionTest.name, "finished", path=path)

    def _drop_regression_test(self) -> None:
        """A regression test that never showed the bug is not worth keeping."""
        if self._regression is not None:
            self.workspace.withdraw(self._regression, role=self.name)
            self._regression = None

    async def _write_tests_for(self, source_path: str, feedback: str = "") -> None:
        """Write (or rewrite) the tests of one source file, proposed or in the repository."""
        proposal = self.context.proposal
        test_path = test_path_for(source_path)
        try:
            proposal_path(test_path)
        except UnsafePathError as exc:
            self.context.emit(self.name, WriteTest.name, "failed", path=test_path, detail=str(exc))
            return
        source = self.workspace.read(source_path) or ""
        on_disk = self.workspace.on_disk(test_path)
        test = await self._write_test.write(
            self.action_context(),
            source_path=source_path,
            source=source,
            interfaces=outline(source_path, source),
            current_test=proposal.text_of(test_path) or on_disk or "",
            feedback=feedback,
        )
        proposal.put(test_path, test, role=self.name, before=on_disk)

    def _send_bug_report(self, report: BugReport) -> Message:
        return self.announce(
            report.model_dump_json(indent=2), DebugError, payload=report, send_to=[Engineer]
        )

    def _finish(self) -> Message | None:
        if self.report is None:
            return None
        self.context.proposal.put(REPORT_PATH, self.report.to_markdown() + "\n", role=self.name)
        return self.announce(self.report.to_markdown(), RunTests, payload=self.report)


def _weaker(containment: Containment | None) -> str:
    """What the progress line adds when the tests ran without bubblewrap's containment."""
    if containment in (None, "bubblewrap"):
        return ""
    return f" (sandbox: {containment} only, bubblewrap could not run)"


def _is_test(path: str) -> bool:
    """Test files by the usual conventions of pytest, node, Jest, Go and Rust."""
    name = Path(path).name
    return (
        path.startswith(("tests/", "test/", "__tests__/"))
        or name.startswith("test_")
        or name.endswith(("_test.py", "_test.go"))
        or any(marker in name for marker in (".test.", ".spec."))
    )
