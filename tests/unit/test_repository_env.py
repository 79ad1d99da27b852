"""Reading what a repository declares its tests need, as its CI would install it."""

from __future__ import annotations

from pathlib import Path

from file_tree import write_tree

from agents.edits.proposal import Proposal
from agents.execution.project_env import why_missing
from agents.execution.repository_env import read_python_declarations, repository_declarations


def _read(files: dict[str, str]):
    return read_python_declarations(files.get, files)


def test_a_pyproject_gives_its_dependencies_test_extras_groups_and_backend() -> None:
    declared = _read(
        {
            "pyproject.toml": """
[build-system]
requires = ["hatchling>=1.20"]
build-backend = "hatchling.build"

[project]
name = "Sample_Pkg"
dependencies = ["requests>=2", "tomli; python_version < '3.0'"]

[project.optional-dependencies]
test = ["pytest>=7", "sample-pkg[speed]"]
speed = ["ujson"]
docs = ["sphinx"]

[dependency-groups]
dev = ["coverage", {include-group = "lint"}]
lint = ["ruff"]
"""
        }
    )
    assert set(declared.requirements) == {
        "requests>=2",
        "hatchling>=1.20",
        "pytest>=7",
        "ujson",
        "coverage",
        "ruff",
    }
    assert declared.installable
    assert declared.refused == ()


def test_requirement_files_are_followed_and_what_the_index_cannot_serve_is_refused() -> None:
    declared = _read(
        {
            "requirements.txt": "six==1.16.0  # pinned\n-r requirements/base.txt\n",
            "requirements/base.txt": "attrs>=23 \\\n  --hash=sha256:abc\n-c constraints.txt\n",
            "requirements-dev.txt": (
                "-e .[test]\n--index-url https://example.invalid/simple\n"
                "git+https://example.invalid/x.git#egg=x\n"
                "evil @ https://example.invalid/evil.whl\n-r ../../outside.txt\n"
                "-e ../elsewhere\n"
            ),
            "requirements-docs.txt": "sphinx\n",
            "setup.cfg": (
                "[metadata]\nname = sample\n\n[options]\ninstall_requires =\n    click>=8\n\n"
                "[options.extras_require]\ntest =\n    pytest\nextra =\n    numpy\n"
            ),
        }
    )
    assert set(declared.requirements) == {
        "six==1.16.0",
        "attrs>=23",
        "click>=8",
        "pytest",
        "setuptools>=40.8.0",
        "wheel",
    }
    assert declared.installable  # `-e .` and setup.cfg: the project itself is installed
    assert set(declared.refused) == {
        "git+https://example.invalid/x.git#egg=x",
        "evil @ https://example.invalid/evil.whl",
        "-r ../../outside.txt",
        "-e ../elsewhere",
    }
    assert "requirements-docs.txt" not in declared.sources


def test_tox_deps_count_and_a_bare_folder_declares_nothing() -> None:
    declared = _read({"tox.ini": "[testenv]\ndeps =\n    pytest-mock\n    -r{toxinidir}/req.txt\n"})
    assert declared.requirements == ("pytest-mock",)
    assert not declared.installable
    assert not _read({}).declared


def test_a_proposal_adding_a_url_requirement_gets_it_refused(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {"requirements.txt": "six\n"})
    proposal = Proposal()
    proposal.put("requirements.txt", "six\nx @ file:///etc/passwd\n", before="six\n")
    proposal.put("requirements-test.txt", "--extra-index-url http://evil.invalid\nattrs\n")

    declared = repository_declarations(root, proposal)

    assert declared.requirements == ("six", "attrs")
    assert declared.refused == ("x @ file:///etc/passwd",)


def test_why_a_package_is_missing_is_said_in_words() -> None:
    offline = "WARNING: Retrying ... NewConnectionError('Failed to establish a new connection')"
    assert why_missing(offline) == "the package index cannot be reached"
    no_wheel = "ERROR: No matching distribution found for sdist-only-pkg"
    assert "no wheel" in why_missing(no_wheel)
    assert why_missing("ERROR: something odd\n") == "something odd"
