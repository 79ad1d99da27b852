"""A per-project virtual environment for a generated project's required packages.

The packages a generated project asks for go into its own venv, never the host's, so they
cannot break sopls or leak host packages into the project's tests. The venv is reused across
runs; a record of what is installed makes a repeated run with the same requirements free.
When a package cannot be installed (no network, unknown name), it is named in `missing`
so QA can report it instead of failing on an obscure import error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agents.errors import SoplsError

RECORD_NAME = ".sopls-installed.json"
_LOG_TAIL = 4_000
_VENV_TIMEOUT = 120.0
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
_PIP_FLAGS = ("--disable-pip-version-check", "--no-input")

# Run by the venv's interpreter: prints which of the given requirements are already satisfied.
# pip's vendored `packaging` checks version specifiers; without it only bare names count.
_CHECK_SCRIPT = """
import json, sys
from importlib import metadata
try:
    from pip._vendor.packaging.requirements import Requirement
except ImportError:
    Requirement = None
found = []
for text in json.loads(sys.argv[1]):
    try:
        if Requirement is None:
            metadata.version(text)
            found.append(text)
            continue
        req = Requirement(text)
        version = metadata.version(req.name)
        if req.specifier.contains(version, prereleases=True) and not req.marker:
            found.append(text)
    except Exception:
        pass
print(json.dumps(found))
"""


class ProjectEnvError(SoplsError):
    """The project's virtual environment could not be created."""

    def __init__(self, command: Sequence[str], output: str) -> None:
        self.command = list(command)
        self.output = output
        super().__init__(
            f"Could not create the project's virtual environment: `{' '.join(self.command)}` "
            f"failed. Its output ends with:\n{output}"
        )


@dataclass(frozen=True)
class ProjectEnv:
    """The project's interpreter and which requirements it has; `pip_runs` counts pip calls."""

    python: Path
    installed: list[str]
    missing: list[str]
    log: str
    pip_runs: int = 0


def venv_python(venv_dir: Path) -> Path:
    """The interpreter inside `venv_dir` (POSIX layout)."""
    return venv_dir / "bin" / "python"


def normalise_requirements(requirements: Sequence[str]) -> list[str]:
    """Clean the requirement strings a model wrote, and make sure pytest is among them.

    Blank lines, comments and standard-library modules (`os`, `json`, `curses`, ...) are
    dropped, since models often list imports as packages; duplicates keep their first place.
    """
    result: list[str] = []
    names: set[str] = set()
    for raw in requirements:
        text = raw.split(" #", 1)[0].strip()
        match = _NAME.match(text)
        if not text or text.startswith("#") or match is None:
            continue
        name = match.group(0)
        if name in sys.stdlib_module_names or name.lower() in sys.stdlib_module_names:
            continue
        key = _canonical(name)
        if key in names:
            continue
        names.add(key)
        result.append(text)
    if "pytest" not in names:
        result.append("pytest")
    return result


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _tail(text: str) -> str:
    return text if len(text) <= _LOG_TAIL else text[-_LOG_TAIL:]


def _pip_env() -> dict[str, str]:
    """The host environment for pip (index, proxy and certificate settings), minus secrets."""
    env = {name: value for name, value in os.environ.items() if not _SECRET_NAME.search(name)}
    env["PIP_NO_INPUT"] = "1"
    return env


async def _run(argv: Sequence[str], seconds: float) -> tuple[int | None, str]:
    """Run a command with combined output; None as exit code means it timed out."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=_pip_env(),
            start_new_session=True,
        )
    except OSError as exc:
        return 127, f"{argv[0]}: {exc}"
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            output, _ = await proc.communicate()
    except TimeoutError:
        return None, f"timed out after {seconds:.0f} s: {' '.join(argv)}"
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    return proc.returncode, output.decode("utf-8", errors="replace")


def _read_record(venv_dir: Path) -> set[str]:
    try:
        data = json.loads((venv_dir / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    installed = data.get("installed") if isinstance(data, dict) else None
    return {item for item in installed or [] if isinstance(item, str)}


def _write_record(venv_dir: Path, installed: set[str]) -> None:
    record = {"installed": sorted(installed)}
    (venv_dir / RECORD_NAME).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


async def _create_venv(venv_dir: Path) -> None:
    command = [sys.executable, "-m", "venv", str(venv_dir)]
    code, output = await _run(command, _VENV_TIMEOUT)
    if code != 0 or not venv_python(venv_dir).exists():
        raise ProjectEnvError(command, _tail(output))
    (venv_dir / RECORD_NAME).unlink(missing_ok=True)


async def _already_satisfied(python: Path, requirements: list[str]) -> set[str]:
    code, output = await _run([str(python), "-c", _CHECK_SCRIPT, json.dumps(requirements)], 60.0)
    if code != 0:
        return set()
    with contextlib.suppress(ValueError):
        return set(json.loads(output.strip().splitlines()[-1]))
    return set()


async def ensure_project_env(
    venv_dir: Path,
    requirements: Sequence[str],
    *,
    timeout: float = 300.0,  # noqa: ASYNC109 - one budget shared by the venv's pip runs
) -> ProjectEnv:
    """Make `venv_dir` a venv holding `requirements` (plus pytest), installing only what lacks.

    The venv is a plain one (no system site-packages). Requirements recorded as installed, or
    found installed by the venv's interpreter, are not passed to pip; when nothing is left pip
    is not run at all. If the batch install fails, each requirement is tried alone and those
    that still fail are returned in `missing`. `timeout` bounds all pip work of this call.
    Raises ProjectEnvError when the venv itself cannot be created.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    wanted = normalise_requirements(requirements)
    python = venv_python(venv_dir)
    if not python.exists():
        await _create_venv(venv_dir)
    recorded = _read_record(venv_dir)
    pending = [req for req in wanted if req not in recorded]
    if pending:
        found = await _already_satisfied(python, pending)
        recorded |= found
        pending = [req for req in pending if req not in found]
    if not pending:
        _write_record(venv_dir, recorded)
        return ProjectEnv(
            python=python,
            installed=wanted,
            missing=[],
            log=f"already installed: {', '.join(wanted)}; pip not run",
        )

    pip = [str(python), "-m", "pip", "install", *_PIP_FLAGS]
    logs: list[str] = []
    pip_runs = 1
    code, output = await _run([*pip, *pending], deadline - loop.time())
    logs.append(output)
    failed: list[str] = []
    if code != 0:
        for req in pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                failed.append(req)
                logs.append(f"no time left to install {req}")
                continue
            pip_runs += 1
            code, output = await _run([*pip, req], remaining)
            logs.append(output)
            if code != 0:
                failed.append(req)
    recorded |= {req for req in pending if req not in failed}
    _write_record(venv_dir, recorded)
    return ProjectEnv(
        python=python,
        installed=[req for req in wanted if req not in failed],
        missing=failed,
        log=_tail("\n".join(logs)),
        pip_runs=pip_runs,
    )
