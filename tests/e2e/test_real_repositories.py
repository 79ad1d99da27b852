"""QA on repositories shaped like real ones: their tests run as their own CI would run them.

Each fixture is a small repository of a common shape with a planted bug, changed through the
real command line (`sopls startup --inc`) against the scripted endpoint, with real git, pip,
npm and bubblewrap.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from file_tree import commit_tree
from scripted_endpoint import ScriptedEndpoint
from test_startup import sopls

from agents.runs.run_state import RunOptions

BUG = "add_one(5) returns 7 but it must return 6"
SIMPLE = '"""Small arithmetic."""\n\n\ndef add_one(n):\n    return n + 2\n'
TEST_SIMPLE = "from {module} import add_one\n\n\ndef test_add_one():\n    assert add_one(5) == 6\n"
NODE_SIMPLE = "function addOne(n) {\n  return n + 2;\n}\n\nmodule.exports = { addOne };\n"
NODE_TEST = (
    'const test = require("node:test");\nconst assert = require("node:assert");\n'
    'const { addOne } = require("../index.js");\n\n'
    'test("addOne adds one", () => {\n  assert.strictEqual(addOne(5), 6);\n});\n'
)


def src_layout(root: Path) -> tuple[Path, str]:
    """An installed package: tests import `sample` only once the project is installed."""
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools>=61"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            '[project]\nname = "sample"\nversion = "0.1.0"\n\n'
            '[project.optional-dependencies]\ntest = ["pytest>=7", "iniconfig>=1"]\n\n'
            '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
        ),
        "src/sample/__init__.py": "",
        "src/sample/simple.py": SIMPLE,
        "tests/test_simple.py": TEST_SIMPLE.format(module="sample.simple"),
        ".gitignore": ".sopls/\n",
    }
    return commit_tree(root, files), "src/sample/simple.py"


def requirements_dev(root: Path) -> tuple[Path, str]:
    """A package whose tests need a package only its requirements-dev.txt names."""
    files = {
        "requirements-dev.txt": "# what the tests need\npytest>=7\nsix==1.16.0\n",
        "calc/__init__.py": "",
        "calc/simple.py": SIMPLE,
        "tests/test_simple.py": "import six\n\n"
        + TEST_SIMPLE.format(module="calc.simple")
        + "    assert six.PY3\n",
        ".gitignore": ".sopls/\n",
    }
    return commit_tree(root, files), "calc/simple.py"


def flat_module(root: Path) -> tuple[Path, str]:
    """A single module at the top with its pytest configuration in pytest.ini."""
    files = {
        "pytest.ini": "[pytest]\ntestpaths = tests\n",
        "simple.py": SIMPLE,
        "tests/test_simple.py": TEST_SIMPLE.format(module="simple"),
        ".gitignore": ".sopls/\n",
    }
    return commit_tree(root, files), "simple.py"


def node_package(root: Path) -> tuple[Path, str]:
    """A package.json whose `test` script runs node's own test runner."""
    package = {"name": "sample", "version": "1.0.0", "scripts": {"test": "node --test test/"}}
    files = {
        "package.json": json.dumps(package, indent=2) + "\n",
        "index.js": NODE_SIMPLE,
        "test/add.test.js": NODE_TEST,
        ".gitignore": ".sopls/\nnode_modules/\n",
    }
    return commit_tree(root, files), "index.js"


def _script(endpoint: ScriptedEndpoint, path: str, old: str, new: str) -> None:
    endpoint.on(schema="RequestKind").reply_json({"kind": "bug", "reason": "a wrong result"})
    plan = {
        "summary": "add_one adds two",
        "files": [{"path": path, "change": "modify", "what": "make add_one add one"}],
    }
    endpoint.on(schema="ChangePlan").reply_json(plan)
    edit = f"{path}\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"
    endpoint.on(contains=f"## The current version of {path}").reply_text(edit)


def _fix(endpoint: ScriptedEndpoint, path: str) -> None:
    if path.endswith(".js"):
        _script(endpoint, path, "  return n + 2;", "  return n + 1;")
    else:
        _script(endpoint, path, "    return n + 2", "    return n + 1")


def _non_fix(endpoint: ScriptedEndpoint, path: str) -> None:
    """An edit that changes nothing that matters: a comment above the function."""
    comment = "// addOne is fixed now" if path.endswith(".js") else "# add_one is fixed now"
    first = "function addOne(n) {" if path.endswith(".js") else "def add_one(n):"
    _script(endpoint, path, first, f"{comment}\n{first}")


def _run(endpoint: ScriptedEndpoint, repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return sopls(
        "startup",
        BUG,
        "--inc",
        "--project-path",
        str(repo),
        *extra,
        endpoint=endpoint,
        cwd=repo.parent,
        timeout=600,
    )


def _tests_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("tests: ")]
    assert lines, stderr
    return lines[-1]


SHAPES = {
    "src-layout": (src_layout, "tests/test_simple.py::test_add_one"),
    "requirements-dev": (requirements_dev, "tests/test_simple.py::test_add_one"),
    "flat-pytest-ini": (flat_module, "tests/test_simple.py::test_add_one"),
    "package-json": (node_package, "addOne adds one"),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_correct_fix_turns_the_failing_test_into_a_passing_one(
    endpoint: ScriptedEndpoint, tmp_path: Path, shape: str
) -> None:
    make, _ = SHAPES[shape]
    repo, path = make(tmp_path / "repo")
    _fix(endpoint, path)

    done = _run(endpoint, repo)

    assert done.returncode == 0, done.stderr
    assert _tests_line(done.stderr) == f"tests: 1 failed before → 1 passed after ({path})"
    assert "1 passed after" in done.stderr
    report = json.loads(next((repo / ".sopls" / "runs").glob("*/test_report.json")).read_text())
    assert report["verdict"] == "passed"
    assert "return n + 1" in (repo / path).read_text()


@pytest.mark.parametrize("shape", SHAPES)
def test_a_non_fix_goes_back_to_the_engineer_and_fails_naming_the_test(
    endpoint: ScriptedEndpoint, tmp_path: Path, shape: str
) -> None:
    make, failing = SHAPES[shape]
    repo, path = make(tmp_path / "repo")
    _non_fix(endpoint, path)

    done = _run(endpoint, repo)

    assert done.returncode == 1, done.stderr
    line = _tests_line(done.stderr)
    assert line.startswith("tests: 1 failed before → 1 failed after")
    assert f"still failing: {failing}" in line
    edits = [r for r in endpoint.chat_requests if f"current version of {path}" in str(r.body)]
    # the Engineer was asked again with QA's report after each round but the last
    assert len(edits) == RunOptions.model_fields["max_test_rounds"].default
    assert "Repository tests" in edits[-1].body["messages"][-1]["content"]


def test_tests_that_cannot_be_collected_are_not_run_and_earn_no_tick(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    files = {
        "pytest.ini": "[pytest]\n",
        "simple.py": SIMPLE,
        "tests/test_simple.py": "import not_a_module_anywhere\n",
        ".gitignore": ".sopls/\n",
    }
    repo = commit_tree(tmp_path / "repo", files)
    _fix(endpoint, "simple.py")

    done = _run(endpoint, repo)

    line = _tests_line(done.stderr)
    assert line.startswith("tests: not run — tests/test_simple.py cannot be collected")
    assert "not_a_module_anywhere" in line
    assert "✓ QaEngineer · RunTests" not in done.stderr + done.stdout


def test_a_repository_without_tests_says_so(endpoint: ScriptedEndpoint, tmp_path: Path) -> None:
    repo = commit_tree(tmp_path / "repo", {"simple.py": SIMPLE, ".gitignore": ".sopls/\n"})
    _fix(endpoint, "simple.py")

    done = _run(endpoint, repo)

    assert _tests_line(done.stderr).startswith("tests: not run — no test command was found")
    assert "✓ QaEngineer · RunTests" not in done.stderr + done.stdout


REGRESSION = (
    "from simple import add_one\n\n\ndef test_add_one_of_five_is_six():\n"
    "    assert add_one(5) == 6\n"
)


def test_a_bug_no_test_shows_gets_a_regression_test_that_fails_then_passes(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    files = {
        "pytest.ini": "[pytest]\n",
        "simple.py": SIMPLE,
        "tests/test_other.py": "def test_nothing_about_add_one():\n    assert True\n",
        ".gitignore": ".sopls/\n",
    }
    repo = commit_tree(tmp_path / "repo", files)
    original = tmp_path / "original"
    subprocess.run(["git", "clone", "-q", str(repo), str(original)], check=True)
    _fix(endpoint, "simple.py")
    endpoint.on(contains="## The bug report").reply_text(f"```python\n{REGRESSION}```\n")

    done = _run(endpoint, repo)

    assert done.returncode == 0, done.stderr
    [regression] = (repo / "tests").glob("test_bug_*.py")
    assert regression.read_text() == REGRESSION
    assert _tests_line(done.stderr).startswith("tests: 1 failed, 1 passed before → 2 passed after")
    # The test shows the bug on the original code and passes on the fixed code.
    (original / "tests" / regression.name).write_text(REGRESSION)
    pytest_run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    assert subprocess.run(pytest_run, cwd=original, capture_output=True).returncode == 1
    assert subprocess.run(pytest_run, cwd=repo, capture_output=True).returncode == 0
