"""Proposals: building them, saving them, and applying them to a folder."""

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from agents.edits.paths import UnsafePathError
from agents.edits.proposal import (
    ChangeKind,
    FileChange,
    Proposal,
    UnknownPathError,
    WriteConflictError,
)
from agents.errors import SoplsError


def test_put_without_before_is_a_create() -> None:
    proposal = Proposal()
    proposal.put("./src/app.py", "print('hi')\n", role="Engineer")
    change = proposal.get("src/app.py")
    assert change == FileChange(
        path="src/app.py",
        change=ChangeKind.CREATE,
        before=None,
        after="print('hi')\n",
        role="Engineer",
    )
    assert proposal.text_of("src\\app.py") == "print('hi')\n"
    assert proposal.paths() == ["src/app.py"]
    assert len(proposal) == 1


def test_put_with_before_is_a_modify() -> None:
    proposal = Proposal()
    proposal.put("README.md", "new\n", before="old\n")
    change = proposal.get("README.md")
    assert change is not None
    assert change.change is ChangeKind.MODIFY
    assert (change.before, change.after) == ("old\n", "new\n")


def test_put_twice_keeps_the_original_before() -> None:
    proposal = Proposal()
    proposal.put("a.py", "v1", before="v0", role="Engineer")
    proposal.put("a.py", "v2", before="v1", role="QaEngineer")
    change = proposal.get("a.py")
    assert change is not None
    assert (change.change, change.before, change.after) == (ChangeKind.MODIFY, "v0", "v2")
    assert change.role == "QaEngineer"

    proposal.put("b.py", "first")
    proposal.put("b.py", "second", before="first")
    created = proposal.get("b.py")
    assert created is not None
    assert (created.change, created.before, created.after) == (ChangeKind.CREATE, None, "second")
    assert len(proposal) == 2


def test_modify_back_to_the_original_text_is_dropped() -> None:
    proposal = Proposal()
    proposal.put("same.txt", "unchanged", before="unchanged")
    assert len(proposal) == 0
    proposal.put("a.txt", "edited", before="orig")
    proposal.put("a.txt", "orig")
    assert proposal.get("a.txt") is None
    assert proposal.paths() == []


def test_order_is_kept_when_a_path_is_put_again() -> None:
    proposal = Proposal()
    for name in ("one", "two", "three"):
        proposal.put(name, name)
    proposal.put("one", "again")
    assert proposal.paths() == ["one", "two", "three"]


def test_delete_semantics() -> None:
    proposal = Proposal()
    proposal.delete("old.py", before="gone\n", role="Engineer")
    change = proposal.get("old.py")
    assert change is not None
    assert (change.change, change.before, change.after) == (ChangeKind.DELETE, "gone\n", None)
    assert proposal.text_of("old.py") is None

    proposal.put("edited.py", "new", before="orig")
    proposal.delete("edited.py", before="new")
    deleted = proposal.get("edited.py")
    assert deleted is not None
    assert (deleted.change, deleted.before) == (ChangeKind.DELETE, "orig")

    proposal.put("brand_new.py", "x")
    proposal.delete("brand_new.py", before="x")
    assert proposal.get("brand_new.py") is None

    proposal.put("old.py", "back\n")
    revived = proposal.get("old.py")
    assert revived is not None
    assert (revived.change, revived.before, revived.after) == (
        ChangeKind.MODIFY,
        "gone\n",
        "back\n",
    )


def test_text_of_absent_path_is_none() -> None:
    assert Proposal().text_of("nothing.txt") is None
    assert Proposal().get("nothing.txt") is None


def test_put_refuses_unsafe_paths() -> None:
    proposal = Proposal()
    with pytest.raises(UnsafePathError):
        proposal.put("../evil.py", "x")
    with pytest.raises(UnsafePathError):
        proposal.delete(".git/config", before="x")
    with pytest.raises(UnsafePathError, match=r"\.sopls folder"):
        proposal.put(".sopls/runs/20261203-061500-a1b2c3/proposal.json", "{}")
    with pytest.raises(UnsafePathError, match="U\\+202E"):
        proposal.put("report\u202efdp.py", "x")
    assert len(proposal) == 0


def test_sopls_documents_are_held_as_sopls_writes_them() -> None:
    proposal = Proposal()
    proposal.put("docs/prd.json", "{}", role="ProductManager")
    proposal.put("docs/test_report.md", "# Tests", role="QaEngineer")
    loaded = Proposal.model_validate_json(proposal.model_dump_json())
    assert loaded.paths() == ["docs/prd.json", "docs/test_report.md"]


def test_subset_keeps_only_the_chosen_paths_in_order() -> None:
    proposal = Proposal()
    proposal.put("a", "1")
    proposal.put("b", "2", before="0")
    proposal.delete("c", before="3")
    chosen = proposal.subset(["c", "./a"])
    assert chosen.paths() == ["a", "c"]
    assert chosen.get("c") == proposal.get("c")
    assert proposal.paths() == ["a", "b", "c"]


def test_subset_names_an_unknown_path() -> None:
    proposal = Proposal()
    proposal.put("a.py", "1")
    proposal.put("b.py", "2")
    with pytest.raises(UnknownPathError) as caught:
        proposal.subset(["a.py", "missing.py"])
    assert isinstance(caught.value, SoplsError)
    assert isinstance(caught.value, KeyError)
    message = str(caught.value)
    assert "'missing.py'" in message
    assert "a.py, b.py" in message


def test_json_round_trip() -> None:
    proposal = Proposal()
    proposal.put("src/main.py", "print(1)\r\n", role="Engineer")
    proposal.put("README.md", "new", before="old", role="Architect")
    proposal.delete("legacy.txt", before="bye", role="Engineer")
    restored = Proposal.model_validate_json(proposal.model_dump_json())
    assert restored == proposal
    assert restored.text_of("src/main.py") == "print(1)\r\n"
    assert restored.get("legacy.txt") == proposal.get("legacy.txt")


@pytest.mark.parametrize(
    ("change", "before", "after"),
    [
        ("create", "x", "y"),
        ("create", None, None),
        ("modify", None, "y"),
        ("modify", "x", None),
        ("delete", None, None),
        ("delete", "x", "y"),
        ("rename", "x", "y"),
    ],
)
def test_invalid_file_changes_are_rejected(
    change: str, before: str | None, after: str | None
) -> None:
    with pytest.raises(ValidationError):
        FileChange(path="a.txt", change=change, before=before, after=after)


def test_file_change_validates_its_path() -> None:
    with pytest.raises(ValidationError, match="relative to the project root"):
        FileChange(path="/etc/passwd", change="create", after="x")
    assert FileChange(path="a//b", change="create", after="x").path == "a/b"


def test_duplicate_paths_are_rejected_when_loading() -> None:
    entry = {"path": "a.txt", "change": "create", "after": "x"}
    with pytest.raises(ValidationError, match="more than once"):
        Proposal.model_validate({"files": [entry, {**entry, "path": "./a.txt"}]})
    with pytest.raises(ValidationError, match="relative to the project root"):
        Proposal.model_validate_json(
            '{"files": [{"path": "../x", "change": "create", "after": ""}]}'
        )
    with pytest.raises(ValidationError, match=r"\.sopls folder"):
        Proposal.model_validate_json(
            '{"files": [{"path": ".sopls/runs.json", "change": "create", "after": ""}]}'
        )


def test_write_to_creates_nested_files_modifies_and_deletes(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "old.md").write_text("old")
    (root / "run.sh").write_text("echo old\n")
    (root / "run.sh").chmod(0o755)
    proposal = Proposal()
    proposal.put("src/pkg/deep/module.py", "x = 'é'\r\n")
    proposal.put("run.sh", "echo new\n", before="echo old\n")
    proposal.delete("docs/old.md", before="old")

    written = proposal.write_to(root)

    assert written == [root / "src/pkg/deep/module.py", root / "run.sh", root / "docs/old.md"]
    assert (root / "src/pkg/deep/module.py").read_bytes() == "x = 'é'\r\n".encode()
    assert (root / "run.sh").read_text() == "echo new\n"
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o755
    assert not (root / "docs" / "old.md").exists()
    leftovers = [path.name for path in root.rglob("*.tmp")]
    assert leftovers == []


def test_new_files_get_normal_permissions(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        proposal = Proposal()
        proposal.put("a.txt", "x")
        proposal.write_to(tmp_path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


def test_one_bad_path_means_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "keep.txt").write_text("original")
    good = FileChange(path="good.txt", change=ChangeKind.CREATE, after="x")
    edit = FileChange(path="keep.txt", change=ChangeKind.MODIFY, before="original", after="y")
    bad = FileChange.model_construct(path="../escaped.txt", change=ChangeKind.CREATE, after="x")
    proposal = Proposal.model_construct(files=[good, edit, bad])

    with pytest.raises(UnsafePathError, match=r"\.\./escaped\.txt"):
        proposal.write_to(root)

    assert not (root / "good.txt").exists()
    assert (root / "keep.txt").read_text() == "original"
    assert not (tmp_path / "escaped.txt").exists()


def test_symlink_escape_under_root_means_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "data").symlink_to(outside, target_is_directory=True)
    proposal = Proposal()
    proposal.put("first.txt", "x")
    proposal.put("data/stolen.txt", "x")

    with pytest.raises(UnsafePathError, match="outside"):
        proposal.write_to(root)

    assert not (root / "first.txt").exists()
    assert list(outside.iterdir()) == []


def test_file_and_folder_collisions_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "plain.txt").write_text("file")
    for make in (
        lambda p: p.put("taken", "x"),
        lambda p: p.put("plain.txt/inner.py", "x"),
        lambda p: (p.put("pkg", "x"), p.put("pkg/mod.py", "y")),
    ):
        proposal = Proposal()
        proposal.put("first.txt", "x")
        make(proposal)
        with pytest.raises(WriteConflictError):
            proposal.write_to(tmp_path)
        assert not (tmp_path / "first.txt").exists()
