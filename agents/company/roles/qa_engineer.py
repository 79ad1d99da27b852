"""The QA Engineer: writes tests, runs them in a sandbox, and routes failures.

A code bug goes back to the Engineer as "Debug logs" for the files at fault; a wrong test is
rewritten here. Test runs are bounded by `max_test_rounds` over the whole run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

import prompts
from agents.company.actions.debug_error import BugReport, DebugError, FileFix
from agents.company.actions.report_bug import BugFeedback
from agents.company.actions.write_code import CodeChange, WriteCode
from agents.company.actions.write_regression_test import WriteRegressionTest, regression_test_path
from agents.company.actions.write_test import WriteTest, test_path_for
from agents.company.documents import TaskList
from agents.company.repository_change import LEGACY_CODE_BUDGET
from agents.company.roles.company_role import CompanyRole
from agents.company.roles.engineer import Engineer
from agents.edits.paths import TEST_REPORT_PATH, UnsafePathError, proposal_path
from agents.execution.probe import Containment
from agents.execution.resource_limits import SandboxLimits
from agents.execution.test_command import TestCommand
from agents.execution.test_report import ChangeReport, NoTests
from agents.execution.test_runner import run_project_tests, run_repository_tests
from agents.execution.test_setup import prepare_test_setup
from agents.framework.message import Message
from agents.framework.scheduling import run_all
from repo_index.outline import outline

REPORT_PATH = TEST_REPORT_PATH
# The step progress events name a test run by, as users see it: `✓ QaEngineer · RunTests`.
RUN_TESTS = "RunTests"
_REGRESSION_FEEDBACK = "qa/regression_feedback.md"

# What one round's report leads to: another round, one last round, the end, or a bug report.
Next = Literal["again", "last", "stop"] | BugReport


class QaEngineer(CompanyRole):
    profile = "QA Engineer"
    prompt_folder = "qa"

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
        self._feedback = ""  # what the last round said about QA's own tests, for their rewrite
        self.report: ChangeReport | None = None
        self._write_test = WriteTest()
        self._debug = DebugError()

    async def react(self) -> Message | None:
        changes = [m.payload for m in self.news if isinstance(m.payload, CodeChange)]
        if not changes:
            return None
        root = self.workspace.root
        if root is None:
            return await self._test_new_project(changes[-1])
        command = self.workspace.test_command()
        if command is None:
            return self._no_tests()
        change = changes[-1]
        self._feedback = ""
        return await self._qa_loop(
            lambda: self._repository_round(root, command, change),
            partial(self._blame_change, root, change, command),
        )

    async def _qa_loop(
        self,
        run: Callable[[], Awaitable[ChangeReport]],
        blame: Callable[[ChangeReport, bool], Awaitable[Next]],
    ) -> Message | None:
        """Run the tests, bounded by `max_test_rounds` over the whole run, until `blame` says
        the report is final or names the files to fix."""
        while True:
            report = await self._round(run)
            step = await blame(report, self.rounds_used < self.max_test_rounds)
            if isinstance(step, BugReport):
                return self._send_bug_report(step)
            if step == "last":
                report = await self._round(run)
            if step != "again":
                return self._finish(report)

    async def _round(self, run: Callable[[], Awaitable[ChangeReport]]) -> ChangeReport:
        """One counted run of the tests, announced as the RunTests step."""
        self.rounds_used += 1
        self.context.emit(self.name, RUN_TESTS, "started", done=self.rounds_used - 1)
        report = await run()
        self.report = report
        self.context.test_verdict = report.verdict
        self.context.test_report = report
        weaker = _weaker(report.after.containment)
        if report.before is None:
            detail = f"tests {report.verdict}{weaker}"
            self.context.emit(self.name, RUN_TESTS, "finished", detail=detail)
            return report
        # Only tests that ran and passed earn a tick; "not run" is no pass either.
        status = "finished" if report.verdict == "passed" else "failed"
        detail = f"{report.line()}{weaker}"
        self.context.emit(self.name, RUN_TESTS, status, detail=detail, tests=report.to_json())
        return report

    async def _test_new_project(self, change: CodeChange) -> Message | None:
        """QA's own tests of the new sources; a failure DebugError blames on the code goes back
        to the Engineer, one it blames on a test is rewritten here."""
        proposal = self.context.proposal
        sources = [p for p in change.files if p.endswith(".py") and not _is_test(p)]
        untested = [p for p in sources if proposal.text_of(test_path_for(p)) is None]
        await run_all(self._write_tests_for(p) for p in untested)
        requirements = self.context.documents.require(TaskList).required_packages
        if self.rounds_used >= self.max_test_rounds:
            return self._finish(self.report)

        async def run() -> ChangeReport:
            return await run_project_tests(proposal, requirements, limits=self.limits)

        async def blame(report: ChangeReport, rounds_left: bool) -> Next:
            if report.verdict != "failed" or not rounds_left:
                return "stop"
            return await self._diagnose(report, sources)

        return await self._qa_loop(run, blame)

    async def _diagnose(self, report: ChangeReport, sources: list[str]) -> Next:
        """DebugError decides: the code is at fault, or QA's tests are, and are rewritten."""
        proposal = self.context.proposal
        verdict = await self._debug.diagnose(
            self.action_context(),
            report.after.output.strip(),
            {p: proposal.text_of(p) or "" for p in sources},
            {
                t: text
                for p in sources
                if (text := proposal.text_of(t := test_path_for(p))) is not None
            },
        )
        if verdict.blame == "code":
            return BugReport(fixes=verdict.fixes)
        await run_all(
            self._write_tests_for(source, fix.debug_logs)
            for fix in verdict.fixes
            for source in sources
            if test_path_for(source) == fix.path
        )
        return "again"

    async def _blame_change(
        self,
        root: Path,
        change: CodeChange,
        command: TestCommand,
        report: ChangeReport,
        rounds_left: bool,
    ) -> Next:
        """In a repository the tests the change broke blame the changed files.

        With `reqa_file`, QA's own job is that file's tests, rewritten with the failures while
        rounds are left. A bug that no test shows gets a regression test first, kept in the
        proposal once it fails without the fix.
        """
        if report.verdict == "not run":
            return "stop"
        if self._regression is None and self._needs_regression_test(report, command):
            if not rounds_left:
                return "stop"
            await self._write_regression_test(root, change, "")
            return "again"
        if self._regression is not None and (problem := self._regression_problem(report)):
            if rounds_left:
                await self._write_regression_test(root, change, problem + report.summary())
                return "again"
            self._drop_regression_test()
            return "last"
        if report.verdict == "passed" or not rounds_left:
            return "stop"
        if self.reqa_file is not None:
            self._feedback = report.summary()
            return "again"
        if not change.files:
            return "stop"
        return BugReport(
            fixes=[FileFix(path=path, debug_logs=report.summary()) for path in change.files]
        )

    async def _repository_round(
        self, root: Path, command: TestCommand, change: CodeChange
    ) -> ChangeReport:
        """QA's own tests first (with `reqa_file`), then the environment (built once, then
        reused) and both runs."""
        if self.reqa_file is not None:
            await self._write_tests_for(self.reqa_file, self._feedback)
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
        return replace(report, must_pass=self._must_pass(report))

    def _no_tests(self) -> Message:
        """A repository with nothing to run: the run says so instead of passing."""
        report = NoTests("no test command was found (pytest, npm test, go test, cargo test)")
        self.context.test_verdict = report.verdict
        self.context.test_report = report
        tests = report.to_json()
        self.context.emit(self.name, RUN_TESTS, "failed", detail=report.line(), tests=tests)
        return self.announce(report.summary(), None)

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
            and report.before is not None
            and report.before.not_run_reason is None
            and not report.before.timed_out
            and not report.already_failing
        )

    def _regression_problem(self, report: ChangeReport) -> str:
        """Why the regression test cannot stay as it is, or "" when it shows the bug."""
        path = self._regression
        if path in report.after.failed_tests:
            return prompts.macro(_REGRESSION_FEEDBACK, "not_collected", path=path) + "\n\n"
        failing = report.already_failing
        if path not in failing and not any(test.startswith(f"{path}::") for test in failing):
            return prompts.macro(_REGRESSION_FEEDBACK, "passes_already", path=path) + "\n\n"
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
        """The fixes go to the Engineer; a new project's come from DebugError, a repository's
        from the tests its change broke."""
        content = report.model_dump_json(indent=2)
        if self.workspace.root is None:
            return self.announce(content, DebugError, payload=report, send_to=[Engineer])
        return self.announce(content, None, payload=report, send_to=[Engineer])

    def _finish(self, report: ChangeReport | None) -> Message | None:
        """QA's last word on the tests; a new project keeps the report among its documents."""
        if report is None:
            return None
        summary = report.summary()
        if report.before is None:
            self.context.proposal.put(REPORT_PATH, summary, role=self.name)
        return self.announce(summary, None)


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
