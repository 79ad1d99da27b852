"""What QA's tests showed, where people look: the run folder, the terminal, the editor.

Real `sopls startup` and `sopls serve` subprocesses, real sandboxed pytest runs, the scripted
endpoint playing the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from company_script import COUNTER_TEST, TASKS, fenced, script_company
from file_tree import commit_tree
from lsp_session import editor_session, execute
from scripted_endpoint import ScriptedEndpoint
from test_fix_bug import CALC, FAILING_OUTPUT, script_fix
from test_startup import run_folder, sopls

FAILING_TEST = "\n\ndef test_counts_digits():\n    assert count_words('1 2')['1'] == 1\n"
FAILING_ID = "tests/test_wordfreq_counter.py::test_counts_digits"
MISSING_MODULE = "does_not_exist"
UNCOLLECTABLE = f"import {MISSING_MODULE}\n\n\ndef test_x():\n    assert {MISSING_MODULE}\n"
NOT_RUN_REASON = (
    f"tests/test_x.py cannot be collected: ModuleNotFoundError: No module named '{MISSING_MODULE}'"
)


@pytest.fixture
def uncollectable_repo(tmp_path: Path) -> Path:
    """A repository whose only test file imports a module that does not exist."""
    files = {"pkg/calc.py": CALC, "tests/test_x.py": UNCOLLECTABLE, ".gitignore": ".sopls/\n"}
    return commit_tree(tmp_path / "repo", files)


def test_a_new_project_keeps_its_test_counts_in_the_run_folder(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on(contains="Write `tests/test_wordfreq_counter.py`").reply_text(
        fenced("tests/test_wordfreq_counter.py", COUNTER_TEST + FAILING_TEST)
    )
    endpoint.on(schema="DebugVerdict").reply_json(
        {
            "blame": "test",
            "fixes": [{"path": "tests/test_wordfreq_counter.py", "debug_logs": "still wrong"}],
        }
    )
    script_company(endpoint)
    project = tmp_path / "wf"

    done = sopls(
        "startup",
        "a word-frequency CLI",
        "--run-tests",
        "--no-code-review",
        "--project-path",
        str(project),
        endpoint=endpoint,
        cwd=tmp_path,
    )

    assert done.returncode == 1, done.stderr
    folder = run_folder(project)
    document = json.loads((folder / "test_report.json").read_text())
    assert document["before"] is None
    after = document["after"]
    assert (after["passed"], after["failed"], after["errors"]) == (3, 1, 0)
    assert after["exitCode"] == 1
    assert document["newlyFailing"] == [FAILING_ID]
    assert document["verdict"] == "failed"
    assert document["line"] == "tests: 1 failed, 3 passed"
    assert document["line"] in done.stderr
    assert json.loads((folder / "run.json").read_text())["tests"] == document
    assert "**Result:** failed" in (folder / "test_report.md").read_text()
    assert (project / "docs" / "test_report.md").exists()  # the project's own report too


@pytest.mark.parametrize("flags", [[], ["--require-tests"]])
def test_a_new_project_whose_packages_are_refused_says_its_tests_did_not_run(
    endpoint: ScriptedEndpoint, tmp_path: Path, flags: list[str]
) -> None:
    requirement = "wordfreq @ file:///nowhere"
    endpoint.on(schema="TaskList").reply_json({**TASKS, "required_packages": [requirement]})
    script_company(endpoint)
    project = tmp_path / "wf"

    done = sopls(
        "startup",
        "a word-frequency CLI",
        "--run-tests",
        "--no-code-review",
        *flags,
        "--project-path",
        str(project),
        endpoint=endpoint,
        cwd=tmp_path,
    )

    document = json.loads((run_folder(project) / "test_report.json").read_text())
    assert document["verdict"] == "not run"
    assert requirement in document["reason"]
    assert f"tests: not run — {document['reason']}" in done.stderr
    assert (project / "main.py").exists()  # written either way
    closing = [line for line in done.stderr.splitlines() if "--require-tests" in line]
    assert done.returncode == (1 if flags else 0), done.stderr
    assert len(closing) == (1 if flags else 0)


@pytest.mark.parametrize("asked", ["flag", "setting", "no"])
def test_require_tests_turns_tests_that_cannot_run_into_exit_1(
    endpoint: ScriptedEndpoint, uncollectable_repo: Path, home: Path, asked: str
) -> None:
    endpoint.on(schema="RequestKind").reply_json({"kind": "bug", "reason": "add is wrong"})
    script_fix(endpoint)
    flags = ["--require-tests"] if asked == "flag" else []
    if asked == "setting":
        (home / ".sopls").mkdir()
        (home / ".sopls" / "config.yaml").write_text("run:\n  require_tests: true\n")

    done = sopls(
        "startup",
        "add() subtracts",
        "--inc",
        *flags,
        "--project-path",
        str(uncollectable_repo),
        endpoint=endpoint,
        cwd=uncollectable_repo.parent,
    )

    assert f"tests: not run — {NOT_RUN_REASON}" in done.stderr
    # the change is written either way: only the exit code and the closing line differ
    assert "return a + b" in (uncollectable_repo / "pkg" / "calc.py").read_text()
    record = json.loads((run_folder(uncollectable_repo) / "run.json").read_text())
    assert record["status"] == "completed"
    assert record["tests"]["verdict"] == "not run"
    assert record["options"]["require_tests"] is (asked != "no")
    closing = [line for line in done.stderr.splitlines() if "--require-tests" in line]
    if asked == "no":
        assert done.returncode == 0, done.stderr
        assert closing == []
    else:
        assert done.returncode == 1, done.stderr
        (line,) = closing
        assert line.startswith("✗")
        assert NOT_RUN_REASON in line


async def test_an_editor_gets_the_tests_in_run_events_and_the_result(
    endpoint: ScriptedEndpoint, uncollectable_repo: Path
) -> None:
    script_fix(endpoint)
    options = {"llm": {"baseUrl": endpoint.base_url, "apiKey": "k", "maxRetries": 0}}
    fix = {"description": "add() subtracts", "testOutput": FAILING_OUTPUT, "apply": "none"}
    async with editor_session(uncollectable_repo, initialization_options=options) as client:
        result = await execute(client, "sopls.fixBug", {**fix, "requireTests": True})
        stored = await execute(client, "sopls.getRun", {"runId": result["runId"]})
        events = list(client.run_events)
        unrequired = await execute(client, "sopls.fixBug", fix)

    assert result["status"] == "completed"
    assert result["testsRequired"] is True
    assert result["tests"]["verdict"] == "not run"
    assert result["tests"]["reason"] == NOT_RUN_REASON
    assert stored["testsRequired"] is True
    assert unrequired["status"] == "completed"
    assert "testsRequired" not in unrequired
    carrying = [event for event in events if "tests" in event]
    assert carrying, events
    assert {event["action"] for event in carrying} == {"RunTests"}
    tests = carrying[-1]["tests"]
    tests = tests._asdict() if hasattr(tests, "_asdict") else tests
    assert tests["verdict"] == "not run"
    assert tests["line"] == f"tests: not run — {NOT_RUN_REASON}"
