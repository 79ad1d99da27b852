"""The bug short path on an existing repository: straight to the Engineer, then the repo's tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lsp_session import editor_session, execute
from lsprotocol import types
from scripted_endpoint import ScriptedEndpoint

from agents.config import LLMSettings, Settings
from agents.framework.events import RunEvent
from agents.runs.run import execute as run_company
from agents.runs.run_state import RunFolder, RunOptions

CALC = '''"""Arithmetic."""


def add(a: int, b: int) -> int:
    """The sum of a and b."""
    return a - b


def double(a: int) -> int:
    return 2 * a
'''

CALC_TEST = """from pkg.calc import add, double


def test_add():
    assert add(2, 3) == 5


def test_double():
    assert double(4) == 8
"""

PLAN = {
    "summary": "add subtracts instead of adding",
    "files": [{"path": "pkg/calc.py", "change": "modify", "what": "make add return a + b"}],
}

FIX = """pkg/calc.py
<<<<<<< SEARCH
    return a - b
=======
    return a + b
>>>>>>> REPLACE
"""

FAILING_OUTPUT = "FAILED tests/test_calc.py::test_add - assert -1 == 5"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pkg" / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(CALC_TEST)
    (root / ".gitignore").write_text(".sopls/\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "calc"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
            cwd=root,
            check=True,
        )
    return root


def script_fix(endpoint: ScriptedEndpoint) -> None:
    endpoint.on(schema="ChangePlan").reply_json(PLAN)
    endpoint.on(contains="## The current version of pkg/calc.py").reply_text(FIX)


async def test_a_bug_goes_straight_to_the_engineer_and_the_test_passes(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, repo: Path
) -> None:
    script_fix(endpoint)
    events: list[RunEvent] = []
    options = RunOptions(
        idea="add() subtracts", mode="bug", test_output=FAILING_OUTPUT, run_tests=True
    )
    folder, record = RunFolder.create(repo, options, target=repo)

    record, context = await run_company(
        folder, record, Settings(llm=llm_settings), listeners=[events.append]
    )

    assert record.status == "completed"
    change = context.proposal.get("pkg/calc.py")
    assert change is not None
    assert change.before == CALC
    assert change.after == CALC.replace("return a - b", "return a + b")
    assert context.proposal.paths() == ["pkg/calc.py"]
    schemas = {
        r.body.get("response_format", {}).get("json_schema", {}).get("name")
        for r in endpoint.chat_requests
    }
    assert not schemas & {"PRD", "SystemDesign", "TaskList"}  # the short path
    plan_prompt = endpoint.chat_requests[0].body["messages"][-1]["content"]
    assert FAILING_OUTPUT in plan_prompt  # the failing output is the Bug Feedback
    assert "def add(a: int, b: int) -> int:" in plan_prompt  # Legacy Code from the index
    test_runs = [e for e in events if e.action == "RunTests" and e.status == "finished"]
    expected = "tests: 1 failed, 1 passed before → 2 passed after (pkg/calc.py)"
    assert [e.detail for e in test_runs] == [expected]
    assert record.test_verdict == "passed"
    assert record.tests is not None
    assert record.tests["fixed"] == ["tests/test_calc.py::test_add"]
    assert "**Verdict:** OK" in (folder.path / "test_report.md").read_text()
    assert json.loads((folder.path / "test_report.json").read_text()) == record.tests
    assert (repo / "pkg" / "calc.py").read_text() == CALC  # nothing written to the repository


async def test_a_fix_that_leaves_the_reported_test_failing_goes_back(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, repo: Path
) -> None:
    wrong = FIX.replace("=======\n    return a + b\n", "=======\n    return a + b + 1\n")
    corrected = (
        "pkg/calc.py\n<<<<<<< SEARCH\n    return a + b + 1\n=======\n"
        "    return a + b\n>>>>>>> REPLACE\n"
    )
    endpoint.on(schema="ChangePlan").reply_json(PLAN)
    endpoint.on(contains="### Repository tests").reply_text(corrected)  # QA's report
    endpoint.on(contains="## The current version of pkg/calc.py").reply_text(wrong)
    events: list[RunEvent] = []
    options = RunOptions(
        idea="add() subtracts", mode="bug", test_output=FAILING_OUTPUT, run_tests=True
    )
    folder, record = RunFolder.create(repo, options, target=repo)

    record, context = await run_company(
        folder, record, Settings(llm=llm_settings), listeners=[events.append]
    )

    assert record.status == "completed"
    assert context.proposal.text_of("pkg/calc.py") == CALC.replace("return a - b", "return a + b")
    test_runs = [(e.status, e.detail) for e in events if e.action == "RunTests" and e.detail]
    assert test_runs == [
        (
            "failed",
            "tests: 1 failed, 1 passed before → 1 failed, 1 passed after (pkg/calc.py); "
            "still failing: tests/test_calc.py::test_add",
        ),
        ("finished", "tests: 1 failed, 1 passed before → 2 passed after (pkg/calc.py)"),
    ]


async def test_fix_bug_over_lsp_proposes_a_minimal_hunk(
    endpoint: ScriptedEndpoint, repo: Path
) -> None:
    script_fix(endpoint)
    options = {"llm": {"baseUrl": endpoint.base_url, "apiKey": "k", "maxRetries": 0}}
    async with editor_session(repo, initialization_options=options) as client:
        result = await execute(
            client, "sopls.fixBug", {"description": "add() subtracts", "testOutput": FAILING_OUTPUT}
        )

        assert result["status"] == "completed"
        assert result["tests"]["verdict"] == "passed"
        assert result["tests"]["newlyFailing"] == result["tests"]["stillFailing"] == []
        assert [f["path"] for f in result["files"]] == ["pkg/calc.py"]
        assert result["files"][0]["change"] == "modify"
        (edit,) = client.edits
        (document,) = [
            c for c in edit.edit.document_changes or [] if isinstance(c, types.TextDocumentEdit)
        ]
        assert document.text_document.uri == (repo / "pkg" / "calc.py").as_uri()
        (hunk,) = document.edits
        assert hunk.range.start.line == 5
        assert hunk.range.end.line == 6  # one line; the untouched double() is in no hunk
        assert hunk.new_text == "    return a + b\n"
