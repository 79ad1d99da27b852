"""Writing a proposal to disk with real git: new projects and existing repositories."""

import resource
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from agents.edits.proposal import Proposal
from agents.runs.run_lock import TargetNotEmptyError
from server.disk_writer import (
    DEFAULT_COMMIT_MESSAGE,
    GitError,
    WriteFailedError,
    with_runs_ignored,
    write_project,
)

TEST_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the temporary HOME may give git an identity (conftest points HOME at tmp)."""
    for name in (
        "GIT_CONFIG_GLOBAL",
        "XDG_CONFIG_HOME",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *TEST_IDENTITY, *args], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout


def sample() -> Proposal:
    proposal = Proposal()
    proposal.put("README.md", "# Demo\n", role="Architect")
    proposal.put("src/demo/main.py", "print('demo')\n", role="Engineer")
    return proposal


def existing_repo(root: Path) -> str:
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "app.py").write_text("old\n")
    (root / "obsolete.py").write_text("bye\n")
    (root / "untouched.py").write_text("same\n")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "start")
    return git(root, "rev-parse", "HEAD").strip()


def test_new_project_gets_files_gitignore_and_one_commit(tmp_path: Path) -> None:
    root = tmp_path / "new" / "demo"
    result = write_project(root, sample(), new_project=True)

    assert (root / "README.md").read_text() == "# Demo\n"
    assert (root / "src/demo/main.py").read_text() == "print('demo')\n"
    assert (root / ".gitignore").read_text() == ".sopls/\n"
    assert set(result.written) == {
        root / "README.md",
        root / "src/demo/main.py",
        root / ".gitignore",
    }
    assert len(git(root, "log", "--oneline").strip().splitlines()) == 1
    assert (
        git(root, "log", "-1", "--format=%H %s").strip()
        == f"{result.commit} {DEFAULT_COMMIT_MESSAGE}"
    )
    assert git(root, "branch", "--show-current").strip() == "main"
    assert git(root, "status", "--porcelain") == ""
    committed = git(root, "ls-files").split()
    assert sorted(committed) == [".gitignore", "README.md", "src/demo/main.py"]
    assert git(root, "log", "-1", "--format=%an <%ae>").strip() == "sopls <sopls@localhost>"


def test_new_project_uses_the_users_identity_when_configured(tmp_path: Path, home: Path) -> None:
    (home / ".gitconfig").write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
    root = tmp_path / "demo"
    result = write_project(root, sample(), new_project=True, commit_message="Start demo")
    assert result.commit is not None
    assert (
        git(root, "log", "-1", "--format=%an <%ae> %s").strip()
        == "Ada <ada@example.com> Start demo"
    )


def test_new_project_keeps_an_existing_runs_folder_out_of_git(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    (root / ".sopls" / "runs" / "r1").mkdir(parents=True)
    (root / ".sopls" / "runs" / "r1" / "run.json").write_text("{}")
    write_project(root, sample(), new_project=True)
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert not any(path.startswith(".sopls") for path in git(root, "ls-files").split())
    assert (root / ".sopls" / "runs" / "r1" / "run.json").exists()


def test_non_empty_target_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "busy"
    root.mkdir()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(TargetNotEmptyError) as caught:
        write_project(root, sample(), new_project=True)
    message = str(caught.value)
    assert str(root) in message
    assert "notes.txt" in message
    assert "--project-path" in message
    assert sorted(path.name for path in root.iterdir()) == ["notes.txt"]


def test_target_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(TargetNotEmptyError, match="--project-path"):
        write_project(target, sample(), new_project=True)


def test_gitignore_from_the_proposal_gets_the_runs_line(tmp_path: Path) -> None:
    proposal = sample()
    proposal.put(".gitignore", "__pycache__/\n*.pyc", role="Engineer")
    root = tmp_path / "demo"
    write_project(root, proposal, new_project=True)
    assert (root / ".gitignore").read_text() == "__pycache__/\n*.pyc\n.sopls/\n"
    assert proposal.text_of(".gitignore") == "__pycache__/\n*.pyc"


def test_gitignore_that_already_ignores_runs_is_left_alone() -> None:
    proposal = sample()
    proposal.put(".gitignore", "/.sopls\nbuild/\n")
    assert with_runs_ignored(proposal).text_of(".gitignore") == "/.sopls\nbuild/\n"


def test_existing_repo_without_message_changes_files_and_does_not_commit(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    head = existing_repo(root)
    proposal = Proposal()
    proposal.put("app.py", "new\n", before="old\n")
    proposal.put("lib/extra.py", "extra\n")
    proposal.delete("obsolete.py", before="bye\n")

    result = write_project(root, proposal, new_project=False)

    assert result.commit is None
    assert result.written == [root / "app.py", root / "lib/extra.py", root / "obsolete.py"]
    assert (root / "app.py").read_text() == "new\n"
    assert (root / "lib/extra.py").read_text() == "extra\n"
    assert not (root / "obsolete.py").exists()
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert not (root / ".gitignore").exists()
    status = sorted(git(root, "status", "--porcelain").splitlines())
    assert status == [" D obsolete.py", " M app.py", "?? lib/"]


def test_existing_repo_with_message_commits_only_the_changed_paths(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    head = existing_repo(root)
    (root / "staged_by_user.py").write_text("work in progress\n")
    git(root, "add", "staged_by_user.py")
    (root / "untouched.py").write_text("local edit\n")
    proposal = Proposal()
    proposal.put("app.py", "new\n", before="old\n")
    proposal.put("lib/extra.py", "extra\n")
    proposal.delete("obsolete.py", before="bye\n")

    result = write_project(root, proposal, new_project=False, commit_message="Apply changes")

    assert result.commit is not None
    assert git(root, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    assert git(root, "rev-parse", "HEAD").strip() == result.commit
    changed = git(root, "show", "--name-status", "--format=%s", "HEAD").split("\n")
    assert changed[0] == "Apply changes"
    assert sorted(line for line in changed[1:] if line) == [
        "A\tlib/extra.py",
        "D\tobsolete.py",
        "M\tapp.py",
    ]
    status = sorted(git(root, "status", "--porcelain").splitlines())
    assert status == [" M untouched.py", "A  staged_by_user.py"]


def test_existing_repo_with_nothing_to_commit_returns_no_commit(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    head = existing_repo(root)
    proposal = Proposal()
    proposal.delete("never_tracked.py", before="x")
    result = write_project(root, proposal, new_project=False, commit_message="Nothing")
    assert result.commit is None
    assert git(root, "rev-parse", "HEAD").strip() == head


def test_git_failure_quotes_gits_message(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        write_project(root, sample(), new_project=False, commit_message="Commit")
    assert (root / "README.md").exists()


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Writes past `limit` bytes fail with EFBIG, as on a full disk (root ignores permissions)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_write_the_file_system_refuses_is_one_line_and_leaves_the_folder_free(
    tmp_path: Path,
) -> None:
    root = tmp_path / "demo"
    (root / ".sopls" / "runs").mkdir(parents=True)
    proposal = sample()
    proposal.put("src/demo/big.py", "x = 1\n" * 2000, role="Engineer")

    with file_size_limit(4096), pytest.raises(WriteFailedError) as caught:
        write_project(root, proposal, new_project=True)

    message = str(caught.value)
    assert "File too large" in message
    assert "\n" not in message
    assert [entry.name for entry in root.iterdir()] == [".sopls"]
    write_project(root, proposal, new_project=True)  # free again: the write can be retried
    assert (root / "src/demo/big.py").read_text() == "x = 1\n" * 2000


def test_a_new_project_whose_commit_fails_is_taken_away_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "demo"
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))

    with pytest.raises(GitError, match="git is not installed"):
        write_project(root, sample(), new_project=True)

    assert list(root.iterdir()) == []
