"""Per-test outcomes before and after a change, from pytest's JUnit XML, in real sandboxed runs."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from file_tree import write_tree

from agents.edits.proposal import Proposal
from agents.execution.test_command import detect_test_command
from agents.execution.test_report import ChangeReport
from agents.execution.test_results import JunitXmlError, parse_junit_xml
from agents.execution.test_runner import run_repository_tests
from agents.execution.test_setup import TestSetup

PY = Path(sys.executable)

SIMPLE = "def add_one(n):\n    return n + 2\n"
TEST_SIMPLE = "from simple import add_one\n\n\ndef test_add_one():\n    assert add_one(5) == 6\n"
REPORTED = "tests/test_simple.py::test_add_one"


async def _run(root: Path, changes: dict[str, str]) -> ChangeReport:
    command = detect_test_command(root, python=PY)
    assert command is not None
    proposal = Proposal()
    for relative, text in changes.items():
        proposal.put(relative, text, before=(root / relative).read_text())
    report = await run_repository_tests(root, proposal, command, setup=TestSetup(python=PY))
    return replace(report, must_pass=report.already_failing & {REPORTED})


@pytest.fixture
def flat_repo(tmp_path: Path) -> Path:
    files = {"pytest.ini": "[pytest]\n", "simple.py": SIMPLE, "tests/test_simple.py": TEST_SIMPLE}
    return write_tree(tmp_path / "flat", files)


async def test_a_fix_turns_the_failing_test_into_a_passing_one(flat_repo: Path) -> None:
    report = await _run(flat_repo, {"simple.py": SIMPLE.replace("n + 2", "n + 1")})
    assert report.line() == "tests: 1 failed before → 1 passed after"
    assert report.fixed == {REPORTED}
    assert report.verdict == "passed"
    document = report.to_json()
    counts = ("passed", "failed", "errors")
    assert [document["before"][key] for key in counts] == [0, 1, 0]
    assert [document["after"][key] for key in counts] == [1, 0, 0]
    assert document["newlyFailing"] == document["stillFailing"] == []
    assert document["fixed"] == [REPORTED]


async def test_a_non_fix_leaves_the_test_failing_and_does_not_pass(flat_repo: Path) -> None:
    report = await _run(flat_repo, {"simple.py": "# add_one is fixed now\n" + SIMPLE})
    assert report.line() == f"tests: 1 failed before → 1 failed after; still failing: {REPORTED}"
    assert report.still_failing == {REPORTED}
    assert report.fixed == set()
    assert report.verdict == "failed"
    assert f"these tests still fail: {REPORTED}" in report.summary()


async def test_tests_that_cannot_import_the_package_did_not_run(tmp_path: Path) -> None:
    package = "src/sample/simple.py"
    root = write_tree(
        tmp_path / "src_layout",
        {
            "pyproject.toml": "[project]\nname = 'sample'\nversion = '0'\n\n"
            "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
            "src/sample/__init__.py": "",
            package: SIMPLE,
            "tests/test_simple.py": TEST_SIMPLE.replace("from simple", "from sample.simple"),
        },
    )
    report = await _run(root, {package: SIMPLE.replace("n + 2", "n + 1")})
    assert report.verdict == "not run"
    assert not report.ok
    assert report.line() == (
        "tests: not run — tests/test_simple.py cannot be collected: "
        "ModuleNotFoundError: No module named 'sample'"
    )
    assert report.to_json()["reason"] == report.not_run_reason
    assert "**Verdict:** not run" in report.summary()


def test_junit_xml_with_an_entity_bomb_is_refused_at_once() -> None:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "boom"}">' for i in range(12))
    bomb = f'<?xml version="1.0"?><!DOCTYPE t [{entities}]><testsuites>&e11;</testsuites>'
    started = time.monotonic()
    with pytest.raises(JunitXmlError, match="DOCTYPE"):
        parse_junit_xml(bomb.encode("utf-16"))
    assert time.monotonic() - started < 1


def test_junit_xml_names_tests_as_pytest_does() -> None:
    xml = (
        '<testsuites><testsuite><testcase classname="tests.test_a.TestA" name="test_x" '
        'file="tests/test_a.py"><failure message="no"/></testcase>'
        '<testcase classname="tests.test_a" name="test_p[1]" file="tests/test_a.py"/>'
        '<testcase classname="" name="tests.test_b" file="tests/test_b.py">'
        "<error>E   ImportError: nope</error></testcase></testsuite></testsuites>"
    )
    results = parse_junit_xml(xml.encode())
    assert results.failed == {"tests/test_a.py::TestA::test_x"}
    assert results.passed == {"tests/test_a.py::test_p[1]"}
    assert results.uncollected == results.errors == {"tests/test_b.py"}
    assert results.collection_error == "tests/test_b.py cannot be collected: ImportError: nope"
