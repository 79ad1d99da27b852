"""Feature requests on repositories of other shapes: a JavaScript module tested with
`node --test`, and a project that sopls generated earlier (with its documents)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from subprocess import STDOUT

import pytest
from company_script import script_company
from scripted_endpoint import ScriptedEndpoint
from test_request_feature import PRD

from agents.config import LLMSettings, Settings
from agents.framework.events import RunEvent
from agents.runs.run import execute
from agents.runs.run_state import RunFolder, RunOptions
from server.disk_writer import write_project

MATH_JS = """function add(a, b) {
  return a + b;
}

module.exports = { add };
"""
ADD_TEST_JS = """const test = require("node:test");
const assert = require("node:assert");
const { add } = require("../lib/math");

test("adds", () => assert.strictEqual(add(2, 3), 5));
"""
SUBTRACT_BLOCK = """lib/math.js
<<<<<<< SEARCH
module.exports = { add };
=======
function subtract(a, b) {
  return a - b;
}

module.exports = { add, subtract };
>>>>>>> REPLACE
"""
SUBTRACT_TEST_JS = """const test = require("node:test");
const assert = require("node:assert");
const { subtract } = require("../lib/math");

test("subtracts", () => assert.strictEqual(subtract(5, 3), 2));
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def script_documents(endpoint: ScriptedEndpoint, files: list[str], requirement: str) -> None:
    endpoint.on(schema="PRD").reply_json({**PRD, "original_requirement": requirement})
    endpoint.on(schema="SystemDesign").reply_json(
        {
            "implementation_approach": requirement,
            "file_list": files,
            "entry_point": files[0],
            "data_structures_and_interfaces": "classDiagram\n  class M",
            "program_call_flow": "sequenceDiagram\n  a->>b: c",
        }
    )
    endpoint.on(schema="TaskList").reply_json(
        {
            "logic_analysis": [{"path": f, "holds": requirement, "uses": []} for f in files],
            "task_list": files,
        }
    )


def script_change(
    endpoint: ScriptedEndpoint,
    requirement: str,
    edited: tuple[str, str],
    created: tuple[str, str],
) -> None:
    """The documents, a plan editing one file and creating another, and the model's answers."""
    (edited_path, block), (created_path, code) = edited, created
    script_documents(endpoint, [edited_path, created_path], requirement)
    endpoint.on(schema="ChangePlan").reply_json(
        {
            "summary": requirement,
            "files": [
                {"path": edited_path, "change": "modify", "what": requirement},
                {"path": created_path, "change": "create", "what": "its test"},
            ],
        }
    )
    endpoint.on(contains=f"## The current version of {edited_path}").reply_text(block)
    endpoint.on(contains=f"Write the complete file `{created_path}`").reply_text(
        f"```\n{code}```\n"
    )


async def change(
    llm_settings: LLMSettings, root: Path, requirement: str
) -> tuple[object, object, list[RunEvent]]:
    events: list[RunEvent] = []
    options = RunOptions(idea=requirement, mode="feature", run_tests=True)
    folder, record = RunFolder.create(root, options, target=root)
    record, context = await execute(
        folder, record, Settings(llm=llm_settings), listeners=[events.append]
    )
    return record, context, events


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_a_javascript_module_tested_with_node(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    root = tmp_path / "mathlib"
    (root / "lib").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "package.json").write_text(
        json.dumps({"name": "mathlib", "version": "1.0.0", "scripts": {"test": "node --test"}})
    )
    (root / "lib" / "math.js").write_text(MATH_JS)
    (root / "test" / "add.test.js").write_text(ADD_TEST_JS)
    (root / ".gitignore").write_text(".sopls/\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "mathlib")
    files = ["lib/math.js", "test/subtract.test.js"]
    script_change(
        endpoint, "add subtract", (files[0], SUBTRACT_BLOCK), (files[1], SUBTRACT_TEST_JS)
    )

    record, context, events = await change(llm_settings, root, "add subtract")

    assert record.status == "completed"
    assert sorted(context.proposal.paths()) == files
    runs = [e.detail for e in events if e.action == "RunTests" and e.status == "finished"]
    assert runs == ["tests: 1 passed before → 2 passed after (lib/math.js)"]
    context.proposal.write_to(root)
    assert sorted(git(root, "status", "--porcelain").split()) == ["??", "M", *sorted(files)]
    npm = await asyncio.create_subprocess_exec(
        "npm", "test", "--silent", cwd=root, stdout=asyncio.subprocess.PIPE, stderr=STDOUT
    )
    output, _ = await npm.communicate()
    assert npm.returncode == 0, output.decode()


TOTAL_BLOCK = """wordfreq/counter.py
<<<<<<< SEARCH
    return count_words(text).most_common(n)
=======
    return count_words(text).most_common(n)


def total_words(text: str) -> int:
    \"\"\"How many words `text` holds.\"\"\"
    return sum(count_words(text).values())
>>>>>>> REPLACE
"""
TOTAL_TEST = (
    "from wordfreq.counter import total_words\n\n\n"
    "def test_total_words():\n    assert total_words('a b a') == 3\n"
)


async def test_a_project_sopls_generated_gets_its_documents_refined(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    script_company(endpoint)
    project = tmp_path / "word_freq"
    options = RunOptions(idea="a word-frequency CLI", code_review=False, run_tests=True)
    folder, record = RunFolder.create(tmp_path, options)
    record, context = await execute(folder, record, Settings(llm=llm_settings))
    assert record.status == "completed"
    write_project(project, context.proposal, new_project=True)
    endpoint.reset()

    files = ["wordfreq/counter.py", "tests/test_total.py"]
    script_change(endpoint, "count all words", (files[0], TOTAL_BLOCK), (files[1], TOTAL_TEST))

    record, context, events = await change(llm_settings, project, "count all words")

    assert record.status == "completed"
    runs = [e.detail for e in events if e.action == "RunTests" and e.status == "finished"]
    assert runs == [
        "tests: 3 passed before → 4 passed after (wordfreq/counter.py)"
    ]  # and the new one passes too
    changes = {c.path: c.change.value for c in context.proposal.files}
    assert changes["wordfreq/counter.py"] == "modify"
    assert changes["tests/test_total.py"] == "create"
    for name in ("prd", "system_design", "tasks"):
        assert changes[f"docs/{name}.json"] == "modify"
        assert changes[f"docs/{name}.md"] == "modify"
    prd_prompt = next(
        r.body["messages"][-1]["content"]
        for r in endpoint.chat_requests
        if "PRD" in json.dumps(r.body.get("response_format", {}))
    )
    assert "## The current PRD" in prd_prompt
    assert "a word-frequency CLI" in prd_prompt
    context.proposal.write_to(project)
    changed = sorted(line[3:] for line in git(project, "status", "--porcelain").splitlines())
    assert [p for p in changed if not p.startswith("docs/")] == sorted(files)
