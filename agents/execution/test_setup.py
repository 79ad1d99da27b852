"""What a repository's tests need besides its copy, built the way its CI would build it: the
Python environment of its declarations with the project installed, fetched npm or cargo
dependencies, and the variables a toolchain needs in the sandbox's empty HOME.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.edits.proposal import Proposal
from agents.execution.dependency_cache import prepare_cargo, prepare_node_modules
from agents.execution.repository_env import ensure_repository_env
from agents.execution.sandbox import CopyRun, SandboxResult
from agents.execution.test_command import TestCommand
from agents.execution.test_results import one_line

# The project is installed here in each copy; dot folders are not collected by pytest.
SITE_DIR = ".sopls-site"
_INSTALL_PROJECT = (
    "-m",
    "pip",
    "install",
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
    "--no-cache-dir",
    "--disable-pip-version-check",
    "--quiet",
    "--target",
    SITE_DIR,
    ".",
)


@dataclass(frozen=True)
class TestSetup:
    """What both test runs need beyond the copy, and what their environment lacks.

    `python` is the repository's environment (first on PATH); with `install_project` the
    project is installed from each copy into that copy's `SITE_DIR`, as its CI would install
    it, so tests importing the installed package see the copy's code. `links` are cached
    folders linked into each copy (`node_modules`), `env` the variables the runner needs, and
    `notes` plain sentences on what the environment could not get.
    """

    __test__ = False
    python: Path | None = None
    install_project: bool = False
    links: Mapping[str, Path] = field(default_factory=dict)
    read_only: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


async def prepare_test_setup(
    root: Path, proposal: Proposal, command: TestCommand, *, envs_root: Path | None = None
) -> tuple[TestCommand, TestSetup]:
    """What the repository's tests need, built the way its CI would build it, and the command
    to run with it (pytest from the repository's own environment).

    A pytest suite (or a custom command in a repository that declares Python packages) gets an
    environment of the repository's declarations; where none can be built, sopls's own
    interpreter runs pytest and the notes say so.
    """
    if command.kind in ("npm", "cargo"):
        prepare = prepare_node_modules if command.kind == "npm" else prepare_cargo
        fetch = await prepare(root)
        return command, TestSetup(
            links=dict([fetch.link]) if fetch.link is not None else {},
            read_only=fetch.read_only,
            env=fetch.env,
            notes=(fetch.reason,) if fetch.reason else (),
        )
    if command.kind != "pytest" and command.kind != "custom":
        return command, TestSetup()
    env = await ensure_repository_env(root, proposal, envs_root=envs_root)
    if command.kind == "custom" and not env.declarations.declared:
        return command, TestSetup()
    notes = env.notes
    if env.python is None:
        notes += ("the tests ran with sopls's own interpreter instead",)
    elif command.kind == "pytest":
        command = TestCommand(argv=[str(env.python), *command.argv[1:]], kind="pytest")
    setup = TestSetup(python=env.python, install_project=env.declarations.installable, notes=notes)
    return command, setup


def setup_notes(run: CopyRun, side: str) -> list[str]:
    """A sentence for each setup step that failed, with the line its output ends on."""
    notes = []
    for result in run.setup:
        if not result.ok:
            why = "it took too long" if result.timed_out else _last_line(result)
            notes.append(f"the project could not be installed from the repository {side}: {why}")
    return notes


# pip's own closing words around a build's failure, which say nothing of its cause
_PIP_GENERIC = re.compile(r"subprocess-exited-with-error|metadata-generation-failed|failed-wheel")


def _last_line(result: SandboxResult) -> str:
    """The line that says why a build failed: the build's last error, not pip's summary."""
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines()]
    errors = [
        line
        for line in lines
        if re.match(r"(?i)error\b", line) or "Error:" in line
        if not _PIP_GENERIC.search(line)
    ]
    return one_line((errors or [line for line in lines if line] or ["no output"])[-1])


def _toolchain_env(command: TestCommand) -> dict[str, str]:
    """Variables a toolchain needs to work from the sandbox's empty HOME.

    A custom command gets them too when it starts one of these tools directly.
    """
    tool = command.kind if command.kind != "custom" else Path(command.argv[0]).name
    if tool == "npm":
        # npm's update check would only wait for a network the sandbox cannot reach.
        return {"npm_config_update_notifier": "false"}
    if tool == "cargo":
        return _cargo_env()
    if tool == "go":
        return _go_env()
    return {}


def _cargo_env() -> dict[str, str]:
    """rustup's proxies find toolchains through RUSTUP_HOME (default ~/.rustup), and the shared
    CARGO_HOME holds already-fetched crates, so a project can build without network.
    """
    guesses: dict[str, Path] = {}
    cargo = shutil.which("cargo")
    # rustup installs its proxies into <home>/.cargo/bin, next to <home>/.rustup.
    if cargo is not None and Path(cargo).parent.parent.name == ".cargo":
        cargo_home = Path(cargo).parent.parent
        guesses = {"CARGO_HOME": cargo_home, "RUSTUP_HOME": cargo_home.parent / ".rustup"}
    env: dict[str, str] = {}
    for name in ("CARGO_HOME", "RUSTUP_HOME"):
        guess = guesses.get(name)
        if name in os.environ:
            env[name] = os.environ[name]
        elif guess is not None and guess.is_dir():
            env[name] = str(guess)
    return env


def _go_env() -> dict[str, str]:
    """The shared module cache holds already-fetched modules, so a project builds offline."""
    gopath = os.environ.get("GOPATH", "").split(os.pathsep)[0]
    default = Path(gopath) if gopath else Path.home() / "go"
    modcache = Path(os.environ.get("GOMODCACHE") or default / "pkg" / "mod")
    return {"GOMODCACHE": str(modcache)} if modcache.is_dir() else {}


def copy_arguments(setup: TestSetup, command: TestCommand) -> dict[str, Any]:
    """What `run_on_copy` needs for the setup: the variables, the environment's interpreter,
    the folders seen read-only, the step that installs the project, and the linked folders."""
    env = {**_toolchain_env(command), **setup.env}
    steps: list[list[str]] = []
    if setup.install_project and setup.python is not None:
        steps.append([str(setup.python), *_INSTALL_PROJECT])
        # relative, so each copy's interpreter finds its own copy's install (site makes it
        # absolute against the copy's root at start)
        env["PYTHONPATH"] = SITE_DIR
    # The toolchain's folders (rustup's toolchains, the module caches) are seen read-only.
    folders = [Path(value) for value in env.values() if os.path.isabs(value)]
    return {
        "extra_env": env,
        "python": setup.python,
        "read_only": [*folders, *setup.read_only],
        "setup": steps,
        "links": setup.links,
    }
