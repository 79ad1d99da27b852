"""Hostile generated tests, run the way QA runs them: each attack fails inside the sandbox and
leaves no trace on the host. Real bubblewrap, real files, real processes, a real package index.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from company_script import script_company
from scripted_endpoint import ScriptedEndpoint
from test_sandbox import gone, running

from agents.edits.proposal import Proposal
from agents.execution.project_env import ensure_project_env
from agents.execution.resource_limits import SandboxLimits
from agents.execution.test_report import TestOutcome
from agents.execution.test_runner import run_project_tests

KEY = "sk-probe-secret-0d4c1e"
LIMITS = SandboxLimits(timeout=60.0)


@pytest.fixture(scope="module")
def envs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One package environment (pytest only) shared by the probes."""
    return tmp_path_factory.mktemp("envs")


@pytest.fixture
def real_home(home: Path) -> Path:
    """The user's HOME as an attacker sees it: a private key and sopls's config with a key."""
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text(f"-----BEGIN KEY-----\n{KEY}\n")
    (home / ".sopls").mkdir()
    (home / ".sopls" / "config.yaml").write_text(f"llm:\n  api_key: {KEY}\n")
    return home


async def run_hostile(test: str, envs_root: Path, base: Path | None = None) -> TestOutcome:
    proposal = Proposal()
    proposal.put("tests/test_probe.py", test)
    report = await run_project_tests(proposal, [], base, limits=LIMITS, envs_root=envs_root)
    assert report.after.containment == "bubblewrap", report.summary()
    return report.after


async def test_home_secrets_cannot_be_read(envs_root: Path, real_home: Path) -> None:
    secrets = [str(real_home / ".ssh" / "id_rsa"), str(real_home / ".sopls" / "config.yaml")]
    test = f"""
from pathlib import Path
def test_steal():
    for path in {secrets!r}:
        print(Path(path).read_text())
"""
    report = await run_hostile(test, envs_root)
    assert not report.passed
    assert "FileNotFoundError" in report.output
    assert KEY not in report.output


async def test_nothing_outside_the_copy_can_be_written(envs_root: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".sopls").mkdir(parents=True)
    outside = [Path(f"/tmp/sopls-probe-{uuid.uuid4().hex}"), project / ".sopls" / "planted"]
    test = f"""
from pathlib import Path
def test_write_outside():
    failures = []
    for path in {[str(p) for p in outside]!r}:
        try:
            Path(path).write_text("planted")
        except OSError as exc:
            failures.append(exc)
    assert not failures, failures
"""
    report = await run_hostile(test, envs_root, base=project)
    assert not report.passed
    assert "FileNotFoundError" in report.output
    assert [path for path in outside if await asyncio.to_thread(path.exists)] == []
    assert await asyncio.to_thread(os.listdir, project / ".sopls") == []


async def test_a_pth_file_cannot_be_planted_and_never_runs_on_the_host(
    envs_root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pth-ran"
    payload = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n"
    test = f"""
import sysconfig
from pathlib import Path
def test_plant():
    Path(sysconfig.get_paths()["purelib"], "evil.pth").write_text({payload!r})
"""
    report = await run_hostile(test, envs_root)
    assert not report.passed
    assert "Read-only file system" in report.output
    env = await ensure_project_env([], root=envs_root)
    site = next((env.python.parent.parent / "lib").glob("python*/site-packages"))
    assert not (site / "evil.pth").exists()

    # Planted anyway (as by an older sopls): the next run reuses the environment without
    # running it on the host, and inside the sandbox the payload cannot reach the host path.
    (site / "evil.pth").write_text(payload)
    try:
        again = await run_hostile("def test_fine():\n    pass\n", envs_root)
        assert again.passed, again.output
    finally:
        (site / "evil.pth").unlink()
    assert not await asyncio.to_thread(marker.exists)


async def test_a_loopback_listener_on_the_host_is_unreachable(envs_root: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        port = server.getsockname()[1]
        test = f"""
import socket
def test_connect():
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
"""
        report = await run_hostile(test, envs_root)
        with pytest.raises(BlockingIOError):
            server.accept()
    assert not report.passed
    assert "test_connect" in report.output


async def test_no_process_outlives_the_run(envs_root: Path) -> None:
    marker = f"sopls-probe-bg-{uuid.uuid4().hex}"
    test = f"""
import os, subprocess, sys, time
def test_leave_processes_behind():
    sleep = [sys.executable, "-c", "import time; time.sleep(120)", {marker!r}]
    subprocess.Popen(sleep, start_new_session=True)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sleep[0], sleep)
        os._exit(0)
    time.sleep(0.5)
"""
    report = await run_hostile(test, envs_root)
    assert report.passed, report.output  # the test itself may do this; nothing may survive it
    assert await gone(marker)


async def test_500_forks_fail(envs_root: Path) -> None:
    marker = f"sopls-probe-fork-{uuid.uuid4().hex}"
    test = f"""
import os, sys, time
def test_fork_500_times():
    sys.argv.append({marker!r})
    started = 0
    try:
        for _ in range(500):
            if os.fork() == 0:
                time.sleep(10)
                os._exit(0)
            started += 1
    finally:
        print("started", started)
    assert started == 500
"""
    report = await run_hostile(test, envs_root)
    assert not report.passed
    assert "BlockingIOError" in report.output or "Resource temporarily unavailable" in report.output
    assert f"started {LIMITS.processes}" not in report.output
    assert await gone(marker)


async def test_three_gigabytes_in_children_fail(envs_root: Path) -> None:
    test = """
import subprocess, sys
CHILD = "import time; block = b'x' * 1_000_000_000; time.sleep(3)"
def test_allocate_three_gigabytes():
    children = [subprocess.Popen([sys.executable, "-c", CHILD]) for _ in range(3)]
    assert [child.wait() for child in children] == [0, 0, 0]
"""
    report = await run_hostile(test, envs_root)
    assert not report.passed
    assert "test_allocate_three_gigabytes" in report.output
    assert any("cgroup" in note for note in report.sandbox_notes)


CLI = [sys.executable, "-m", "server", "startup"]
HOSTILE_MAIN_TEST = """import os, subprocess, sys
from pathlib import Path


def test_attack():
    home = Path({home!r})
    stolen = [
        (home / ".ssh" / "id_rsa").read_text(errors="replace") if (home / ".ssh").exists() else "",
        (home / ".sopls" / "config.yaml").read_text() if (home / ".sopls").exists() else "",
    ]
    print("STOLEN", stolen)
    for target in ({outside!r}, {planted!r}):
        try:
            Path(target).write_text("planted")
        except OSError as exc:
            print("blocked", exc)
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", {marker!r}],
                     start_new_session=True)
    assert all(stolen)
"""


def test_a_hostile_test_through_the_cli_is_contained(
    endpoint: ScriptedEndpoint, tmp_path: Path, real_home: Path
) -> None:
    project = tmp_path / "wf"
    outside = f"/tmp/sopls-probe-cli-{uuid.uuid4().hex}"
    planted = str(project / ".sopls" / "planted-by-test")
    marker = f"sopls-probe-cli-{uuid.uuid4().hex}"
    hostile = HOSTILE_MAIN_TEST.format(
        home=str(real_home), outside=outside, planted=planted, marker=marker
    )
    endpoint.on(contains="Write `tests/test_main.py`").reply_text(
        f"Here is the file.\n```python tests/test_main.py\n{hostile}```\n"
    )
    endpoint.on(schema="DebugVerdict").reply_json(
        {"blame": "test", "fixes": [{"path": "tests/test_main.py", "debug_logs": "try again"}]}
    )
    script_company(endpoint)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SOPLS_"))}
    env |= {"OPENAI_BASE_URL": endpoint.base_url, "OPENAI_API_KEY": "sk-cli-key"}
    done = subprocess.run(
        [*CLI, "a word-frequency CLI", "--run-tests", "--project-path", str(project)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (project / "docs" / "test_report.md").exists(), done.stderr
    report = (project / "docs" / "test_report.md").read_text()
    assert "**Sandbox:** bubblewrap" in report
    assert "**Result:** failed" in report
    assert KEY not in report + done.stdout + done.stderr
    assert not Path(outside).exists()
    assert not Path(planted).exists()
    assert not running(marker)
    assert (real_home / ".ssh" / "id_rsa").read_text() == f"-----BEGIN KEY-----\n{KEY}\n"


async def test_a_tool_installed_in_home_is_seen_without_its_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tool in `~/.cargo/bin` runs, but `~/.cargo/credentials.toml` beside it stays hidden."""
    from agents.execution.probe import containment
    from agents.execution.sandbox import run_sandboxed

    if (await containment())[0] != "bubblewrap":
        pytest.skip("bubblewrap cannot run here")
    home = tmp_path / "home"
    tool = home / ".cargo" / "bin" / "probe"
    tool.parent.mkdir(parents=True)
    secret = home / ".cargo" / "credentials.toml"
    secret.write_text('[registry]\ntoken = "secret"\n')
    tool.write_text(f"#!/bin/sh\ntest -e {secret} && echo visible || echo hidden\n")
    tool.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()

    result = await run_sandboxed(work, [str(tool)])

    assert result.stdout.strip() == "hidden", result.stderr
