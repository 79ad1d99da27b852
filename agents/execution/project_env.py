"""A package environment for a generated project, built without running anything it holds.

The requirement strings come from the model, so they are hostile input: only plain names from
the package index with version specifiers are taken (no URLs, paths, `-e`, options, `@` or
markers), and only wheels, so no `setup.py` runs. sopls's own pip downloads the wheels on the
host, which reads their metadata and never their code; a fresh venv is then made and the wheels
installed inside the sandbox, without network, with the venv as the only writable folder.

The environment is `~/.sopls/envs/<hash>`, keyed by the exact normalised requirement set and the
interpreter, so no name the model chose picks it. sopls never runs its interpreter outside the
sandbox, and the tests see it read-only, so nothing planted there can run on the host.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agents.errors import SECRET_NAME, SoplsError
from agents.execution.build_cache import locked, read_record, write_record
from agents.execution.process import output_of
from agents.execution.resource_limits import SandboxLimits
from agents.execution.sandbox import run_sandboxed

_LOG_TAIL = 4_000
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_SPEC = r"(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9][A-Za-z0-9.*+!_-]*"
_REQUIREMENT = re.compile(
    rf"(?P<name>{_NAME})\s*"
    rf"(?:\[\s*(?P<extras>{_NAME}(?:\s*,\s*{_NAME})*)\s*\])?\s*"
    rf"(?P<specs>{_SPEC}(?:\s*,\s*{_SPEC})*)?"
)
_PIP_FLAGS = ("--disable-pip-version-check", "--no-input", "--only-binary", ":all:")


class ProjectEnvError(SoplsError):
    """The project's environment could not be built from wheels that were found."""

    def __init__(self, command: Sequence[str], output: str) -> None:
        self.command = list(command)
        self.output = output
        super().__init__(
            f"Could not build the project's environment: `{' '.join(self.command)}` failed; "
            f"fix or remove the requirement it names. Its output ends with:\n{output}"
        )


@dataclass(frozen=True)
class Requirements:
    """The model's requirements split into the accepted (normalised) and the refused ones."""

    accepted: list[str]
    refused: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The environment's name: a hash of the exact set and of the interpreter it is for."""
        identity = {
            "requirements": sorted(self.accepted),
            "python": sys.version,
            "platform": sysconfig.get_platform(),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class ProjectEnv:
    """The environment's interpreter and what it holds; `pip_runs` counts pip calls, and
    `missing` and `refused` name the requirements it does not hold."""

    python: Path
    installed: list[str]
    missing: list[str]
    log: str
    refused: list[str] = field(default_factory=list)
    pip_runs: int = 0
    missing_reasons: dict[str, str] = field(default_factory=dict)


def venv_python(venv_dir: Path) -> Path:
    """The interpreter inside `venv_dir` (POSIX layout)."""
    return venv_dir / "bin" / "python"


def default_envs_root() -> Path:
    return Path.home() / ".sopls" / "envs"


def normalise_requirements(requirements: Sequence[str]) -> Requirements:
    """Check and normalise the requirement strings a model wrote, and add pytest.

    Blank lines, comments and standard-library modules (`os`, `json`, `curses`, ...) are
    dropped, since models often list imports as packages; duplicates keep their first place.
    Anything but `name[extras] <specifiers>` is refused.
    """
    accepted: dict[str, str] = {}
    refused: list[str] = []
    for raw in requirements:
        text = raw.split(" #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        match = _REQUIREMENT.fullmatch(text)
        if match is None:
            refused.append(text)
            continue
        name = match["name"]
        if name in sys.stdlib_module_names or name.lower() in sys.stdlib_module_names:
            continue
        key = _canonical(name)
        extras = sorted({_canonical(e) for e in re.split(r"\s*,\s*", match["extras"] or "") if e})
        specs = sorted(re.sub(r"\s+", "", spec) for spec in re.split(r",", match["specs"] or ""))
        extra_text = f"[{','.join(extras)}]" if extras else ""
        accepted.setdefault(key, f"{key}{extra_text}{','.join(s for s in specs if s)}")
    accepted.setdefault("pytest", "pytest")
    return Requirements(accepted=list(accepted.values()), refused=refused)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _tail(text: str) -> str:
    return text if len(text) <= _LOG_TAIL else text[-_LOG_TAIL:]


def _pip_env() -> dict[str, str]:
    """The host environment for the download (index, proxy and certificates), minus secrets."""
    env = {name: value for name, value in os.environ.items() if not SECRET_NAME.search(name)}
    env["PIP_NO_INPUT"] = "1"
    return env


async def _download(argv: Sequence[str], seconds: float) -> tuple[int | None, str]:
    """Run sopls's own pip to download wheels; None as exit code means it timed out."""
    try:
        finished = await output_of(
            argv,
            seconds,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=_pip_env(),
        )
    except OSError as exc:
        return 127, f"{argv[0]}: {exc}"
    if finished is None:
        return None, f"timed out after {seconds:.0f} s: {' '.join(argv)}"
    return finished


_UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Network is unreachable|Name or service not known|ProxyError"
)
_NO_WHEEL = re.compile(r"No matching distribution found|Could not find a version")


def why_missing(pip_output: str) -> str:
    """Why pip could not download a requirement, in words for the test report."""
    if _UNREACHABLE.search(pip_output):
        return "the package index cannot be reached"
    if _NO_WHEEL.search(pip_output):
        return "the package index has no wheel of it for this Python (only wheels are installed)"
    if pip_output.startswith("timed out"):
        return "downloading it took too long"
    errors = [line for line in pip_output.splitlines() if line.startswith("ERROR:")]
    return errors[-1].removeprefix("ERROR:").strip() if errors else "pip could not download it"


async def _fetch_wheels(
    wanted: Sequence[str], wheels: Path, deadline: float
) -> tuple[dict[str, str], list[str], int]:
    """Download the wheels of `wanted` and their dependencies into `wheels`.

    When the whole set fails, each requirement is tried alone so the ones at fault are named.
    Returns (why each missing one is missing, logs, pip runs).
    """
    loop = asyncio.get_running_loop()
    pip = [sys.executable, "-m", "pip", "download", *_PIP_FLAGS, "--dest", str(wheels)]
    code, output = await _download([*pip, "--", *wanted], deadline - loop.time())
    logs, missing, runs = [output], {}, 1
    if code != 0:
        for requirement in wanted:
            remaining = deadline - loop.time()
            if remaining <= 0:
                missing[requirement] = "no time was left to download it"
                logs.append(f"no time left to download {requirement}")
                continue
            runs += 1
            code, output = await _download([*pip, "--", requirement], remaining)
            logs.append(output)
            if code != 0:
                missing[requirement] = why_missing(output)
    return missing, logs, runs


async def _build(env_dir: Path, wheels: Path, wanted: Sequence[str], seconds: float) -> str:
    """Make the venv and install the downloaded wheels, both inside the sandbox; no network,
    the venv the only writable folder, the wheels read-only."""
    limits = SandboxLimits(timeout=max(seconds, 1.0), output_limit=_LOG_TAIL)
    offline = ("--no-index", "--no-cache-dir", "--find-links", str(wheels))
    steps = (
        [sys.executable, "-m", "venv", str(env_dir)],
        [str(venv_python(env_dir)), "-m", "pip", "install", *_PIP_FLAGS, *offline, "--", *wanted],
    )
    logs: list[str] = []
    for command in steps:
        result = await run_sandboxed(
            env_dir,
            command,
            limits=limits,
            extra_env={"PIP_CONFIG_FILE": os.devnull},
            read_only=[wheels],
        )
        logs.append(result.stdout + result.stderr)
        if not result.ok:
            raise ProjectEnvError(command, _tail("\n".join(logs)))
    return "\n".join(logs)


def _record(wanted: Requirements) -> dict[str, list[str]]:
    return {"requirements": wanted.accepted}


async def ensure_project_env(
    requirements: Sequence[str],
    *,
    root: Path | None = None,
    timeout: float = 300.0,  # noqa: ASYNC109 - one budget shared by the downloads and the build
) -> ProjectEnv:
    """The environment holding `requirements` (plus pytest), built once per requirement set.

    Refused requirements are returned in `refused` and nothing is built for them. An
    environment already built (its record beside it, written by sopls once the build ended)
    is used as it is. Requirements whose wheels cannot be downloaded (no network, unknown name,
    no wheel) are returned in `missing` and nothing is built. `timeout` bounds all pip work.
    Raises ProjectEnvError when the downloaded wheels cannot be installed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    wanted = normalise_requirements(requirements)
    root = root if root is not None else default_envs_root()
    env_dir = root / wanted.key
    python = venv_python(env_dir)
    if wanted.refused:
        return ProjectEnv(
            python=python,
            installed=[],
            missing=[],
            refused=wanted.refused,
            log="refused (not a plain package name with versions): " + ", ".join(wanted.refused),
        )
    record = root / f"{wanted.key}.json"
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    async with locked(root / f"{wanted.key}.lock"):
        if await asyncio.to_thread(read_record, record, _record(wanted)):
            return ProjectEnv(
                python=python,
                installed=wanted.accepted,
                missing=[],
                log=f"already built for {', '.join(wanted.accepted)}; pip not run",
            )
        await asyncio.to_thread(shutil.rmtree, env_dir, ignore_errors=True)
        wheels = Path(await asyncio.to_thread(tempfile.mkdtemp, dir=root, prefix=".wheels-"))
        try:
            missing, logs, runs = await _fetch_wheels(wanted.accepted, wheels, deadline)
            if missing:
                return ProjectEnv(
                    python=python,
                    installed=[req for req in wanted.accepted if req not in missing],
                    missing=list(missing),
                    log=_tail("\n".join(logs)),
                    pip_runs=runs,
                    missing_reasons=missing,
                )
            await asyncio.to_thread(env_dir.mkdir)
            logs.append(await _build(env_dir, wheels, wanted.accepted, deadline - loop.time()))
            await asyncio.to_thread(write_record, record, _record(wanted))
        finally:
            await asyncio.to_thread(shutil.rmtree, wheels, ignore_errors=True)
    return ProjectEnv(
        python=python,
        installed=wanted.accepted,
        missing=[],
        log=_tail("\n".join(logs)),
        pip_runs=runs + 1,
    )
