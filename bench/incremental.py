"""Feature request on a generated 200-file repository, with scripted answers.

Prints, per Engineer call, its prompt tokens and the tokens of its Legacy Code section (which
must stay within the configured budget, `LEGACY_CODE_BUDGET`), then the number of LLM calls and
the wall time.

    .venv/bin/python bench/incremental.py
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/repo_index.py is named like the package: the repository root replaces this folder.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))

from scripted_endpoint import ScriptedEndpoint

from agents.company.repository_change import LEGACY_CODE_BUDGET
from agents.config import LLMSettings, Settings
from agents.runs.run import execute
from agents.runs.run_state import RunFolder, RunOptions
from repo_index.tokens import estimate_message_tokens, estimate_tokens

FILES = 200
CHANGED = ["pkg/module_007.py", "pkg/module_042.py"]
CREATED = "pkg/report.py"


def module(number: int) -> str:
    uses = [(number + k) % FILES for k in (1, 2, 3)]
    imports = "".join(f"from pkg.module_{u:03d} import helper_{u}\n" for u in uses)
    calls = " + ".join(f"helper_{u}(value)" for u in uses)
    return (
        f'"""Module {number} of the generated repository."""\n\n{imports}\n\n'
        f"class Store{number}:\n    def __init__(self) -> None:\n"
        "        self.items: list[int] = []\n\n"
        f"    def add(self, value: int) -> int:\n        self.items.append(value)\n"
        f"        return len(self.items)\n\n\n"
        f"def helper_{number}(value: int) -> int:\n    return value + {number}\n\n\n"
        f"def combined_{number}(value: int) -> int:\n    return {calls}\n"
    )


def make_repository(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    for number in range(FILES):
        (root / "pkg" / f"module_{number:03d}.py").write_text(module(number))
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "generated"], cwd=root, check=True)


def script(endpoint: ScriptedEndpoint) -> None:
    files = [*CHANGED, CREATED]
    endpoint.on(schema="PRD").reply_json(
        {
            "language": "en_us",
            "programming_language": "Python",
            "original_requirement": "report the totals of stores 7 and 42",
            "project_name": "stores",
            "product_goals": ["Report totals"],
            "user_stories": [
                "As a user, I want totals",
                "As a user, I want it fast",
                "As ops, logs",
            ],
            "competitive_analysis": [f"Tool {i}: a; b" for i in range(5)],
            "competitive_quadrant_chart": "quadrantChart\n  title T",
            "requirement_analysis": "Add a total() to two stores and a report module.",
            "requirement_pool": [{"priority": "P0", "description": "totals"}],
            "ui_design_draft": "A printed report.",
        }
    )
    endpoint.on(schema="SystemDesign").reply_json(
        {
            "implementation_approach": "total() on Store7 and Store42; pkg/report.py prints them.",
            "file_list": files,
            "entry_point": CREATED,
            "data_structures_and_interfaces": "classDiagram\n  class Store7",
            "program_call_flow": "sequenceDiagram\n  report->>Store7: total()",
        }
    )
    endpoint.on(schema="TaskList").reply_json(
        {
            "logic_analysis": [{"path": f, "holds": "totals", "uses": []} for f in files],
            "task_list": files,
        }
    )
    endpoint.on(schema="ChangePlan").reply_json(
        {
            "summary": "totals",
            "files": [
                *({"path": p, "change": "modify", "what": "add total()"} for p in CHANGED),
                {"path": CREATED, "change": "create", "what": "print totals", "uses": CHANGED},
            ],
        }
    )
    for path in CHANGED:
        endpoint.on(contains=f"## The current version of {path}").reply_text(
            f"{path}\n<<<<<<< SEARCH\n        return len(self.items)\n=======\n"
            "        return len(self.items)\n\n    def total(self) -> int:\n"
            "        return sum(self.items)\n>>>>>>> REPLACE\n"
        )
    endpoint.on(contains=f"Write the complete file `{CREATED}`").reply_text(
        f"```python {CREATED}\nfrom pkg.module_007 import Store7\n\n\n"
        "def report() -> int:\n    return Store7().total()\n```\n"
    )


def legacy_section(prompt: str) -> str:
    """The map inside a prompt's "## Legacy Code" section (its heading and intro line left out)."""
    start = prompt.find("## Legacy Code")
    if start < 0:
        return ""
    end = prompt.find("\n## ", start + 1)
    lines = prompt[start:end].splitlines()[1:]
    if lines and lines[0].startswith("The relevant parts"):
        lines = lines[1:]
    return "\n".join(lines).strip()


async def measure() -> None:
    with ScriptedEndpoint() as endpoint, tempfile.TemporaryDirectory() as area:
        root = Path(area) / "repo"
        make_repository(root)
        script(endpoint)
        settings = Settings(llm=LLMSettings(base_url=endpoint.base_url, api_key="bench"))
        options = RunOptions(idea="report the totals of stores 7 and 42", mode="feature")
        folder, record = RunFolder.create(root, options, target=root)
        started = time.perf_counter()
        record, context = await execute(folder, record, settings)
        wall = time.perf_counter() - started
        if record.status != "completed":
            raise SystemExit(f"run ended {record.status}: {record.error}")
        print(f"repository: {FILES} files; Legacy Code budget {LEGACY_CODE_BUDGET} tokens")
        print("Engineer call             prompt_tokens  legacy_code_tokens")
        for request in endpoint.chat_requests:
            messages = request.body["messages"]
            prompt = messages[-1]["content"] if len(messages) < 4 else messages[1]["content"]
            names = ("ChangePlan", "current version", "Write the complete file")
            kind = next((n for n in names if n in str(request.body)), None)
            if kind is None:
                continue
            tokens = estimate_message_tokens(m["content"] for m in messages)
            legacy = estimate_tokens(legacy_section(prompt))
            print(f"{kind:<25} {tokens:>13}  {legacy:>18}")
        print(
            f"LLM calls: {len(endpoint.chat_requests)}; wall time {wall:.2f} s; "
            f"files changed: {', '.join(context.proposal.paths())}"
        )


if __name__ == "__main__":
    asyncio.run(measure())
