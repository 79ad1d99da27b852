"""Writing a small tree of files for a test: a repository, a project, a fixture."""

from __future__ import annotations

import subprocess
from pathlib import Path


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write each relative path's text under `root`, making folders as needed; returns `root`."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def commit_tree(root: Path, files: dict[str, str]) -> Path:
    """Write the tree as a git repository with one commit of it; returns `root`."""
    write_tree(root, files)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "start"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
            cwd=root,
            check=True,
        )
    return root
