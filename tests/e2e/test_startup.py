"""`sopls startup` end to end: a real subprocess, the scripted endpoint over HTTP, real git."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from company_script import COUNTER, script_company
from conftest import SECRET_KEY
from scripted_endpoint import ScriptedEndpoint, Usage

SOPLS = [sys.executable, "-m", "server"]


def cli_env(endpoint: ScriptedEndpoint) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SOPLS_"))}
    return env | {"OPENAI_BASE_URL": endpoint.base_url, "OPENAI_API_KEY": SECRET_KEY}


def sopls(
    *args: str, endpoint: ScriptedEndpoint, cwd: Path, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SOPLS, *args],
        cwd=cwd,
        env=cli_env(endpoint),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_in_background(
    endpoint: ScriptedEndpoint, cwd: Path, project: Path
) -> subprocess.Popen[str]:
    """`sopls startup` running, once the endpoint has answered its first calls."""
    process = subprocess.Popen(
        [*SOPLS, "startup", "a word-frequency CLI", "--project-path", str(project)],
        cwd=cwd,
        env=cli_env(endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while sum(r.status == 200 for r in endpoint.chat_requests) < 5:
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the run did not get going")
        time.sleep(0.05)
    return process


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
    assert (
        "failed in Architect/WriteDesign: the model's system design did not match the expected "
        "shape after 3 tries." in " ".join(done.stderr.split())
    )
    assert "validation error" not in done.stderr  # the details are in the log
    raw = next((run_folder(project) / "raw").iterdir())
    assert str(raw) in done.stderr
    assert "I refuse to design anything." in raw.read_text()
    assert (run_folder(project) / "docs" / "prd.json").exists()  # finished work is kept
    assert not (project / "main.py").exists()


def journaled_messages(folder: Path) -> list[str]:
    lines = (folder / "calls.jsonl").read_text().splitlines()
    return [json.dumps(json.loads(line)["request"]["messages"]) for line in lines if line]


def sent_messages(requests: list) -> list[str]:
    return [json.dumps(r.body["messages"]) for r in requests]


def test_budget_runs_out_then_resume_with_more_completes_without_repeating_calls(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    # Every answer reports 4000 completion tokens: about $0.0024 each for gpt-4o-mini.
    script_company(endpoint, usage=Usage(prompt_tokens=100, completion_tokens=4000))
    project = tmp_path / "wf"

    stopped = sopls(
        "startup",
        "a word-frequency CLI",
        "--investment",
        "0.0075",
        "--project-path",
        str(project),
        endpoint=endpoint,
        cwd=tmp_path,
    )

    assert stopped.returncode == 1
    assert "budget exceeded" in stopped.stderr
    assert "budget is spent" in stopped.stderr
    folder = run_folder(project)
    stored = json.loads((folder / "run.json").read_text())
    assert stored["status"] == "budget_exceeded"
    assert stored["cost"]["usd"] <= 0.0075
    assert (folder / "docs" / "prd.json").exists()  # finished documents are kept
    first = len(endpoint.chat_requests)
    assert 1 <= first <= 3  # as many as fit, each call's reserved answer counted first
    assert not (project / "main.py").exists()

    resumed = sopls(
        "startup",
        "--recover-path",
        str(folder),
        "--investment",
        "1.0",
        endpoint=endpoint,
        cwd=tmp_path,
    )

    assert resumed.returncode == 0, resumed.stderr
    assert (project / "main.py").exists()
    again = sent_messages(endpoint.chat_requests[first:])
    assert again  # the rest of the work was done ...
    assert not set(again) & set(sent_messages(endpoint.chat_requests[:first]))  # ... only once
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "completed"
    assert record["cost"]["calls"] == len(endpoint.chat_requests)


def test_a_run_killed_mid_way_resumes_to_completion(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint, delay=0.3)
    project = tmp_path / "wf"
    process = start_in_background(endpoint, tmp_path, project)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    folder = run_folder(project)
    finished_before = journaled_messages(folder)
    assert len(finished_before) >= 4
    sent_before = len(endpoint.chat_requests)

    resumed = sopls("startup", "--recover-path", str(folder), endpoint=endpoint, cwd=tmp_path)

    assert resumed.returncode == 0, resumed.stderr
    assert (project / "main.py").exists()
    assert not set(sent_messages(endpoint.chat_requests[sent_before:])) & set(finished_before)


def test_ctrl_c_cancels_keeps_the_state_and_resumes(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint, delay=0.3)
    project = tmp_path / "wf"
    process = start_in_background(endpoint, tmp_path, project)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    assert "--recover-path" in stderr
    folder = run_folder(project)
    assert json.loads((folder / "run.json").read_text())["status"] == "cancelled"

    resumed = sopls("startup", "--recover-path", str(folder), endpoint=endpoint, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert (project / "main.py").exists()


def test_serve_refuses_a_bad_tcp_address(endpoint: ScriptedEndpoint, tmp_path: Path) -> None:
    done = sopls("serve", "--tcp", "nowhere", endpoint=endpoint, cwd=tmp_path, timeout=30)
    assert done.returncode == 2
    assert "HOST:PORT" in done.stderr


def test_init_config_writes_the_file_once(endpoint: ScriptedEndpoint, tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    first = sopls("--init-config", endpoint=endpoint, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (home / ".sopls" / "config.yaml").is_file()
    again = sopls("--init-config", endpoint=endpoint, cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr
