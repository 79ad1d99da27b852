"""The sandbox runs real subprocesses: limits, environment, network and cleanup are observed."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import pwd
import re
import shlex
import socket
import sys
import time
import uuid
from pathlib import Path

import pytest

from agents.edits.proposal import Proposal
from agents.execution import probe, resource_limits
from agents.execution.probe import network_isolation_available
from agents.execution.resource_limits import SandboxLimits
from agents.execution.sandbox import run_on_copy, run_sandboxed, sandbox_copy

PY = sys.executable
ALLOWED = {
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "TERM",
    "HOME",
    "TMPDIR",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "PWD",  # bubblewrap sets it to the working folder
}


def sleeper(marker: str) -> list[str]:
    """A command that sleeps for 30 s and carries `marker`, to be found in the process table."""
    return [PY, "-c", "import time; time.sleep(30)", marker]


def running(marker: str) -> list[int]:
    """Host pids of the live processes (zombies do not count) whose command line holds
    `marker`; pids seen inside a PID namespace differ, so processes are found by marker."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if marker.encode() not in (entry / "cmdline").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


async def gone(marker: str, within: float = 3.0) -> bool:
    """Whether every process carrying `marker` has ended within `within` seconds."""
    deadline = time.monotonic() + within
    while running(marker):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_exit_code_output_and_cwd(tmp_path: Path) -> None:
    script = "import os, sys; print(os.getcwd()); print('to err', file=sys.stderr); sys.exit(3)"
    result = await run_sandboxed(tmp_path, [PY, "-c", script])
    assert result.exit_code == 3
    assert not result.ok
    assert not result.timed_out
    assert result.stdout == f"{tmp_path}\n"
    assert result.stderr == "to err\n"
    assert result.command == [PY, "-c", script]

    passed = await run_sandboxed(tmp_path, [PY, "-c", "print('fine')"])
    assert passed.ok
    assert passed.stdout == "fine\n"


async def test_secrets_do_not_reach_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-sandbox-leak-check")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-sandbox-leak-check")
    monkeypatch.setenv("UNRELATED_SETTING", "host-only")
    script = "import json, os; print(json.dumps(dict(os.environ)))"
    result = await run_sandboxed(tmp_path, [PY, "-c", script], extra_env={"MY_FLAG": "1"})
    assert result.ok, result.stderr
    env = json.loads(result.stdout)
    assert set(env) <= ALLOWED | {"MY_FLAG"}
    assert env["MY_FLAG"] == "1"
    assert env["TERM"] == "dumb"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "leak-check" not in result.stdout
    assert "host-only" not in result.stdout


@pytest.mark.parametrize("name", ["API_KEY", "auth_token", "Db_Password", "client_secret"])
async def test_secret_looking_extra_env_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        await run_sandboxed(tmp_path, [PY, "-c", "pass"], extra_env={name: "x"})


async def test_home_and_tmpdir_are_private_and_start_empty(tmp_path: Path, home: Path) -> None:
    script = (
        "import os, pathlib, tempfile\n"
        "for folder in (os.environ['HOME'], tempfile.gettempdir()):\n"
        "    print(folder, sorted(os.listdir(folder)))\n"
        "    pathlib.Path(folder, 'written').write_text('x')\n"
    )
    first = await run_sandboxed(tmp_path, [PY, "-c", script])
    second = await run_sandboxed(tmp_path, [PY, "-c", script])
    assert first.ok, first.stderr
    assert first.stdout == second.stdout
    (home_line, home_seen), (tmp_line, tmp_seen) = (
        line.split(" ", 1) for line in first.stdout.splitlines()
    )
    assert home_seen == "[]"
    # /tmp holds nothing but the empty folders leading to what is mounted from there: the
    # working folder and, in a checkout under /tmp, the interpreter.
    mounted = {
        path.parts[2]
        for path in (tmp_path, Path(sys.prefix))
        if path.parts[1:2] == ("tmp",) and len(path.parts) > 2
    }
    assert set(ast.literal_eval(tmp_seen)) <= mounted
    assert home_line not in (str(home), pwd.getpwuid(os.getuid()).pw_dir)
    assert not (home / "written").exists()
    if first.containment == "bubblewrap":
        assert (home_line, tmp_line) == ("/home/sandbox", "/tmp")
        assert not await asyncio.to_thread(Path("/tmp/written").exists)


async def test_python_of_a_venv_goes_first_on_path(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(PY)
    script = "import os, shutil; print(os.environ['VIRTUAL_ENV']); print(shutil.which('python'))"
    result = await run_sandboxed(tmp_path, ["python", "-c", script], python=venv / "bin" / "python")
    assert result.ok, result.stderr
    assert result.stdout.splitlines() == [str(venv), str(venv / "bin" / "python")]


async def test_time_limit_kills_every_process(tmp_path: Path) -> None:
    marker = f"sopls-timeout-{uuid.uuid4().hex}"
    started = time.monotonic()
    result = await run_sandboxed(
        tmp_path,
        ["sh", "-c", f"{shlex.join(sleeper(marker))} & sleep 30"],
        limits=SandboxLimits(timeout=1.0),
    )
    elapsed = time.monotonic() - started
    assert result.timed_out
    assert result.exit_code is None
    assert not result.ok
    assert elapsed < 3.5
    assert 1.0 <= result.seconds < 3.5
    assert await gone(marker)


async def test_leftover_background_process_is_killed_when_the_command_ends(
    tmp_path: Path,
) -> None:
    marker = f"sopls-leftover-{uuid.uuid4().hex}"
    started = time.monotonic()
    result = await run_sandboxed(
        tmp_path,
        ["sh", "-c", f"{shlex.join(sleeper(marker))} & echo started"],
        limits=SandboxLimits(timeout=20.0),
    )
    assert time.monotonic() - started < 5.0
    assert result.ok
    assert result.stdout == "started\n"
    assert await gone(marker)


async def test_memory_limit_stops_a_large_allocation(tmp_path: Path) -> None:
    limits = SandboxLimits(memory_mb=256)
    script = "b = bytearray({size}); print('allocated')"
    large = await run_sandboxed(
        tmp_path, [PY, "-c", script.format(size=1_500_000_000)], limits=limits
    )
    assert large.exit_code != 0
    assert "MemoryError" in large.stderr
    assert "allocated" not in large.stdout

    small = await run_sandboxed(tmp_path, [PY, "-c", script.format(size=50_000_000)], limits=limits)
    assert small.ok, small.stderr
    assert small.stdout == "allocated\n"


async def test_network_is_isolated_when_the_os_allows(tmp_path: Path) -> None:
    if not await network_isolation_available():
        pytest.skip("`unshare -rn` does not work here, so the sandbox runs with the host network")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        script = (
            "import socket, sys\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
            "except OSError as exc:\n"
            "    print('blocked:', exc)\n"
            "    sys.exit(3)\n"
            "print('connected')\n"
        )
        result = await run_sandboxed(tmp_path, [PY, "-c", script])
    assert result.network_isolated
    assert result.exit_code == 3, result.stdout + result.stderr
    assert result.stdout.startswith("blocked:")


async def test_output_keeps_the_tail(tmp_path: Path) -> None:
    script = "print('x' * 100_000); print('== 3 passed in 0.1s ==')"
    result = await run_sandboxed(
        tmp_path, [PY, "-c", script], limits=SandboxLimits(output_limit=1000)
    )
    assert result.ok
    first, rest = result.stdout.split("\n", 1)
    match = re.fullmatch(r"\[… (\d+) characters cut …\]", first)
    assert match is not None, first
    full = "x" * 100_000 + "\n== 3 passed in 0.1s ==\n"
    assert rest == full[-1000:]
    assert int(match.group(1)) == len(full) - 1000
    assert rest.endswith("== 3 passed in 0.1s ==\n")


async def test_missing_command_gives_127(tmp_path: Path) -> None:
    result = await run_sandboxed(tmp_path, ["sopls-no-such-command-zzz", "--help"])
    assert result.exit_code == 127
    assert "not found" in result.stderr
    assert "sopls-no-such-command-zzz" in result.stderr
    assert not result.ok


async def test_cancellation_kills_the_process(tmp_path: Path) -> None:
    marker = f"sopls-cancel-{uuid.uuid4().hex}"
    task = asyncio.create_task(run_sandboxed(tmp_path, sleeper(marker)))
    async with asyncio.timeout(10):
        # Only the host's process table tells that the command is running, so poll it.
        while not running(marker):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await gone(marker)


def test_sandbox_copy_skips_vcs_caches_and_environments(tmp_path: Path) -> None:
    source = tmp_path / "game"
    for folder in (".git", ".sopls", ".venv", "node_modules", "src/__pycache__"):
        (source / folder).mkdir(parents=True)
        (source / folder / "junk").write_text("x")
    (source / "src" / "main.py").write_text("print('hi')\n")
    (source / "README.md").write_text("# game\n")
    root = sandbox_copy(source, tmp_path / "run")
    assert root == tmp_path / "run" / "game"
    copied = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert copied == ["README.md", "src", "src/main.py"]

    empty = sandbox_copy(None, tmp_path / "other")
    assert empty.is_dir()
    assert list(empty.iterdir()) == []


async def test_a_run_on_a_copy_sees_the_proposal_and_leaves_the_source_alone(
    tmp_path: Path,
) -> None:
    source = tmp_path / "repo"
    source.mkdir()
    (source / "app.py").write_text("VALUE = 1\n")
    proposal = Proposal()
    proposal.put("app.py", "VALUE = 2\n", before="VALUE = 1\n")
    proposal.put("extra.py", "NEW = True\n")
    show = [PY, "-c", "import app, extra, os; print(app.VALUE, extra.NEW, os.getcwd())"]

    run = await run_on_copy(source, proposal, show)

    assert run.result.ok, run.result.stderr
    value, new, cwd = run.result.stdout.split()
    assert (value, new, Path(cwd)) == ("2", "True", run.root)
    assert not run.root.exists()  # removed afterwards
    assert (source / "app.py").read_text() == "VALUE = 1\n"
    assert sorted(p.name for p in source.iterdir()) == ["app.py"]


async def test_bubblewrap_contains_here_and_a_cgroup_holds_the_tree(tmp_path: Path) -> None:
    result = await run_sandboxed(tmp_path, [PY, "-c", "print('fine')"])
    assert result.ok, result.stderr
    assert result.containment == "bubblewrap"
    assert result.network_isolated
    assert "A cgroup capped the whole tree's memory and processes." in result.notes


async def test_without_bubblewrap_it_falls_back_to_unshare_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(probe, "_BWRAP", "sopls-no-such-bwrap")
    monkeypatch.setattr(probe, "_containment", None)
    result = await run_sandboxed(tmp_path, [PY, "-c", "print('fine')"])
    assert result.ok, result.stderr
    assert result.containment == "unshare"
    assert result.network_isolated
    assert "bwrap is not installed" in result.notes[0]
    assert "install bubblewrap" in result.notes[0]
    assert "install bubblewrap" in caplog.text


async def test_without_a_cgroup_a_watchdog_bounds_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resource_limits, "_CGROUP_ROOT", tmp_path / "no-cgroup")
    children = (
        "import subprocess, sys\n"
        "child = \"import time; block = b'x' * 150_000_000; time.sleep(5)\"\n"
        "procs = [subprocess.Popen([sys.executable, '-c', child]) for _ in range(3)]\n"
        "print([p.wait() for p in procs])\n"
    )
    started = time.monotonic()
    result = await run_sandboxed(
        tmp_path, [PY, "-c", children], limits=SandboxLimits(memory_mb=300)
    )
    assert time.monotonic() - started < 4.5
    assert not result.ok
    assert any("a watchdog summed" in note for note in result.notes)
    assert any(note.startswith("The watchdog killed the run") for note in result.notes)
