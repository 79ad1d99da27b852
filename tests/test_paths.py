"""Path safety: what a proposal may name, and what it may never reach."""

from pathlib import Path

import pytest

from agents.errors import SoplsError
from agents.paths import UnsafePathError, safe_relative_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("main.py", "main.py"),
        ("src/app/main.py", "src/app/main.py"),
        ("./src//app/./main.py", "src/app/main.py"),
        ("src\\app\\main.py", "src/app/main.py"),
        ("docs/", "docs"),
        ("a/.gitignore", "a/.gitignore"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
        ("my.git/x", "my.git/x"),
        ("a..b/c", "a..b/c"),
        ("dir/file~", "dir/file~"),
    ],
)
def test_good_paths_are_normalised(raw: str, expected: str) -> None:
    assert safe_relative_path(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/etc/passwd", "absolute"),
        ("C:\\Windows\\x", "drive letter"),
        ("c:/x", "drive letter"),
        ("\\\\server\\share\\x", "absolute"),
        ("~/x", "~"),
        ("../x", "'..'"),
        ("a/../b", "'..'"),
        ("a\\..\\..\\b", "'..'"),
        (".git/config", ".git"),
        (".GIT/config", ".git"),
        ("sub/.git/hooks/pre-commit", ".git"),
        ("sub/.Git", ".git"),
        (".git./config", ".git"),
        ("a\0b", "NUL"),
        ("{ 'file' }',\n    ", "control character"),
        ("src/a\tb.py", "control character"),
        ("./", "root folder"),
    ],
)
def test_bad_paths_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(UnsafePathError) as caught:
        safe_relative_path(raw)
    message = str(caught.value)
    assert reason in message
    assert repr(raw) in message
    assert "relative to the project root" in message
    assert isinstance(caught.value, SoplsError)


def test_inside_root_is_accepted(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    (root / "alias").symlink_to(root / "src")
    assert safe_relative_path("src/new/file.py", root) == "src/new/file.py"
    assert safe_relative_path("alias/file.py", root) == "alias/file.py"
    assert safe_relative_path("not/yet/there.txt", tmp_path / "missing-root") == (
        "not/yet/there.txt"
    )


def test_symlinked_folder_leaving_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    assert safe_relative_path("escape/file.txt") == "escape/file.txt"
    with pytest.raises(UnsafePathError, match="outside"):
        safe_relative_path("escape/file.txt", root)
    with pytest.raises(UnsafePathError, match="outside"):
        safe_relative_path("escape/deeper/new.txt", root)


def test_symlinked_file_leaving_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("keep out")
    (root / "link.txt").symlink_to(secret)
    (root / "dangling.txt").symlink_to(tmp_path / "not-created-yet.txt")
    with pytest.raises(UnsafePathError, match="outside"):
        safe_relative_path("link.txt", root)
    with pytest.raises(UnsafePathError, match="outside"):
        safe_relative_path("dangling.txt", root)


def test_symlinked_root_itself_is_fine(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    alias = tmp_path / "alias"
    alias.symlink_to(real, target_is_directory=True)
    assert safe_relative_path("a/b.txt", alias) == "a/b.txt"


def test_symlink_back_to_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "self").symlink_to(root, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="root folder"):
        safe_relative_path("self", root)
