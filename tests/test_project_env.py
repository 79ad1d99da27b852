"""The per-project venv, with real `venv` and real pip against the configured index.

One venv is built for the module (about 10 s) and shared; each test bounds its own time.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from agents.errors import SoplsError
from agents.project_env import (
    RECORD_NAME,
    ProjectEnv,
    ProjectEnvError,
    ensure_project_env,
    normalise_requirements,
)

module_loop = pytest.mark.asyncio(loop_scope="module")

UNKNOWN = "sopls-no-such-package-zzz"
REQUIREMENTS = ["six", " os ", "json", "random", "curses", "typing", "", "# a comment", UNKNOWN]
INSTALL_LIMIT = 240.0


@pytest.fixture(scope="module")
def venv_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shared venv's folder; pip's cache and config lookups stay out of the real HOME."""
    base = tmp_path_factory.mktemp("project_env")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(base / "home"))
        yield base / "venv"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def first(venv_dir: Path) -> ProjectEnv:
    """The first, installing call on a fresh venv."""
    async with asyncio.timeout(INSTALL_LIMIT):
        return await ensure_project_env(venv_dir, REQUIREMENTS, timeout=INSTALL_LIMIT)


def _run_in(python: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=30, check=False
    )


def test_normalise_drops_stdlib_blanks_comments_and_adds_pytest() -> None:
    assert normalise_requirements(REQUIREMENTS) == ["six", UNKNOWN, "pytest"]
    assert normalise_requirements(["requests>=2.31  # http", "Requests", "pytest==8.3"]) == [
        "requests>=2.31",
        "pytest==8.3",
    ]


@module_loop
async def test_installs_into_its_own_venv_and_names_what_is_missing(
    first: ProjectEnv, venv_dir: Path
) -> None:
    assert first.python == venv_dir / "bin" / "python"
    assert first.installed == ["six", "pytest"]
    assert first.missing == [UNKNOWN]
    assert first.pip_runs >= 2
    assert UNKNOWN in first.log
    probe = _run_in(first.python, "import sys, six, pytest; print(sys.prefix)")
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()) == venv_dir
    host_only = _run_in(first.python, "import pydantic")
    assert host_only.returncode != 0
    assert "include-system-site-packages = false" in (venv_dir / "pyvenv.cfg").read_text()
    record = json.loads((venv_dir / RECORD_NAME).read_text())
    assert set(record["installed"]) == {"six", "pytest"}


@module_loop
async def test_same_requirements_again_do_not_run_pip(first: ProjectEnv, venv_dir: Path) -> None:
    assert first.missing == [UNKNOWN]
    site_packages = next((venv_dir / "lib").glob("python*/site-packages"))
    pip_package = site_packages / "pip"
    disabled = site_packages / "pip-disabled-for-test"
    pip_package.rename(disabled)
    try:
        async with asyncio.timeout(30):
            again = await ensure_project_env(venv_dir, ["six", "os", "pytest"])
    finally:
        disabled.rename(pip_package)
    assert again.pip_runs == 0
    assert again.installed == ["six", "pytest"]
    assert again.missing == []
    assert "pip not run" in again.log


@module_loop
async def test_venv_that_cannot_be_created_raises_project_env_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ProjectEnvError) as caught:
        async with asyncio.timeout(60):
            await ensure_project_env(blocker / "venv", ["six"])
    assert isinstance(caught.value, SoplsError)
    assert "-m venv" in str(caught.value)
    assert caught.value.output
