"""Nothing paid is stranded, and no input breaks a run: the real CLI against the scripted endpoint.

Every refusal that needs no model is made before the first call (the endpoint sees nothing), a
finished run that could not be written is written later without paying again, bad input gives
one plain line, and model text or paths are never read as Rich markup.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from company_script import DESIGN, PRD, TASKS, fenced, script_company
from scripted_endpoint import ScriptedEndpoint, schema_names
from test_startup import SOPLS, cli_env, run_folder, sopls

from agents.runs.run_state import RunFolder, RunOptions


def refused_before_any_call(
    done: subprocess.CompletedProcess[str], endpoint: ScriptedEndpoint, *needles: str
) -> None:
    """Exit 2, one plain line naming the problem, and not one request sent."""
    assert done.returncode == 2, done.stderr
    assert endpoint.requests == []
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for needle in needles:
        assert needle in done.stderr


def start(endpoint: ScriptedEndpoint, cwd: Path, *args: str) -> subprocess.Popen[str]:
    """`sopls startup` in the background, once its first call has reached the endpoint."""
    process = subprocess.Popen(
        [*SOPLS, "startup", "a word-frequency CLI", *args],
        cwd=cwd,
        env=cli_env(endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not endpoint.chat_requests:
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError(f"the run did not get going: {process.communicate()}")
        time.sleep(0.05)
    return process


def test_a_non_empty_project_path_is_refused_before_any_call(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    project = tmp_path / "busy"
    project.mkdir()
    (project / "notes.txt").write_text("mine")

    done = sopls(
        "startup", "an app", "--project-path", str(project), endpoint=endpoint, cwd=tmp_path
    )

    refused_before_any_call(done, endpoint, "not empty", "notes.txt", "--project-path")
    assert [entry.name for entry in project.iterdir()] == ["notes.txt"]


def test_the_file_system_root_is_refused_before_any_call(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    had_sopls = Path("/.sopls").exists()

    done = sopls("startup", "an app", "--project-path", "/", endpoint=endpoint, cwd=tmp_path)

    refused_before_any_call(done, endpoint, "The folder / is not empty")
    assert Path("/.sopls").exists() == had_sopls


def test_a_folder_that_cannot_be_created_is_refused_before_any_call(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)

    done = sopls(
        "startup", "an app", "--project-path", "/proc/1/x", endpoint=endpoint, cwd=tmp_path
    )

    refused_before_any_call(done, endpoint, "Cannot write to /proc/1/x")


@pytest.mark.parametrize("name", ["Word Freq", "word-freq", "1st_app", "a" * 300])
def test_an_invalid_project_name_is_refused_before_any_call(
    endpoint: ScriptedEndpoint, tmp_path: Path, name: str
) -> None:
    script_company(endpoint)

    done = sopls("startup", "an app", "--project-name", name, endpoint=endpoint, cwd=tmp_path)

    refused_before_any_call(done, endpoint, "--project-name", "snake_case")
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]  # no workspace, no run folder


@pytest.mark.parametrize("investment", ["nan", "inf", "-1"])
def test_an_investment_that_is_not_a_finite_amount_is_refused_before_any_call(
    endpoint: ScriptedEndpoint, tmp_path: Path, investment: str
) -> None:
    script_company(endpoint)
    project = tmp_path / "wf"

    done = sopls(
        "startup",
        "an app",
        "--investment",
        investment,
        "--project-path",
        str(project),
        endpoint=endpoint,
        cwd=tmp_path,
    )

    refused_before_any_call(done, endpoint, "--investment")
    assert not project.exists()


@pytest.mark.parametrize("investment", ["nan", "inf", "-1"])
def test_a_resume_with_a_bad_investment_is_refused_and_saves_nothing(
    endpoint: ScriptedEndpoint, tmp_path: Path, investment: str
) -> None:
    script_company(endpoint)
    project = tmp_path / "wf"
    stopped = sopls(  # an investment of 0 stops the run before its first call
        "startup", "an app", "--investment", "0", "--project-path", str(project),
        endpoint=endpoint, cwd=tmp_path,
    )  # fmt: skip
    assert stopped.returncode == 1, stopped.stderr
    assert endpoint.requests == []
    folder = run_folder(project)
    stored = (folder / "run.json").read_bytes()

    done = sopls(
        "startup",
        "--recover-path",
        str(folder),
        "--investment",
        investment,
        endpoint=endpoint,
        cwd=tmp_path,
    )

    refused_before_any_call(done, endpoint, "--investment")
    assert (folder / "run.json").read_bytes() == stored
    assert RunFolder.open(folder)[1].status == "budget_exceeded"


def test_a_second_run_at_the_same_project_path_is_refused_at_once(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on(schema="PRD").hang(60)
    project = tmp_path / "wf"
    first = start(endpoint, tmp_path, "--project-path", str(project))
    try:
        (first_id,) = [p.name for p in (project / ".sopls" / "runs").iterdir()]

        second = sopls(
            "startup",
            "another app",
            "--project-path",
            str(project),
            endpoint=endpoint,
            cwd=tmp_path,
        )

        assert second.returncode == 2, second.stderr
        assert f"run {first_id} (pid {first.pid}) is already running in {project}" in second.stderr
        assert len(endpoint.chat_requests) == 1  # the first run's call only
        assert [p.name for p in (project / ".sopls" / "runs").iterdir()] == [first_id]
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()

    # The killed run's lock went with it: the same place is free again at once.
    again = sopls(
        "startup", "an app", "--investment", "0", "--project-path", str(project),
        endpoint=endpoint, cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 1, again.stderr
    assert "budget exceeded" in again.stderr


@pytest.mark.parametrize("second_args", [(), ("--project-name", "other_app")])
def test_a_second_run_in_the_default_workspace_is_refused_while_the_first_has_no_name(
    endpoint: ScriptedEndpoint, tmp_path: Path, second_args: tuple[str, ...]
) -> None:
    endpoint.on(schema="PRD").hang(60)
    first = start(endpoint, tmp_path)
    try:
        second = sopls("startup", "another app", *second_args, endpoint=endpoint, cwd=tmp_path)

        assert second.returncode == 2, second.stderr
        assert f"(pid {first.pid}) is already running in {tmp_path / 'workspace'}" in second.stderr
        assert len(endpoint.chat_requests) == 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()


def test_a_prd_naming_a_taken_folder_gets_the_next_free_name(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    taken = tmp_path / "workspace" / PRD["project_name"]
    taken.mkdir(parents=True)
    (taken / "keep.txt").write_text("someone else's")

    done = sopls("startup", "a word-frequency CLI", endpoint=endpoint, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert f"The folder {PRD['project_name']} is taken" in done.stderr
    assert [entry.name for entry in taken.iterdir()] == ["keep.txt"]
    assert (tmp_path / "workspace" / f"{PRD['project_name']}_2" / "main.py").exists()


def test_a_prd_naming_a_folder_that_cannot_be_made_stops_the_run_before_the_next_call(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on(schema="PRD").reply_json({**PRD, "project_name": "w" * 300})
    script_company(endpoint)

    stopped = sopls("startup", "a word-frequency CLI", endpoint=endpoint, cwd=tmp_path)

    assert stopped.returncode == 1, stopped.stderr
    assert "Cannot write to" in stopped.stderr
    assert "--project-path" in stopped.stderr
    assert [schema_names(r.body) for r in endpoint.chat_requests] == [{"PRD"}]
    folder = run_folder(tmp_path / "workspace")

    elsewhere = tmp_path / "wf"
    moved = sopls(
        "startup",
        "--recover-path",
        str(folder),
        "--project-path",
        str(elsewhere),
        endpoint=endpoint,
        cwd=tmp_path,
    )

    assert moved.returncode == 0, moved.stderr
    assert (elsewhere / "main.py").exists()
    assert not any("PRD" in schema_names(r.body) for r in endpoint.chat_requests[1:])
    assert RunFolder.open(folder)[1].status == "completed"


def test_a_finished_run_that_could_not_be_written_is_written_by_recover_paying_nothing(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint, delay=0.2)
    project = tmp_path / "wf"
    process = start(endpoint, tmp_path, "--project-path", str(project))
    (project / "notes.txt").write_text("put here while the run goes on")
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 1, stderr
    assert "The project was not written" in stderr
    assert "notes.txt" in stderr
    assert "Traceback" not in stderr
    folder = run_folder(project)
    assert RunFolder.open(folder)[1].status == "unwritten"
    assert not (project / "main.py").exists()
    paid = len(endpoint.requests)

    (project / "notes.txt").unlink()
    written = sopls("startup", "--recover-path", str(folder), endpoint=endpoint, cwd=tmp_path)

    assert written.returncode == 0, written.stderr
    assert len(endpoint.requests) == paid
    assert (project / "main.py").exists()
    assert (project / ".git").is_dir()
    assert RunFolder.open(folder)[1].status == "completed"
    again = sopls("startup", "--recover-path", str(folder), endpoint=endpoint, cwd=tmp_path)
    assert again.returncode == 2
    assert "already completed" in again.stderr


def stored_run(tmp_path: Path) -> Path:
    folder, _ = RunFolder.create(tmp_path / "wf", RunOptions(idea="an app"))
    return folder.record_path


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
        pytest.param(lambda text: "{}", id="empty-object"),
        pytest.param(lambda text: '{"name": "left-pad", "version": "1.3.0"}', id="foreign"),
        pytest.param(lambda text: "\x00\xff garbage", id="not-json"),
        pytest.param(
            lambda text: text.replace('"investment": 3.0', '"investment": -1.0'),
            id="saved-bad-investment",
        ),
    ],
)
def test_a_broken_run_record_is_one_line_naming_the_file(
    endpoint: ScriptedEndpoint, tmp_path: Path, corrupt
) -> None:
    record = stored_run(tmp_path)
    record.write_text(corrupt(record.read_text()))

    done = sopls("startup", "--recover-path", str(record.parent), endpoint=endpoint, cwd=tmp_path)

    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert str(record) in done.stderr
    assert endpoint.requests == []


MARKUP_NAMES = ["a[/x].py", "[bold]x.py", "[local]"]


def test_file_names_that_look_like_rich_markup_are_printed_as_they_are(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on(schema="SystemDesign").reply_json(
        {**DESIGN, "file_list": [*DESIGN["file_list"], *MARKUP_NAMES]}
    )
    endpoint.on(schema="TaskList").reply_json(
        {**TASKS, "task_list": [*TASKS["task_list"], *MARKUP_NAMES]}
    )
    for name in MARKUP_NAMES:
        endpoint.on(contains=f"Write the complete file `{name}`").reply_text(
            fenced(name, "VALUE = 1\n")
        )
    script_company(endpoint)
    project = tmp_path / "wf"

    done = sopls(
        "startup",
        "a word-frequency CLI",
        "--no-code-review",
        "--project-path",
        str(project),
        endpoint=endpoint,
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for name in MARKUP_NAMES:
        assert f"Engineer · {name}" in done.stderr
        assert (project / name).read_text() == "VALUE = 1\n"


def test_an_error_naming_a_markup_like_path_is_printed_as_it_is(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    model = tmp_path / "[local]" / "[/x]" / "model.gguf"
    env = cli_env(endpoint) | {
        "SOPLS_LLM__PROVIDER": "local",
        "SOPLS_LLM__LOCAL_MODEL_PATH": str(model),
    }

    done = subprocess.run(
        [*SOPLS, "startup", "an app"], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert str(model) in done.stderr or "llama-cpp-python" in done.stderr
    assert "[local]" in done.stderr


def test_failing_tests_make_the_exit_code_1_and_the_project_is_still_written(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    failing = "def test_counts():\n    assert 1 == 2\n"
    endpoint.on(contains="Write `tests/test_wordfreq_counter.py`").reply_text(
        fenced("tests/test_wordfreq_counter.py", failing)
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
    report = project / "docs" / "test_report.md"
    assert f"QA's tests failed; the report is {report}" in done.stderr
    assert "**Result:** failed" in report.read_text()
    assert (project / "main.py").exists()
    assert RunFolder.open(run_folder(project))[1].test_verdict == "failed"


def test_the_lock_of_a_run_names_it_while_it_runs(tmp_path: Path) -> None:
    from agents.runs.run_lock import RunLock, RunLockedError

    held = RunLock.acquire(tmp_path, "run-1")
    try:
        with pytest.raises(RunLockedError, match=rf"run run-1 \(pid {os.getpid()}\)"):
            RunLock.acquire(tmp_path, "run-2", shared=True)
    finally:
        held.release()
    RunLock.acquire(tmp_path, "run-2", shared=True).release()
