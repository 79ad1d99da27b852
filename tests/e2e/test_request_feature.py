"""A feature request on an existing repository: documents for the change, then minimal edits."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from company_script import PRD as GENERATED_PRD
from lsp_session import editor_session, execute
from lsprotocol.types import TextDocumentEdit
from scripted_endpoint import ScriptedEndpoint
from test_fix_bug import CALC, repo  # noqa: F401  (the fixture repository)

from agents.edits.proposal import Proposal

PRD = {**GENERATED_PRD, "original_requirement": "add multiply", "project_name": "calc"}
DESIGN = {
    "implementation_approach": "Add multiply next to add in pkg/calc.py and test it.",
    "file_list": ["pkg/calc.py", "tests/test_multiply.py"],
    "entry_point": "pkg/calc.py",
    "data_structures_and_interfaces": "classDiagram\n  class calc",
    "program_call_flow": "sequenceDiagram\n  test->>calc: multiply(a, b)",
}
TASKS = {
    "logic_analysis": [
        {"path": "pkg/calc.py", "holds": "multiply", "uses": []},
        {"path": "tests/test_multiply.py", "holds": "its test", "uses": ["pkg/calc.py"]},
    ],
    "task_list": ["pkg/calc.py", "tests/test_multiply.py"],
}
PLAN = {
    "summary": "multiply in calc, with a test",
    "files": [
        {"path": "pkg/calc.py", "change": "modify", "what": "add multiply(a, b)"},
        {
            "path": "tests/test_multiply.py",
            "change": "create",
            "what": "test multiply",
            "uses": ["pkg/calc.py"],
        },
    ],
}
ADD_MULTIPLY = """pkg/calc.py
<<<<<<< SEARCH
def double(a: int) -> int:
    return 2 * a
=======
def double(a: int) -> int:
    return 2 * a


def multiply(a: int, b: int) -> int:
    return a * b
>>>>>>> REPLACE
"""
MULTIPLY_TEST = (
    "from pkg.calc import multiply\n\n\ndef test_multiply():\n    assert multiply(3, 4) == 12\n"
)


def script_feature(endpoint: ScriptedEndpoint) -> None:
    endpoint.on(schema="PRD").reply_json(PRD)
    endpoint.on(schema="SystemDesign").reply_json(DESIGN)
    endpoint.on(schema="TaskList").reply_json(TASKS)
    endpoint.on(schema="ChangePlan").reply_json(PLAN)
    endpoint.on(contains="## The current version of pkg/calc.py").reply_text(ADD_MULTIPLY)
    endpoint.on(contains="Write the complete file `tests/test_multiply.py`").reply_text(
        f"```python tests/test_multiply.py\n{MULTIPLY_TEST}```\n"
    )


def llm_options(endpoint: ScriptedEndpoint) -> dict:
    return {"llm": {"baseUrl": endpoint.base_url, "apiKey": "k", "maxRetries": 0}}


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


async def test_a_feature_touches_only_the_intended_files_and_its_test_passes(
    endpoint: ScriptedEndpoint,
    repo: Path,  # noqa: F811
) -> None:
    (repo / "README.md").write_text("# calc\n\nTiny arithmetic for the examples.\n")
    git(repo, "add", "README.md")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-q", "-m", "readme")
    script_feature(endpoint)
    async with editor_session(repo, initialization_options=llm_options(endpoint)) as client:
        result = await execute(
            client, "sopls.requestFeature", {"requirement": "add multiply", "apply": "none"}
        )
        events = list(client.run_events)

    assert result["status"] == "completed"
    files = {f["path"]: f["change"] for f in result["files"]}
    assert files == {"pkg/calc.py": "modify", "tests/test_multiply.py": "create"}
    prd_prompt = next(
        r.body["messages"][-1]["content"]
        for r in endpoint.chat_requests
        if "PRD" in json.dumps(r.body.get("response_format", {}))
    )
    assert "## The existing repository" in prd_prompt
    assert "def add(a: int, b: int) -> int:" in prd_prompt  # the repository map
    assert "Tiny arithmetic for the examples." in prd_prompt  # its README
    assert "folders: pkg, tests" in prd_prompt  # its layout
    assert any(e.get("action") == "RunTests" and e.get("status") == "finished" for e in events)

    proposal = Proposal.model_validate(
        {
            "files": [
                {k: f[k] for k in ("path", "change", "before", "after")} for f in result["files"]
            ]
        }
    )
    proposal.write_to(repo)
    changed = sorted(line[3:] for line in git(repo, "status", "--porcelain").splitlines())
    assert changed == ["pkg/calc.py", "tests/test_multiply.py"]  # README.md untouched
    assert (repo / "pkg" / "calc.py").read_text().startswith(CALC)
    runs = list((repo / ".sopls" / "runs").iterdir())
    assert (runs[0] / "docs" / "prd.json").is_file()  # the documents stay with the run


async def test_request_feature_edits_are_minimal_hunks(
    endpoint: ScriptedEndpoint,
    repo: Path,  # noqa: F811
) -> None:
    script_feature(endpoint)
    async with editor_session(repo, initialization_options=llm_options(endpoint)) as client:
        result = await execute(client, "sopls.requestFeature", {"requirement": "add multiply"})
        assert result["status"] == "completed"
        (edit,) = client.edits

    documents = [c for c in edit.edit.document_changes or [] if isinstance(c, TextDocumentEdit)]
    calc = next(d for d in documents if d.text_document.uri.endswith("pkg/calc.py"))
    add_lines = range(3, 7)  # def add ... return a - b: untouched by the change
    for hunk in calc.edits:
        assert not set(range(hunk.range.start.line, hunk.range.end.line)) & set(add_lines)
    assert any("multiply" in hunk.new_text for hunk in calc.edits)


async def test_a_project_with_sopls_documents_gets_them_refined(
    endpoint: ScriptedEndpoint,
    repo: Path,  # noqa: F811
) -> None:
    (repo / "docs").mkdir()
    (repo / "docs" / "prd.json").write_text(json.dumps({**PRD, "original_requirement": "calc"}))
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-q", "-m", "docs")
    script_feature(endpoint)
    async with editor_session(repo, initialization_options=llm_options(endpoint)) as client:
        result = await execute(
            client, "sopls.requestFeature", {"requirement": "add multiply", "apply": "none"}
        )

    assert result["status"] == "completed"
    files = {f["path"]: f["change"] for f in result["files"]}
    assert files["docs/prd.json"] == "modify"
    assert "docs/system_design.json" not in files  # the project kept no design document
    prd_prompt = next(
        r.body["messages"][-1]["content"]
        for r in endpoint.chat_requests
        if "PRD" in json.dumps(r.body.get("response_format", {}))
    )
    assert "## The current PRD" in prd_prompt
