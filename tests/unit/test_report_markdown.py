"""The Markdown of a test report: a new project's whole output, a repository's comparison."""

from __future__ import annotations

from agents.execution.test_command import TestCommand
from agents.execution.test_report import ChangeReport, NoTests, TestOutcome, packages_not_run

COMMAND = TestCommand(argv=["make", "test"], kind="custom")


def _outcome(exit_code: int | None, *names: str, output: str = "") -> TestOutcome:
    return TestOutcome(
        passed=exit_code == 0,
        exit_code=exit_code,
        timed_out=exit_code is None,
        failed_tests=frozenset(names),
        output=output,
        containment="bubblewrap",
        sandbox_notes=("first note", "second note"),
    )


def test_a_new_project_report_shows_the_sandbox_and_the_whole_output() -> None:
    report = ChangeReport(COMMAND, None, _outcome(1, "t", output="\n  boom\n"))
    assert report.summary() == (
        "# Test report\n\n**Result:** failed (exit code 1)\n\n**Sandbox:** bubblewrap\n\n"
        "- first note\n- second note\n\n```\nboom\n```\n"
    )


def test_a_report_of_packages_that_could_not_be_installed_has_no_sandbox() -> None:
    report = ChangeReport(COMMAND, None, packages_not_run(["nope"], [], "pip said no"))
    assert report.summary() == (
        "# Test report\n\n**Result:** not run: these packages could not be installed: nope\n\n"
        "```\npip said no\n```\n"
    )


def test_a_repository_report_lists_what_broke_and_what_failed_before() -> None:
    before = _outcome(1, *(f"old{i:02}" for i in range(22)))
    report = ChangeReport(COMMAND, before, _outcome(1, "new", *before.failed_tests))
    summary = report.summary()
    assert summary.startswith("### Repository tests\n\nCommand: `make test`\n\n")
    assert "- Sandbox: bubblewrap. first note second note\n" in summary
    verdict = "**Verdict:** not OK: the change breaks 1 test.\n\n#### Broken by the change\n"
    assert verdict in summary
    assert "- `new`\n" in summary
    assert "- `old19`\n- … and 2 more\n" in summary
    assert "End of the output" not in summary


def test_an_output_with_backticks_gets_a_longer_fence() -> None:
    report = ChangeReport(COMMAND, _outcome(0), _outcome(2, output="a ```` b\n"))
    summary = report.summary()
    assert summary.endswith("#### End of the output with the change\n`````\na ```` b\n`````\n")


def test_a_repository_without_a_test_command_says_so() -> None:
    summary = NoTests("nothing to run").summary()
    assert summary == "### Repository tests\n\n**Verdict:** not run: nothing to run.\n"
