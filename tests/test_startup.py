"""`sopls startup` end to end: a real subprocess, the scripted endpoint over HTTP, real git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from company_script import COUNTER, script_company
from conftest import SECRET_KEY
from scripted_endpoint import ScriptedEndpoint

SOPLS = [sys.executable, "-m", "server"]


def sopls(
    *args: str, endpoint: ScriptedEndpoint, cwd: Path, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SOPLS_"))} | {
        "OPENAI_BASE_URL": endpoint.base_url,
        "OPENAI_API_KEY": SECRET_KEY,
    }
    return subprocess.run(
        [*SOPLS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def run_folder(project: Path) -> Path:
    (folder,) = (project / ".sopls" / "runs").iterdir()
    return folder


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def test_startup_builds_a_tested_project(endpoint: ScriptedEndpoint, tmp_path: Path) -> None:
    script_company(endpoint)
    project = tmp_path / "wf"

    done = sopls(
        "startup",
        "a word-frequency CLI",
        "--run-tests",
        "--project-path",
        str(project),
        endpoint=endpoint,
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    for name in ("prd", "system_design", "tasks"):
        assert json.loads((project / "docs" / f"{name}.json").read_text())
        assert (project / "docs" / f"{name}.md").read_text().startswith("#")
    assert "```mermaid\nquadrantChart" in (project / "docs" / "prd.md").read_text()
    assert "```mermaid\nclassDiagram" in (project / "docs" / "system_design.md").read_text()
    assert (project / "wordfreq" / "counter.py").read_text() == COUNTER
    assert (project / "main.py").exists()
    assert (project / "tests" / "test_wordfreq_counter.py").exists()
    report = (project / "docs" / "test_report.md").read_text()
    assert "**Result:** passed" in report
    assert len(git(project, "log", "--oneline").splitlines()) == 1
    assert git(project, "status", "--porcelain") == ""
    record = json.loads((run_folder(project) / "run.json").read_text())
    assert record["status"] == "completed"
    assert record["cost"]["calls"] == len(endpoint.chat_requests)
    assert SECRET_KEY not in (run_folder(project) / "calls.jsonl").read_text()
    assert SECRET_KEY not in done.stdout + done.stderr
    assert "total" in done.stdout


def test_empty_idea_is_refused(endpoint: ScriptedEndpoint, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    done = sopls("startup", "  ", endpoint=endpoint, cwd=work)
    assert done.returncode == 2
    assert "say what to build" in done.stderr
    assert list(work.iterdir()) == []
    assert endpoint.requests == []


def test_project_path_that_is_a_file_is_refused(endpoint: ScriptedEndpoint, tmp_path: Path) -> None:
    target = tmp_path / "taken.txt"
    target.write_text("mine")
    done = sopls(
        "startup", "an app", "--project-path", str(target), endpoint=endpoint, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "is a file" in done.stderr
    assert target.read_text() == "mine"


@pytest.mark.parametrize("bad", ["../evil.py", "/etc/x", ".git/config"])
def test_bad_paths_from_the_model_never_leave_the_project(
    endpoint: ScriptedEndpoint, tmp_path: Path, bad: str
) -> None:
    from company_script import DESIGN, TASKS

    design = {**DESIGN, "file_list": [*DESIGN["file_list"], bad]}
    tasks = {**TASKS, "task_list": [*TASKS["task_list"], bad]}
    endpoint.on(schema="SystemDesign").reply_json(design)
    endpoint.on(schema="TaskList").reply_json(tasks)
    script_company(endpoint)
    project = tmp_path / "sandboxed" / "wf"
    project.parent.mkdir()

    done = sopls(
        "startup",
        "a word-frequency CLI",
        "--project-path",
        str(project),
        endpoint=endpoint,
        cwd=tmp_path,
    )

    assert done.returncode == 1
    assert bad in done.stderr
    assert "Paths must be relative to the project root" in done.stderr
    assert (project / "main.py").exists()  # the good files are still written
    assert sorted(p.name for p in (tmp_path / "sandboxed").iterdir()) == ["wf"]
    assert not Path("/etc/x").exists()
    assert not (project / "config").exists()


def test_an_answer_that_never_fits_its_document_names_role_action_and_raw_file(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on(schema="SystemDesign").reply_text("I refuse to design anything.")
    script_company(endpoint)
    project = tmp_path / "wf"

    done = sopls(
        "startup", "an app", "--project-path", str(project), endpoint=endpoint, cwd=tmp_path
    )

    assert done.returncode == 1
    assert "failed in Architect/WriteDesign" in done.stderr
    raw = next((run_folder(project) / "raw").iterdir())
    assert str(raw) in done.stderr
    assert "I refuse to design anything." in raw.read_text()
    assert (run_folder(project) / "docs" / "prd.json").exists()  # finished work is kept
    assert not (project / "main.py").exists()
