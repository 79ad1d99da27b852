"""The project environment, with real pip against the configured index and a real sandbox.

One environment is built for the module (a few seconds) and shared; each test bounds its time.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import pytest_asyncio

from agents.execution.project_env import (
    ProjectEnv,
    ensure_project_env,
    normalise_requirements,
)
from agents.execution.sandbox import run_sandboxed

module_loop = pytest.mark.asyncio(loop_scope="module")

UNKNOWN = "sopls-no-such-package-zzz"
REQUIREMENTS = ["six", " os ", "json", "random", "curses", "typing", "", "# a comment"]
INSTALL_LIMIT = 240.0


@pytest.fixture(scope="module")
def envs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("envs")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def first(envs_root: Path) -> ProjectEnv:
    """The first, building call."""
    async with asyncio.timeout(INSTALL_LIMIT):
        return await ensure_project_env(REQUIREMENTS, root=envs_root, timeout=INSTALL_LIMIT)


async def _run_in(env: ProjectEnv, code: str) -> tuple[int | None, str]:
    result = await run_sandboxed(
        env.python.parent, [str(env.python), "-c", code], python=env.python
    )
    return result.exit_code, result.stdout + result.stderr


def test_normalise_drops_stdlib_blanks_comments_and_adds_pytest() -> None:
    assert normalise_requirements([*REQUIREMENTS, UNKNOWN]).accepted == ["six", UNKNOWN, "pytest"]
    checked = normalise_requirements(
        [
            "Requests >= 2.31, <3  # http",
            "requests",
            "Flask_Login",
            "uvicorn[Standard]",
            "pytest==8.3",
        ]
    )
    assert checked.accepted == [
        "requests<3,>=2.31",
        "flask-login",
        "uvicorn[standard]",
        "pytest==8.3",
    ]
    assert checked.refused == []


def test_the_key_is_the_exact_requirement_set() -> None:
    key = normalise_requirements(["six", "attrs>=23"]).key
    assert normalise_requirements(["attrs >= 23", "Six", "json"]).key == key
    assert normalise_requirements(["six", "attrs>=24"]).key != key
    assert normalise_requirements(["six"]).key != key
    assert len(key) == 24
    assert key.isalnum()


@module_loop
async def test_builds_its_own_environment_keyed_by_the_requirements(
    first: ProjectEnv, envs_root: Path
) -> None:
    key = normalise_requirements(REQUIREMENTS).key
    assert first.python == envs_root / key / "bin" / "python"
    assert first.installed == ["six", "pytest"]
    assert first.missing == first.refused == []
    code, output = await _run_in(first, "import sys, six, pytest; print(sys.prefix)")
    assert code == 0, output
    assert Path(output.strip()) == envs_root / key
    code, output = await _run_in(first, "import pydantic")
    assert code != 0
    assert "ModuleNotFoundError" in output
    assert "include-system-site-packages = false" in (envs_root / key / "pyvenv.cfg").read_text()
    assert sorted(await asyncio.to_thread(os.listdir, envs_root)) == [
        key,
        f"{key}.json",
        f"{key}.lock",
    ]


@module_loop
async def test_same_requirements_again_do_not_run_pip(first: ProjectEnv, envs_root: Path) -> None:
    assert first.pip_runs >= 2
    async with asyncio.timeout(30):
        again = await ensure_project_env(["Six", "os", "pytest"], root=envs_root)
    assert again.python == first.python
    assert again.pip_runs == 0
    assert again.installed == ["six", "pytest"]
    assert "pip not run" in again.log


@module_loop
async def test_a_package_without_a_wheel_on_the_index_is_named_missing(tmp_path: Path) -> None:
    async with asyncio.timeout(INSTALL_LIMIT):
        env = await ensure_project_env(
            ["six", UNKNOWN], root=tmp_path / "envs", timeout=INSTALL_LIMIT
        )
    assert env.missing == [UNKNOWN]
    assert env.installed == ["six", "pytest"]
    assert UNKNOWN in env.log
    assert not env.python.exists()  # nothing is built for a set that cannot be complete
    assert [
        Path(name).suffix for name in await asyncio.to_thread(os.listdir, tmp_path / "envs")
    ] == [".lock"]
