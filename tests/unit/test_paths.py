"""Path safety: what a proposal may name, and what it may never reach."""

from pathlib import Path

import pytest

from agents.company.documents import DOCUMENT_KINDS
from agents.company.roles.qa_engineer import REPORT_PATH
from agents.edits.paths import (
    NAME_MAX,
    PATH_MAX,
    UnsafePathError,
    proposal_path,
    safe_relative_path,
)
from agents.edits.proposal import Proposal
from agents.errors import SoplsError


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
        ("docs/api.json", "docs/api.json"),
        ("docs/prd/notes.md", "docs/prd/notes.md"),
        ("src/docs/prd.json", "src/docs/prd.json"),
        ("my.sopls/x", "my.sopls/x"),
        ("日本語/ファイル.py", "日本語/ファイル.py"),
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
        ("a\x85b.py", "control character"),
        ("a\u2028b.py", "control character"),
        ("./", "root folder"),
        ("invoice_\u202etxt.exe", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("a\u2066b.py", "U+2066"),
        ("a\u200fb.py", "U+200F"),
        ("a\u061cb.py", "U+061C"),
        ("ma\u200bin.py", "U+200B (ZERO WIDTH SPACE)"),
        ("\ufeffmain.py", "U+FEFF"),
        ("a\ud800.py", "surrogate"),
        (".sopls/runs/20261203-061500-a1b2c3/proposal.json", ".sopls folder"),
        ("sub/.SOPLS/runs/x/run.json", ".sopls folder"),
        (".sopls", ".sopls folder"),
        ("docs/prd.json", "a document sopls writes itself"),
        ("docs/PRD.md", "a document sopls writes itself"),
        ("docs/system_design.json", "a document sopls writes itself"),
        ("docs/tasks.md", "a document sopls writes itself"),
        ("./docs//test_report.md", "a document sopls writes itself"),
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


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("x" * 238 + ".py", "names may have at most 237"),
        ("é" * 119, "238 bytes long"),
        ("/".join(["d" * 200] * 21), "a path may have 4095"),
        ("x" * 5000, "5000 bytes long"),
    ],
)
def test_names_longer_than_the_file_system_allows_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(UnsafePathError) as caught:
        safe_relative_path(raw)
    message = str(caught.value)
    assert reason in message
    assert message.startswith(f"Refusing the path {raw[:100]!r}"[:-1])
    assert len(message) < 500


def test_sopls_documents_are_refused_to_a_model_but_held_by_a_proposal() -> None:
    documents = [f"docs/{kind.doc_name}.{ext}" for kind in DOCUMENT_KINDS for ext in ("json", "md")]
    for path in [*documents, REPORT_PATH]:
        with pytest.raises(UnsafePathError, match="sopls writes itself"):
            safe_relative_path(path)
        assert proposal_path(path) == path
    with pytest.raises(UnsafePathError, match=r"\.sopls folder"):
        proposal_path(".sopls/runs/x/proposal.json")


def test_the_longest_accepted_name_can_be_written(tmp_path: Path) -> None:
    """The limit leaves room for the temporary name the atomic writer uses, and no more."""
    name = "n" * (NAME_MAX - 21) + ".py"
    assert safe_relative_path(name, tmp_path) == name
    proposal = Proposal()
    proposal.put(name, "x = 1\n")
    proposal.write_to(tmp_path)
    assert (tmp_path / name).read_text() == "x = 1\n"
    with pytest.raises(UnsafePathError, match="at most"):
        safe_relative_path("n" + name)


def test_a_path_too_long_under_its_root_is_refused(tmp_path: Path) -> None:
    deep = "/".join(["d" * 200] * 20)
    assert len(deep) < PATH_MAX
    root = tmp_path / ("r" * 200)
    with pytest.raises(UnsafePathError, match="longer than 4095 bytes"):
        safe_relative_path(deep, root)


@pytest.mark.parametrize(("folder", "reason"), [(".git", ".git folder"), (".sopls", ".sopls")])
def test_a_symlink_to_a_reserved_folder_is_refused(
    tmp_path: Path, folder: str, reason: str
) -> None:
    (tmp_path / folder / "hooks").mkdir(parents=True)
    (tmp_path / "innocent").symlink_to(tmp_path / folder, target_is_directory=True)
    assert safe_relative_path("innocent/hooks/pre-commit") == "innocent/hooks/pre-commit"
    with pytest.raises(UnsafePathError, match=reason) as caught:
        safe_relative_path("innocent/hooks/pre-commit", tmp_path)
    assert "resolves to" in str(caught.value)


def test_a_symlink_to_a_document_is_held_but_not_named_by_a_model(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "notes.json").symlink_to(tmp_path / "docs" / "prd.json")
    assert proposal_path("notes.json", tmp_path) == "notes.json"
    with pytest.raises(UnsafePathError, match="sopls writes itself"):
        safe_relative_path("notes.json", tmp_path)


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
