"""`sopls.repoMap` over `sopls serve`: ranking, budget, focus, fresh after saves, a free loop."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from lsp_session import EditorClient, editor_session, execute
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from repo_index.index import RepoIndex
from repo_index.tokens import estimate_tokens
from server.workspace_index import WorkspaceIndex, relative_path

CONFIG = '''"""Reading the configuration."""

import json


def parse_config(text: str) -> dict:
    """Parse the configuration text."""
    return json.loads(text)


def default_config() -> dict:
    return {"debug": False}
'''

APP = """from config import parse_config


def start(path: str) -> dict:
    with open(path) as handle:
        return parse_config(handle.read())
"""

CLI = """from app import start
from config import parse_config


def main() -> None:
    print(start("settings.json"), parse_config("{}"))
"""

REPORT = """class Report:
    def render(self) -> str:
        return "report"
"""

HEADER = re.compile(r"^([\w./-]+\.py):$", re.MULTILINE)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {"config.py": CONFIG, "app.py": APP, "cli.py": CLI, "report.py": REPORT},
    )


def watch_registrations(client: EditorClient) -> list[types.RegistrationParams]:
    registrations: list[types.RegistrationParams] = []

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registrations.append(params)

    return registrations


def save(client: EditorClient, path: Path) -> None:
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )


async def test_map_ranks_the_definer_first_within_the_budget(repo: Path) -> None:
    async with editor_session(repo) as client:
        registrations = watch_registrations(client)
        result = await execute(
            client, "sopls.repoMap", {"budget": 200, "requirement": "make parse_config faster"}
        )

        shown = HEADER.findall(result["map"])
        assert shown[0] == "config.py"
        assert "def parse_config" in result["map"]
        assert estimate_tokens(result["map"]) <= 200
        stats = result["stats"]
        assert stats["files"] == 4
        assert stats["languages"] == {"python": 4}
        assert stats["definitions"] >= 4
        assert {"references", "parsed", "cacheHits", "seconds"} <= set(stats)

        (registration,) = registrations[0].registrations
        assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        assert "py" in str(registration.register_options)


async def test_focus_by_uri_shows_the_file_in_full(repo: Path) -> None:
    async with editor_session(repo) as client:
        result = await execute(client, "sopls.repoMap", {"focus": [(repo / "cli.py").as_uri()]})
        assert f"```cli.py\n{CLI.rstrip()}\n```" in result["map"]

        with pytest.raises(JsonRpcException) as outside:
            await execute(client, "sopls.repoMap", {"focus": ["../elsewhere.py"]})
        assert outside.value.code == -32602
        assert "focus" in str(outside.value)


async def test_a_saved_edit_is_in_the_next_map(repo: Path) -> None:
    async with editor_session(repo) as client:
        before = await execute(client, "sopls.repoMap", {"budget": 2000})
        assert "reload_config" not in before["map"]

        (repo / "app.py").write_text(APP + "\n\ndef reload_config() -> dict:\n    return {}\n")
        save(client, repo / "app.py")
        right_away = await execute(client, "sopls.repoMap", {"budget": 2000})
        assert "def reload_config" in right_away["map"]

        (repo / "report.py").write_text(
            REPORT + "\n\ndef summarize_report() -> str:\n    return ''\n"
        )
        for _ in range(3):
            save(client, repo / "report.py")
        await asyncio.sleep(1)  # past the debounce: the save alone re-indexed the file
        after = await execute(client, "sopls.repoMap", {"budget": 2000})
        assert "def summarize_report" in after["map"]
        assert after["stats"]["parsed"] == 0

        (repo / "extra.py").write_text("def extra_step() -> None:\n    pass\n")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(
                        uri=(repo / "extra.py").as_uri(), type=types.FileChangeType.Created
                    )
                ]
            )
        )
        await asyncio.sleep(1)
        watched = await execute(client, "sopls.repoMap", {"budget": 2000})
        assert "def extra_step" in watched["map"]
        assert watched["stats"]["files"] == 5
        assert watched["stats"]["parsed"] == 0


@pytest.mark.parametrize("budget", [0, "x"])
async def test_a_bad_budget_is_invalid_params(repo: Path, budget: Any) -> None:
    async with editor_session(repo) as client:
        with pytest.raises(JsonRpcException) as bad:
            await execute(client, "sopls.repoMap", {"budget": budget})
        assert bad.value.code == -32602
        assert "budget" in str(bad.value)


def generated_module(number: int) -> str:
    """A class that calls into five other modules, and eight small functions."""
    lines = [
        f"class Worker{number}:",
        "    def work(self, value: int) -> int:",
        "        total = 0",
    ]
    lines += [f"        total += helper_{(number + k) % 200}_0(value)" for k in range(1, 6)]
    lines.append("        return total")
    for k in range(8):
        lines += ["", "", f"def helper_{number}_{k}(value: int) -> int:"]
        lines.append(f"    return value * {k} + {number}")
    return "\n".join(lines) + "\n"


async def test_the_loop_answers_while_a_map_is_computed(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "big", {f"pkg/module_{n}.py": generated_module(n) for n in range(200)}
    )
    async with editor_session(root) as client:
        mapping = asyncio.ensure_future(
            execute(client, "sopls.repoMap", {"requirement": "speed up helper_7_0"})
        )
        await asyncio.sleep(0.05)
        asked = time.monotonic()
        assert await execute(client, "sopls.listRuns", {}) == []
        answered = time.monotonic() - asked
        assert not mapping.done()  # the answer did not wait for the map
        result = await mapping
        assert answered < 0.5
        assert result["stats"]["files"] == 200


async def test_events_for_one_file_within_the_window_make_one_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates: list[list[str]] = []
    update = RepoIndex.update

    def recording(self: RepoIndex, paths: Iterable[str]) -> None:
        updates.append(list(paths))
        update(self, updates[-1])

    monkeypatch.setattr(RepoIndex, "update", recording)
    index = WorkspaceIndex(make_repo(tmp_path / "repo", {"config.py": CONFIG, "app.py": APP}))
    try:
        index.schedule_update("app.py")
        await asyncio.sleep(0.6)
        assert updates == []  # nothing indexed yet, so nothing to update

        await index.repo_map("", [], 100)
        for _ in range(5):
            index.schedule_update("app.py")
            await asyncio.sleep(0.02)
        index.schedule_update("config.py")
        index.schedule_update(".sopls/index.db")
        await asyncio.sleep(0.6)
        assert sorted(path for batch in updates for path in batch) == ["app.py", "config.py"]
    finally:
        index.close()


def test_relative_paths_stay_inside_the_workspace(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    assert relative_path(root, (root / "pkg" / "a.py").as_uri()) == "pkg/a.py"
    assert relative_path(root, "pkg/../b.py") == "b.py"
    assert relative_path(root, str(root / "c.py")) == "c.py"
    assert relative_path(root, "../d.py") is None
    assert relative_path(root, "untitled:Untitled-1") is None
    assert relative_path(root, tmp_path.parent.as_uri() + "/e.py") is None
