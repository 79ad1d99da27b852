"""Which workspace files get indexed, in real git repositories and in plain folders."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest

from repo_index.files import MAX_FILE_BYTES, SourceFile, discover, read_source

SOURCE = b"def main() -> None:\n    print('hello')\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _write(root: Path, rel: str, data: bytes = SOURCE) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git repository with a local identity, cut off from any enclosing repository."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    _git(root, "config", "user.name", "Test")
    _git(root, "config", "user.email", "test@example.com")
    return root


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plain folder that no git repository contains."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "plain"
    root.mkdir()
    return root


def _commit_all(repo: Path) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "files")


def _paths(root: Path) -> list[str]:
    return [file.path for file in discover(root)]


def test_git_lists_tracked_and_untracked_but_not_ignored(repo: Path) -> None:
    _write(repo, ".gitignore", b"ignored.py\ngenerated/\n")
    _write(repo, "app/main.py")
    _write(repo, "app/util.ts", b"export const x = 1;\n")
    _write(repo, "README.md", b"# not source\n")
    _commit_all(repo)
    _write(repo, "app/new.js", b"export function f() {}\n")
    _write(repo, "ignored.py")
    _write(repo, "generated/out.py")

    assert _paths(repo) == ["app/main.py", "app/new.js", "app/util.ts"]


def test_git_skips_vendored_and_hidden_folders_even_when_tracked(repo: Path) -> None:
    _write(repo, "src/a.py")
    _write(repo, "vendor/lib.py")
    _write(repo, "web/vendor/jquery.js", b"var x;\n")
    _write(repo, "third_party/dep/mod.py")
    _write(repo, ".github/scripts/release.py")
    _commit_all(repo)
    _write(repo, "node_modules/x.js", b"module.exports = 1;\n")
    _write(repo, "web/node_modules/pkg/index.js", b"module.exports = 1;\n")

    assert _paths(repo) == ["src/a.py"]


def test_git_skips_deleted_tracked_files(repo: Path) -> None:
    _write(repo, "keep.py")
    gone = _write(repo, "gone.py")
    _commit_all(repo)
    gone.unlink()

    assert _paths(repo) == ["keep.py"]


def test_files_over_the_size_limit_are_skipped_without_reading(repo: Path) -> None:
    _write(repo, "small.py")
    _write(repo, "huge.py", b"x = 1\n" * (MAX_FILE_BYTES // 6 + 10))
    _commit_all(repo)

    assert _paths(repo) == ["small.py"]


def test_stat_figures_are_recorded(repo: Path) -> None:
    path = _write(repo, "m.py")
    _commit_all(repo)
    info = path.stat()

    assert discover(repo) == [SourceFile("m.py", info.st_size, info.st_mtime_ns)]


def test_subfolder_of_a_repository_lists_paths_relative_to_itself(repo: Path) -> None:
    _write(repo, "pkg/core.py")
    _write(repo, "other.py")
    _commit_all(repo)

    assert _paths(repo / "pkg") == ["core.py"]


def test_plain_folder_is_walked_with_the_usual_ignores(folder: Path) -> None:
    for rel in (
        "src/app.py",
        "src/view.tsx",
        "src/sub/secret.py",
        "notes.txt",
        "node_modules/x.js",
        "vendor/y.py",
        ".venv/lib/z.py",
        "venv/z.py",
        "pkg/__pycache__/m.py",
        "build/gen.py",
        "dist/bundle.js",
        ".hidden/h.py",
        "site-packages/s.py",
        "out/report.py",
        "lib/schema.gen.py",
        "secret.py",
        "docs/private.py",
        "docs/public.py",
    ):
        _write(folder, rel)
    _write(folder, ".gitignore", b"# generated\n*.gen.py\nout/\n/secret.py\ndocs/private.py\n\n")

    assert _paths(folder) == ["docs/public.py", "src/app.py", "src/sub/secret.py", "src/view.tsx"]


def test_plain_folder_honours_directory_only_patterns(folder: Path) -> None:
    _write(folder, "logs/today.py")
    _write(folder, "logs.py")
    _write(folder, ".gitignore", b"logs/\nlogs.py/\n")

    assert _paths(folder) == ["logs.py"]


def test_missing_folder_gives_nothing_even_from_inside_a_repository(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(repo, "a.py")
    _commit_all(repo)
    monkeypatch.chdir(repo)

    assert discover(tmp_path / "missing") == []


def _source_file(root: Path, rel: str) -> SourceFile:
    info = (root / rel).stat()
    return SourceFile(rel, info.st_size, info.st_mtime_ns)


def test_read_source_returns_ordinary_source(folder: Path) -> None:
    _write(folder, "a.py")

    assert read_source(folder, _source_file(folder, "a.py")) == SOURCE


def test_binary_file_with_a_known_extension_is_discovered_but_not_read(repo: Path) -> None:
    _write(repo, "blob.py", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 4)
    _commit_all(repo)

    [file] = discover(repo)
    assert read_source(repo, file) is None


def test_minified_file_is_not_read(repo: Path) -> None:
    minified = b"!function(){" + b"var a=1,b=2;" * 500 + b"}();\n"
    _write(repo, "app.min.js", minified)
    _commit_all(repo)

    [file] = discover(repo)
    assert read_source(repo, file) is None


def test_long_lines_on_average_count_as_generated(folder: Path) -> None:
    line = b"x = [" + b"1, " * 150 + b"]\n"
    _write(folder, "table.py", line * 20)

    assert read_source(folder, _source_file(folder, "table.py")) is None


def test_non_ascii_source_is_measured_in_characters(folder: Path) -> None:
    line = ("s = '" + "é" * 900 + "'\n").encode()
    _write(folder, "accents.py", line * 3 + b"x = 1\n" * 40)

    assert read_source(folder, _source_file(folder, "accents.py")) is not None


def test_vanished_file_returns_none_with_a_note(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(folder, "a.py")
    file = _source_file(folder, "a.py")
    path.unlink()

    with caplog.at_level(logging.WARNING, logger="repo_index.files"):
        assert read_source(folder, file) is None
    assert "a.py" in caplog.text


def test_unreadable_file_returns_none_with_a_note(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(folder, "locked.py")
    file = _source_file(folder, "locked.py")
    path.chmod(0)
    try:
        try:
            path.open("rb").close()
        except PermissionError:
            pass
        else:
            pytest.skip("this user (root, say) can read files with no permissions")
        with caplog.at_level(logging.WARNING, logger="repo_index.files"):
            assert read_source(folder, file) is None
        assert "locked.py" in caplog.text
    finally:
        os.chmod(path, 0o644)


def _links(root: Path, outside: Path) -> None:
    """A file outside the root, linked from inside, next to an inside link and a real file."""
    _write(outside, "secret.py", b"def private_key() -> str:\n    return 'sk-123'\n")
    _write(root, "real.py")
    (root / "leak.py").symlink_to(outside / "secret.py")
    (root / "alias.py").symlink_to(root / "real.py")
    (root / "pkg").symlink_to(outside, target_is_directory=True)


@pytest.mark.parametrize("kind", ["repo", "folder"])
def test_symlinks_are_never_followed(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    root: Path = request.getfixturevalue(kind)
    _links(root, tmp_path / "outside")
    if kind == "repo":
        _commit_all(root)

    assert _paths(root) == ["real.py"]


def test_a_file_replaced_by_a_symlink_after_discovery_is_not_read(
    folder: Path, tmp_path: Path
) -> None:
    _write(folder, "a.py")
    (found,) = discover(folder)
    (folder / "a.py").unlink()
    (folder / "a.py").symlink_to(_write(tmp_path, "secret.py", b"KEY = 'sk-123'\n"))

    assert read_source(folder, found) is None
