"""A repository's own tests run before and after a change, in real sandboxed subprocesses."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from file_tree import write_tree

from agents.edits.proposal import Proposal
from agents.errors import ConfigError
from agents.execution.resource_limits import SandboxLimits
from agents.execution.test_command import (
    InvalidTestCommandError,
    TestCommand,
    TestKind,
    detect_test_command,
    run_argv,
)
from agents.execution.test_report import ChangeReport, TestOutcome
from agents.execution.test_results import parse_failed_tests
from agents.execution.test_runner import run_repository_tests
from agents.execution.test_setup import TestSetup

PY = Path(sys.executable)
NPM_PLACEHOLDER = 'echo "Error: no test specified" && exit 1'


def _proposal(root: Path, files: dict[str, str]) -> Proposal:
    proposal = Proposal()
    for relative, text in files.items():
        existing = root / relative
        proposal.put(relative, text, before=existing.read_text() if existing.exists() else None)
    return proposal


# --- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        ({"pytest.ini": "[pytest]\n"}, "pytest"),
        ({"conftest.py": ""}, "pytest"),
        ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, "pytest"),
        ({"setup.cfg": "[metadata]\nname = x\n\n[tool:pytest]\n"}, "pytest"),
        ({"tests/test_thing.py": "def test_x(): pass\n"}, "pytest"),
        ({"test/unit/thing_test.py": "def test_x(): pass\n"}, "pytest"),
        ({"package.json": json.dumps({"scripts": {"test": "node --test"}})}, "npm"),
        ({"go.mod": "module example.com/x\n\ngo 1.21\n"}, "go"),
        ({"Cargo.toml": '[package]\nname = "x"\n'}, "cargo"),
        ({}, None),
        ({"pyproject.toml": "[project]\nname = 'x'\n", "tests/helpers.py": ""}, None),
        ({"setup.cfg": "[metadata]\nname = x\n"}, None),
        ({"test/add.test.js": "", "README.md": "# x\n"}, None),
        ({"package.json": json.dumps({"scripts": {"test": NPM_PLACEHOLDER}})}, None),
        ({"package.json": json.dumps({"name": "x"})}, None),
        ({"package.json": "{not json"}, None),
    ],
)
def test_detection(tmp_path: Path, files: dict[str, str], kind: str | None) -> None:
    command = detect_test_command(write_tree(tmp_path, files))
    assert (command.kind if command else None) == kind


def test_detected_commands(tmp_path: Path) -> None:
    py_repo = write_tree(tmp_path / "py", {"pytest.ini": "[pytest]\n"})
    assert detect_test_command(py_repo) == TestCommand(
        argv=[sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], kind="pytest"
    )
    venv_python = Path("/somewhere/.venv/bin/python")
    assert detect_test_command(py_repo, python=venv_python).argv[0] == str(venv_python)
    npm_repo = write_tree(tmp_path / "js", {"package.json": '{"scripts": {"test": "mocha"}}'})
    assert detect_test_command(npm_repo).argv == ["npm", "test", "--silent"]
    go_repo = write_tree(tmp_path / "go", {"go.mod": "module x\n"})
    assert detect_test_command(go_repo).argv == ["go", "test", "./..."]
    rust_repo = write_tree(tmp_path / "rs", {"Cargo.toml": ""})
    assert detect_test_command(rust_repo).argv == ["cargo", "test"]


def test_override_wins(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path, {"pytest.ini": "[pytest]\n", "package.json": '{"scripts":{"test":"x"}}'}
    )
    command = detect_test_command(root, "make test ARGS='-k \"not slow\"'")
    assert command == TestCommand(argv=["make", "test", 'ARGS=-k "not slow"'], kind="custom")
    assert detect_test_command(root, "   ").kind == "pytest"
    with pytest.raises(InvalidTestCommandError, match="quoting") as caught:
        detect_test_command(root, "pytest 'unclosed")
    assert isinstance(caught.value, ConfigError)


def test_pytest_is_asked_for_its_failure_summary() -> None:
    pytest_command = TestCommand(argv=["python", "-m", "pytest", "-q"], kind="pytest")
    assert run_argv(pytest_command) == ["python", "-m", "pytest", "-q", "-rfE"]
    chosen = TestCommand(argv=["python", "-m", "pytest", "-ra"], kind="pytest")
    assert run_argv(chosen) == chosen.argv
    custom = TestCommand(argv=["make", "test"], kind="custom")
    assert run_argv(custom) == ["make", "test"]


# --- parsing -----------------------------------------------------------------------------------

PYTEST_OUTPUT = """\
F.E
=================================== FAILURES ===================================
___________________________________ test_one ___________________________________
    def test_one():
        print("FAILED tests/fake.py::not_a_test - printed by the test")
>       assert False
----------------------------- Captured stdout call -----------------------------
FAILED tests/fake.py::not_a_test - printed by the test
=========================== short test summary info ============================
FAILED tests/test_a.py::test_one - assert False
FAILED tests/test_a.py::test_param[a b - c] - AssertionError
ERROR tests/test_a.py::test_fixture - RuntimeError: boom
ERROR tests/test_broken.py
1 failed, 1 passed, 1 error in 0.03s
"""

GO_OUTPUT = """\
=== RUN   TestAdd
--- FAIL: TestAdd (0.00s)
    add_test.go:9: got 3
=== RUN   TestTable
    --- FAIL: TestTable/negative_numbers (0.00s)
--- FAIL: TestTable (0.00s)
--- PASS: TestSub (0.00s)
FAIL
FAIL\texample.com/calc\t0.002s
"""

CARGO_OUTPUT = """\
running 3 tests
test tests::adds ... ok
test tests::broken ... FAILED
test src/lib.rs - add (line 3) ... FAILED

failures:
    tests::broken

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out
"""

NODE_OUTPUT = """\
TAP version 13
not ok 1 - subtracts numbers
    not ok 1 - inner \\# fails
not ok 2 - not finished # TODO
ok 3 - adds
✖ spec failure (1.174019ms)
✖ failing tests:
✖ spec failure (1.174019ms)
✔ spec pass (0.1ms)
"""


@pytest.mark.parametrize(
    ("kind", "output", "expected"),
    [
        (
            "pytest",
            PYTEST_OUTPUT,
            {
                "tests/test_a.py::test_one",
                "tests/test_a.py::test_param[a b - c]",
                "tests/test_a.py::test_fixture",
                "tests/test_broken.py",
            },
        ),
        ("pytest", "F\nFAILED tests/x.py::test_y\n", set()),
        ("go", GO_OUTPUT, {"TestAdd", "TestTable", "TestTable/negative_numbers"}),
        ("cargo", CARGO_OUTPUT, {"tests::broken", "src/lib.rs - add (line 3)"}),
        ("npm", NODE_OUTPUT, {"subtracts numbers", "inner # fails", "spec failure"}),
        (
            "custom",
            GO_OUTPUT + CARGO_OUTPUT,
            {"TestAdd", "TestTable", "TestTable/negative_numbers"}
            | {"tests::broken", "src/lib.rs - add (line 3)"},
        ),
    ],
)
def test_failure_names(kind: TestKind, output: str, expected: set[str]) -> None:
    assert parse_failed_tests(output, kind) == expected


# --- the verdict -------------------------------------------------------------------------------

COMMAND = TestCommand(argv=["make", "test"], kind="custom")


def _run(exit_code: int | None, *names: str) -> TestOutcome:
    return TestOutcome(
        passed=exit_code == 0,
        exit_code=exit_code,
        timed_out=exit_code is None,
        failed_tests=frozenset(names),
        output="make: *** [test] Error 2\n" if exit_code else "",
    )


@pytest.mark.parametrize(
    ("before", "after", "ok"),
    [
        (_run(0), _run(0), True),
        (_run(1, "a"), _run(1, "a"), True),
        (_run(1, "a"), _run(0), True),
        (_run(0), _run(1, "a"), False),
        (_run(1, "a"), _run(1, "a", "b"), False),
        (_run(None), _run(0), True),
        (_run(0), _run(None), False),
        (_run(2), _run(2), True),
        (_run(0), _run(2), False),
        (_run(1), _run(2), False),
        (_run(1, "a"), _run(2), False),
        (_run(None), _run(2), False),
    ],
)
def test_verdict(before: TestOutcome, after: TestOutcome, ok: bool) -> None:
    report = ChangeReport(command=COMMAND, before=before, after=after)
    assert report.ok is ok
    assert report.summary().count("**Verdict:** OK") == (1 if ok else 0)


def test_summary_without_names_shows_the_output() -> None:
    report = ChangeReport(command=COMMAND, before=_run(0), after=_run(2))
    summary = report.summary()
    assert "make: *** [test] Error 2" in summary
    assert "failed (exit code 2)" in summary


# --- real runs ---------------------------------------------------------------------------------

CALC = """\
def add(a, b):
    return a + b


def half(n):
    return n // 2
"""

TEST_CALC = """\
from pkg.calc import add, half


def test_add():
    assert add(2, 3) == 5


def test_known_bug():
    assert half(3) == 1.5
"""


@pytest.fixture
def py_repo(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "calc_project",
        {"pkg/__init__.py": "", "pkg/calc.py": CALC, "tests/test_calc.py": TEST_CALC},
    )


async def test_already_failing_test_is_not_blamed(py_repo: Path) -> None:
    command = detect_test_command(py_repo)
    assert command is not None
    proposal = _proposal(
        py_repo,
        {
            "pkg/calc.py": CALC + "\n\ndef mul(a, b):\n    return a * b\n",
            "tests/test_mul.py": "from pkg.calc import mul\n\n\ndef test_mul():\n"
            "    assert mul(2, 3) == 6\n",
        },
    )
    report = await run_repository_tests(py_repo, proposal, command, setup=TestSetup(python=PY))
    assert report.already_failing == {"tests/test_calc.py::test_known_bug"}
    assert report.broken_by_change == set()
    assert report.ok
    assert not report.before.passed
    assert not report.after.passed
    assert "2 passed" in report.after.output
    assert "1 passed" in report.before.output
    assert not (py_repo / "tests" / "test_mul.py").exists()
    summary = report.summary()
    assert "Failing before the change (not caused by it)" in summary
    assert "`tests/test_calc.py::test_known_bug`" in summary
    assert "Broken by the change" not in summary


async def test_breaking_change_is_reported_apart(py_repo: Path) -> None:
    command = detect_test_command(py_repo)
    assert command is not None
    proposal = _proposal(py_repo, {"pkg/calc.py": CALC.replace("a + b", "a - b")})
    report = await run_repository_tests(py_repo, proposal, command, setup=TestSetup(python=PY))
    assert report.broken_by_change == {"tests/test_calc.py::test_add"}
    assert report.already_failing == {"tests/test_calc.py::test_known_bug"}
    assert not report.ok
    summary = report.summary()
    broken = summary.index("#### Broken by the change")
    before = summary.index("#### Failing before the change (not caused by it)")
    assert summary.index("`tests/test_calc.py::test_add`") in range(broken, before)
    assert summary.index("`tests/test_calc.py::test_known_bug`") > before
    assert "breaks 1 test." in summary
    assert "-rfE" in summary
    assert "a - b" not in (py_repo / "pkg" / "calc.py").read_text()


async def test_import_error_names_the_test_file(py_repo: Path) -> None:
    command = detect_test_command(py_repo)
    assert command is not None
    proposal = _proposal(py_repo, {"pkg/calc.py": "def add(a, b:\n"})
    report = await run_repository_tests(py_repo, proposal, command, setup=TestSetup(python=PY))
    assert report.broken_by_change == {"tests/test_calc.py"}
    assert not report.ok


PACKAGE_JSON = json.dumps({"name": "adder", "version": "1.0.0", "scripts": {"test": "node --test"}})
ADD_JS = "exports.add = (a, b) => a + b;\n"
ADD_TEST_JS = """\
const test = require('node:test');
const assert = require('node:assert');
const { add } = require('../add.js');

test('adds numbers', () => {
  assert.strictEqual(add(1, 2), 3);
});

test('adds negatives', () => {
  assert.strictEqual(add(-1, -2), -3);
});
"""


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
async def test_node_test_failure_is_named(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "adder",
        {"package.json": PACKAGE_JSON, "add.js": ADD_JS, "test/add.test.js": ADD_TEST_JS},
    )
    command = detect_test_command(root)
    assert command is not None
    assert command.kind == "npm"
    proposal = _proposal(root, {"add.js": "exports.add = (a, b) => a + Math.abs(b);\n"})
    report = await run_repository_tests(root, proposal, command, limits=SandboxLimits(timeout=60))
    assert report.before.passed, report.before.output
    assert report.after.failed_tests == {"adds negatives"}
    assert report.broken_by_change == {"adds negatives"}
    assert not report.ok


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_crashing_node_file_is_named_the_same_in_both_copies(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "crashy",
        {"test/crash.test.js": "throw new Error('boom');\n", "test/ok.test.js": ""},
    )
    command = TestCommand(argv=["node", "--test"], kind="custom")
    proposal = _proposal(root, {"test/ok.test.js": "// still empty\n"})
    report = await run_repository_tests(root, proposal, command)
    assert report.before.failed_tests == {"test/crash.test.js"}
    assert report.already_failing == {"test/crash.test.js"}
    assert report.broken_by_change == set()
    assert report.ok


GO_TEST = """\
package calc

import "testing"

func TestAdd(t *testing.T) {
\tif Add(1, 2) != 3 {
\t\tt.Fatal("1 + 2 is not 3")
\t}
}
"""


@pytest.mark.skipif(shutil.which("go") is None, reason="the Go toolchain is not installed")
async def test_go_failure_is_named(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "calc",
        {
            "go.mod": "module example.com/calc\n\ngo 1.21\n",
            "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
            "calc_test.go": GO_TEST,
        },
    )
    command = detect_test_command(root)
    assert command is not None
    proposal = _proposal(root, {"calc.go": "package calc\n\nfunc Add(a, b int) int { return a }\n"})
    report = await run_repository_tests(root, proposal, command, limits=SandboxLimits(timeout=240))
    assert report.before.passed, report.before.output
    assert report.broken_by_change == {"TestAdd"}
    assert not report.ok


LIB_RS = """\
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(1, 2), 3);
    }

    #[test]
    fn known_bug() {
        assert_eq!(add(i32::MAX, 0), 0);
    }
}
"""


@pytest.mark.skipif(shutil.which("cargo") is None, reason="the Rust toolchain is not installed")
async def test_cargo_failure_is_named(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "adder",
        {
            "Cargo.toml": '[package]\nname = "adder"\nversion = "0.1.0"\nedition = "2021"\n',
            "src/lib.rs": LIB_RS,
        },
    )
    command = detect_test_command(root)
    assert command is not None
    proposal = _proposal(root, {"src/lib.rs": LIB_RS.replace("    a + b\n", "    a * b\n")})
    report = await run_repository_tests(root, proposal, command, limits=SandboxLimits(timeout=240))
    assert report.already_failing == {"tests::known_bug"}, report.before.output
    assert report.broken_by_change == {"tests::adds"}
    assert not report.ok


async def test_hanging_command_times_out(py_repo: Path) -> None:
    command = detect_test_command(py_repo, 'python -c "import time; time.sleep(60)"')
    assert command is not None
    report = await run_repository_tests(
        py_repo, Proposal(), command, limits=SandboxLimits(timeout=2), setup=TestSetup(python=PY)
    )
    assert report.after.timed_out
    assert report.after.exit_code is None
    assert not report.ok
    assert "did not finish in time" in report.summary()
