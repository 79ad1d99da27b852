"""Pipeline benchmark: how much of the LLM time the SOP overlaps, and how prompts scale.

The scripted OpenAI-compatible endpoint (tests/scripted_endpoint) answers every call with a
latency of 0.3 s + 5 ms per completion token. A generated project has files in three dependency
levels. Printed: calls, tokens, wall time, serial time (the sum of all call latencies) and
wall / serial; then the Engineer's prompt tokens for the first and the last file at 8 and 16
files. Targets: wall / serial <= 0.45 with max_concurrency 4; the last file's prompt at 16 files
at most 1.5x its size at 8 files.

    .venv/bin/python bench/pipeline.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

# bench/repo_index.py is named like the package: the repository root replaces this folder.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))

from scripted_endpoint import ScriptedEndpoint, Usage

from agents.config import LLMSettings, Settings
from agents.runs.run import execute
from agents.runs.run_state import RunFolder, RunOptions
from repo_index.tokens import estimate_message_tokens, estimate_tokens

BASE_LATENCY = 0.3
PER_TOKEN = 0.005


def levels_for(n_files: int) -> list[list[str]]:
    """Three levels: half the files are leaves, most of the rest use two leaves, one entry point."""
    leaves = n_files // 2
    middle = n_files - leaves - 1
    names = [f"pkg/mod_{i:02d}.py" for i in range(n_files - 1)]
    return [names[:leaves], names[leaves : leaves + middle], ["main.py"]]


def module_code(path: str, uses: list[str]) -> str:
    """About a hundred lines of plausible code whose interface names its module."""
    stem = Path(path).stem
    imports = "".join(f"from pkg.{Path(u).stem} import {Path(u).stem.title()}Store\n" for u in uses)
    methods = "".join(
        f"""
    def step_{k}(self, value: int, scale: float = 1.0) -> float:
        \"\"\"Combine value with the store's state (step {k}).\"\"\"
        total = 0.0
        for i in range(value):
            total += (i * scale + {k}) / (1 + len(self.items))
            if total > 1e6:
                break
        self.items.append(total)
        return total
"""
        for k in range(9)
    )
    return f'''"""Module {stem}: one store of the generated project."""

from dataclasses import dataclass, field
{imports}

@dataclass
class {stem.title()}Store:
    """Keeps the values of {stem}."""

    name: str = "{stem}"
    items: list[float] = field(default_factory=list)
{methods}'''


def answer(content: str) -> dict:
    tokens = estimate_tokens(content)
    return {
        "usage": Usage(prompt_tokens=100, completion_tokens=tokens),
        "delay": BASE_LATENCY + PER_TOKEN * tokens,
    }


def script(endpoint: ScriptedEndpoint, n_files: int) -> None:
    levels = levels_for(n_files)
    uses: dict[str, list[str]] = {path: [] for path in levels[0]}
    for i, path in enumerate(levels[1]):
        uses[path] = [levels[0][i % len(levels[0])], levels[0][(i + 1) % len(levels[0])]]
    uses["main.py"] = levels[1][-2:]
    files = [p for level in levels for p in level]
    classes = "\n".join(
        f"  class {Path(p).stem.title()}Store {{\n    +step_0(value: int, scale: float) float\n  }}"
        for p in files
    )
    prd = {
        "language": "en_us",
        "programming_language": "Python",
        "original_requirement": "a store pipeline",
        "project_name": "stores",
        "product_goals": ["Process values in stages", "Report totals", "Stay small"],
        "user_stories": [f"As a user, I want stage {i} so that values flow" for i in range(4)],
        "competitive_analysis": [f"Tool {i}: strong at X; weak at Y" for i in range(6)],
        "competitive_quadrant_chart": "quadrantChart\n  title Reach and engagement",
        "requirement_analysis": "Values pass through stores level by level. " * 8,
        "requirement_pool": [{"priority": "P0", "description": f"stage {i}"} for i in range(5)],
        "ui_design_draft": "A terminal report of every store's totals. " * 4,
    }
    design = {
        "implementation_approach": "Dataclass stores, one per module, composed by main. " * 5,
        "file_list": files,
        "entry_point": "main.py",
        "data_structures_and_interfaces": f"classDiagram\n{classes}",
        "program_call_flow": "sequenceDiagram\n  main->>Store: step_0(value, scale)",
    }
    tasks = {
        "required_packages": [],
        "logic_analysis": [
            {"path": p, "holds": f"{Path(p).stem.title()}Store", "uses": uses[p]} for p in files
        ],
        "task_list": files,
        "shared_knowledge": "Stores keep floats in `items`; steps return the running total.",
    }
    import json

    for schema, data in (("PRD", prd), ("SystemDesign", design), ("TaskList", tasks)):
        endpoint.on(schema=schema).reply_json(data, **answer(json.dumps(data)))
    review = {"verdict": "LGTM", "issues": []}
    endpoint.on(schema="CodeReview").reply_json(review, **answer(json.dumps(review)))
    summary = {"summary": "Stores composed level by level into main.", "todos": []}
    endpoint.on(schema="CodeSummary").reply_json(summary, **answer(json.dumps(summary)))
    for path in files:
        code = f"```python {path}\n{module_code(path, uses[path])}```\n"
        endpoint.on(contains=f"Write the complete file `{path}`").reply_text(code, **answer(code))


def engineer_prompt_tokens(endpoint: ScriptedEndpoint, path: str) -> int:
    for request in endpoint.chat_requests:
        if f"Write the complete file `{path}`" in request.body["messages"][-1]["content"]:
            return estimate_message_tokens(m["content"] for m in request.body["messages"])
    raise LookupError(path)


async def measure(n_files: int) -> dict[str, float]:
    with ScriptedEndpoint() as endpoint, tempfile.TemporaryDirectory() as area:
        script(endpoint, n_files)
        settings = Settings(
            llm=LLMSettings(
                base_url=endpoint.base_url, api_key="bench", max_concurrency=4, max_tokens=4096
            )
        )
        options = RunOptions(idea="a store pipeline", code_review=True)
        folder, record = RunFolder.create(Path(area), options)
        started = time.perf_counter()
        record, _ = await execute(folder, record, settings)
        wall = time.perf_counter() - started
        if record.status != "completed":
            raise SystemExit(f"run ended {record.status}: {record.error}")
        requests = endpoint.chat_requests
        serial = sum((r.finished or r.started) - r.started for r in requests)
        levels = levels_for(n_files)
        return {
            "files": n_files,
            "calls": len(requests),
            "prompt_tokens": record.cost.prompt_tokens,
            "completion_tokens": record.cost.completion_tokens,
            "wall": wall,
            "serial": serial,
            "ratio": wall / serial,
            "first_prompt": engineer_prompt_tokens(endpoint, levels[0][0]),
            "last_prompt": engineer_prompt_tokens(endpoint, "main.py"),
        }


def main() -> None:
    results = [asyncio.run(measure(n)) for n in (8, 16)]
    print(f"latency per call: {BASE_LATENCY}s + {PER_TOKEN * 1000:g}ms per completion token")
    print(
        "files  calls  prompt_tok  completion_tok  wall_s  serial_s  wall/serial  "
        "first_file_prompt  last_file_prompt"
    )
    for r in results:
        print(
            f"{r['files']:>5}  {r['calls']:>5}  {r['prompt_tokens']:>10}  "
            f"{r['completion_tokens']:>14}  {r['wall']:>6.2f}  {r['serial']:>8.2f}  "
            f"{r['ratio']:>11.3f}  {r['first_prompt']:>17}  {r['last_prompt']:>16}"
        )
    growth = results[1]["last_prompt"] / results[0]["last_prompt"]
    print(f"wall/serial at 8 files: {results[0]['ratio']:.3f} (target <= 0.45)")
    print(f"last file's prompt, 16 vs 8 files: {growth:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
