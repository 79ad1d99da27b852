"""A folder that is not a git repository is filtered by its `.gitignore` files as git would."""

from __future__ import annotations

from pathlib import Path

import pytest
from file_tree import write_tree

from repo_index.files import discover


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plain folder that no git repository contains."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return tmp_path / "plain"


def _paths(root: Path) -> list[str]:
    return [file.path for file in discover(root)]


def test_a_negated_pattern_brings_a_file_back(folder: Path) -> None:
    write_tree(
        folder,
        {
            ".gitignore": "*_gen.py\n!keep_gen.py\n",
            "a_gen.py": "",
            "keep_gen.py": "",
            "lib/b_gen.py": "",
            "lib/keep_gen.py": "",
            "main.py": "",
        },
    )

    assert _paths(folder) == ["keep_gen.py", "lib/keep_gen.py", "main.py"]


def test_a_nested_gitignore_applies_relative_to_its_own_folder(folder: Path) -> None:
    write_tree(
        folder,
        {
            "app/.gitignore": "/local.py\ncache/\n",
            "app/local.py": "",
            "app/cache/c.py": "",
            "app/views/local.py": "",
            "local.py": "",
            "cache/top.py": "",
        },
    )

    assert _paths(folder) == ["app/views/local.py", "cache/top.py", "local.py"]


def test_a_deeper_gitignore_overrides_a_shallower_one(folder: Path) -> None:
    write_tree(
        folder,
        {
            ".gitignore": "*.js\n",
            "web/.gitignore": "!app.js\n",
            "web/app.js": "",
            "web/other.js": "",
            "app.js": "",
        },
    )

    assert _paths(folder) == ["web/app.js"]


def test_files_under_an_ignored_folder_stay_out_even_when_negated(folder: Path) -> None:
    write_tree(folder, {".gitignore": "out/\n!out/keep.py\n", "out/keep.py": "", "a.py": ""})

    assert _paths(folder) == ["a.py"]
