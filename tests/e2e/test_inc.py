"""`sopls startup --inc`: the command line on an existing repository, with real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scripted_endpoint import ScriptedEndpoint
from test_fix_bug import CALC, repo, script_fix  # noqa: F401  (the fixture repository)
from test_request_feature import script_feature
from test_startup import sopls


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def test_a_bug_changes_the_working_tree_and_commits_nothing(
    endpoint: ScriptedEndpoint,
    repo: Path,  # noqa: F811
) -> None:
    endpoint.on(schema="RequestKind").reply_json({"kind": "bug", "reason": "add is wrong"})
    script_fix(endpoint)
    commits = git(repo, "rev-list", "--count", "HEAD")

    done = sopls(
        "startup",
        "add() subtracts",
        "--inc",
        "--project-path",
        str(repo),
        endpoint=endpoint,
        cwd=repo.parent,
    )

    assert done.returncode == 0, done.stderr
    assert "return a + b" in (repo / "pkg" / "calc.py").read_text()
    assert git(repo, "status", "--porcelain", "--", ".", ":(exclude).sopls").split() == [
        "M",
        "pkg/calc.py",
    ]
    assert git(repo, "rev-list", "--count", "HEAD") == commits
    requested = {str(r.body.get("response_format", {})) for r in endpoint.chat_requests}
    assert not any("'PRD'" in r or "SystemDesign" in r for r in requested)


def test_a_feature_with_commit_makes_one_commit_of_the_intended_files(
    endpoint: ScriptedEndpoint,
    repo: Path,  # noqa: F811
) -> None:
    endpoint.on(schema="RequestKind").reply_json({"kind": "feature", "reason": "new function"})
    script_feature(endpoint)
    commits = int(git(repo, "rev-list", "--count", "HEAD"))

    done = sopls(
        "startup",
        "add multiply",
        "--inc",
        "--commit",
        "--project-path",
        str(repo),
        endpoint=endpoint,
        cwd=repo.parent,
    )

    assert done.returncode == 0, done.stderr
    assert int(git(repo, "rev-list", "--count", "HEAD")) == commits + 1
    changed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == ["pkg/calc.py", "tests/test_multiply.py"]
    assert (repo / "pkg" / "calc.py").read_text().startswith(CALC)


def test_a_dirty_working_tree_is_refused_unless_allowed(
    endpoint: ScriptedEndpoint,
    repo: Path,  # noqa: F811
) -> None:
    (repo / "pkg" / "calc.py").write_text(CALC + "# my unsaved work\n")

    refused = sopls(
        "startup",
        "add() subtracts",
        "--inc",
        "--project-path",
        str(repo),
        endpoint=endpoint,
        cwd=repo.parent,
    )

    assert refused.returncode == 2
    assert "uncommitted changes" in refused.stderr
    assert "--allow-dirty" in refused.stderr
    assert endpoint.requests == []
    assert (repo / "pkg" / "calc.py").read_text().endswith("# my unsaved work\n")


def test_inc_needs_a_git_repository(endpoint: ScriptedEndpoint, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    done = sopls(
        "startup", "x", "--inc", "--project-path", str(plain), endpoint=endpoint, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "not a git repository" in done.stderr
    missing = sopls("startup", "x", "--inc", endpoint=endpoint, cwd=tmp_path)
    assert missing.returncode == 2
    assert "--project-path" in missing.stderr


def test_reqa_file_writes_the_tests_of_one_file_only(
    endpoint: ScriptedEndpoint,
    repo: Path,  # noqa: F811
) -> None:
    double_test = (
        "from pkg.calc import double\n\n\ndef test_double_of_zero():\n    assert double(0) == 0\n"
    )
    endpoint.on(contains="Write `tests/test_pkg_calc.py`").reply_text(
        f"```python tests/test_pkg_calc.py\n{double_test}```\n"
    )

    done = sopls(
        "startup",
        "--reqa-file",
        "pkg/calc.py",
        "--project-path",
        str(repo),
        endpoint=endpoint,
        cwd=repo.parent,
    )

    assert done.returncode == 0, done.stderr
    assert (repo / "tests" / "test_pkg_calc.py").read_text() == double_test
    assert git(repo, "status", "--porcelain", "--", ".", ":(exclude).sopls").split() == [
        "??",
        "tests/test_pkg_calc.py",
    ]
    assert len(endpoint.chat_requests) == 1  # QA alone; the test passed the first time
    outside = sopls(
        "startup",
        "--reqa-file",
        "../x.py",
        "--project-path",
        str(repo),
        "--allow-dirty",
        endpoint=endpoint,
        cwd=repo.parent,
    )
    assert outside.returncode == 2
    assert "--reqa-file" in outside.stderr
