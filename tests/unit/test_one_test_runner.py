"""The one test runner, in real sandboxed subprocesses on a tiny project: a new project's single
run and a repository's run before and after a change."""

from __future__ import annotations

import sys
from pathlib import Path

from file_tree import write_tree

from agents.edits.proposal import Proposal
from agents.execution.resource_limits import SandboxLimits
from agents.execution.test_command import TestCommand
from agents.execution.test_runner import Before, run_project_tests, run_tests
from agents.execution.test_setup import TestSetup

PY = Path(sys.executable)
PYTEST = TestCommand(argv=[str(PY), "-m", "pytest", "-q", "-p", "no:cacheprovider"], kind="pytest")
SETUP = TestSetup(python=PY)
CODE = "def double(n):\n    return n * 2\n"
TEST = "from code_under_test import double\n\n\ndef test_double():\n    assert double(2) == 4\n"


def _project(files: dict[str, str]) -> Proposal:
    proposal = Proposal()
    for path, text in files.items():
        proposal.put(path, text)
    return proposal


async def test_a_passing_new_project() -> None:
    proposal = _project({"code_under_test.py": CODE, "tests/test_double.py": TEST})
    report = await run_tests(None, proposal, PYTEST, setup=SETUP)
    assert report.before is None
    assert report.verdict == "passed", report.summary()
    assert report.after.counts is not None
    assert report.after.counts.passed == 1
    assert report.line() == "tests: 1 passed"
    assert report.to_json()["newlyFailing"] == []


async def test_a_failing_new_project_names_its_test() -> None:
    wrong = CODE.replace("n * 2", "n + 3")
    proposal = _project({"code_under_test.py": wrong, "tests/test_double.py": TEST})
    report = await run_tests(None, proposal, PYTEST, setup=SETUP)
    assert report.verdict == "failed"
    assert report.broken_by_change == {"tests/test_double.py::test_double"}
    assert "assert 5 == 4" in report.after.output
    assert "**Result:** failed (exit code 1)" in report.summary()


async def test_a_test_past_the_time_limit_is_stopped() -> None:
    sleeping = "import time\n\n\ndef test_sleep():\n    time.sleep(30)\n"
    proposal = _project({"tests/test_sleep.py": sleeping})
    limits = SandboxLimits(timeout=2.0)
    report = await run_tests(None, proposal, PYTEST, limits=limits, setup=SETUP)
    assert report.verdict == "timed out"
    assert report.after.exit_code is None
    assert "[stopped: the tests ran longer than 2s]" in report.summary()
    assert "stopped at the time limit" in report.summary()


async def test_refused_requirements_mean_no_test_ran(tmp_path: Path) -> None:
    proposal = _project({"tests/test_double.py": TEST})
    requirement = f"evil @ file://{tmp_path}"
    report = await run_project_tests(proposal, [requirement], envs_root=tmp_path / "envs")
    assert report.verdict == "not run"
    assert report.after.refused_packages == (requirement,)
    assert report.after.containment is None
    assert report.line().startswith("tests: not run — these requirements were refused")


async def test_a_repository_without_tests_to_collect_is_not_run(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {"pytest.ini": "[pytest]\n", "code_under_test.py": CODE})
    proposal = Proposal()
    proposal.put("code_under_test.py", CODE.replace("2", "3"), before=CODE)
    report = await run_tests(root, proposal, PYTEST, setup=SETUP, before=Before())
    assert report.before is not None
    assert report.verdict == "not run"
    assert report.not_run_reason == "pytest collected no tests"


async def test_a_repository_blames_only_what_the_change_broke(tmp_path: Path) -> None:
    failing = "def test_old():\n    assert False\n"
    files = {"code_under_test.py": CODE, "tests/test_double.py": TEST, "tests/test_old.py": failing}
    root = write_tree(tmp_path / "repo", files)
    proposal = Proposal()
    proposal.put("code_under_test.py", CODE.replace("n * 2", "n"), before=CODE)
    report = await run_tests(
        root, proposal, PYTEST, setup=SETUP, before=Before(), changed=["code_under_test.py"]
    )
    assert report.already_failing == {"tests/test_old.py::test_old"}
    assert report.broken_by_change == {"tests/test_double.py::test_double"}
    assert report.verdict == "failed"
    assert "#### Broken by the change" in report.summary()
