"""The run's workspace: reads through the proposal, proposes against the disk, one index."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.company.workspace import Workspace
from agents.edits.paths import UnsafePathError
from server.workspace_index import WorkspaceIndex

GAME = "def move(board, step):\n    return board.shift(step)\n\n\ndef score(board):\n    return 1\n"


def _repository(root: Path) -> Path:
    (root / "game").mkdir(parents=True)
    (root / "game" / "rules.py").write_text(GAME)
    (root / "pyproject.toml").write_text('[project]\nname = "game"\n[tool.pytest.ini_options]\n')
    return root


def test_a_new_project_has_nothing_on_disk_and_no_index() -> None:
    workspace = Workspace()
    workspace.propose("game.py", "print('hi')\n", role="Engineer")

    assert not workspace.is_repository
    assert workspace.on_disk("game.py") is None
    assert workspace.read("game.py") == "print('hi')\n"
    assert workspace.proposal.get("game.py").before is None
    assert workspace.test_command() is None
    with pytest.raises(ValueError, match="no repository"):
        _ = workspace.index


def test_reads_see_the_proposal_over_the_disk_and_changes_keep_the_disk_text(
    tmp_path: Path,
) -> None:
    root = _repository(tmp_path)
    workspace = Workspace(root)

    assert workspace.read("game/rules.py") == GAME
    workspace.propose("game/rules.py", "def move():\n    pass\n", role="Engineer")
    assert workspace.read("game/rules.py") == "def move():\n    pass\n"
    assert workspace.on_disk("game/rules.py") == GAME
    assert workspace.proposal.get("game/rules.py").before == GAME
    assert (root / "game" / "rules.py").read_text() == GAME  # nothing is written


def test_reads_stay_inside_the_repository(tmp_path: Path) -> None:
    root = _repository(tmp_path / "repo")
    (tmp_path / "secret.txt").write_text("key")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    workspace = Workspace(root)

    assert workspace.on_disk("../secret.txt") is None
    assert workspace.read("link.txt") is None
    with pytest.raises(UnsafePathError):
        workspace.read("../secret.txt")


def test_a_withdrawn_file_is_proposed_no_more(tmp_path: Path) -> None:
    workspace = Workspace(_repository(tmp_path))
    workspace.propose("tests/test_bug.py", "def test_x():\n    assert True\n", role="QA")
    workspace.withdraw("tests/test_bug.py", role="QA")

    assert workspace.read("tests/test_bug.py") is None


def test_the_test_command_comes_from_the_repository_unless_the_settings_name_one(
    tmp_path: Path,
) -> None:
    root = _repository(tmp_path)

    assert Workspace(root).test_command().kind == "pytest"
    override = Workspace(root, test_command_setting="make check").test_command()
    assert override.argv == ["make", "check"]


async def test_the_run_opens_one_index_and_closes_it(tmp_path: Path) -> None:
    workspace = Workspace(_repository(tmp_path))

    assert workspace.index is workspace.index
    legacy = await workspace.legacy_code("scoring of the board", [], 512)
    overview = await workspace.overview("scoring of the board", 512)
    workspace.close()

    assert "score" in legacy
    assert overview.startswith("1 source files; folders: game")


async def test_a_shared_index_is_used_and_left_open_for_its_owner(tmp_path: Path) -> None:
    root = _repository(tmp_path)
    shared = WorkspaceIndex(root)
    workspace = Workspace(root)
    workspace.use_index(shared)
    try:
        assert workspace.index is shared
        assert "move" in await workspace.legacy_code("moving on the board", [], 512)
        workspace.close()
        text, stats = await shared.repo_map("moving on the board", [], 512)
        assert "move" in text
        assert stats["files"] == 1
    finally:
        shared.close()
