"""Running untrusted generated code.

Code written by the model is never run in the user's process or tree: it runs in a temporary
copy (`sandbox_copy`), in its own process group, under a time limit and a memory limit, with an
environment built from an allowlist (so no API keys), with HOME and TMPDIR in a throwaway area,
and without network where the OS allows an unprivileged network namespace. POSIX only.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agents.proposal import Proposal

_ALLOWED_ENV = ("PATH", "LANG", "LC_ALL", "TZ")
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
_COPY_IGNORE = shutil.ignore_patterns(".git", ".sopls", ".venv", "node_modules", "__pycache__")
_NETWORK_PREFIX = ("unshare", "-rn")
_READ_CHUNK = 65_536
_DRAIN_GRACE = 0.5
_PROBE_TIMEOUT = 10.0

_network_isolation: bool | None = None


@dataclass(frozen=True)
class SandboxLimits:
    """How long, how much memory and how much output one sandboxed run may take."""

    timeout: float = 60.0
    memory_mb: int = 2048
    output_limit: int = 64_000


@dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed run did; `exit_code` is None when the time limit killed it."""

    command: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    network_isolated: bool

    @property
    def ok(self) -> bool:
        """True when the command finished in time and exited 0."""
        return self.exit_code == 0 and not self.timed_out


class _Tail:
    """Keeps the end of a stream, where test summaries are, and counts what it dropped."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: list[str] = []
        self._size = 0
        self._cut = 0

    def feed(self, data: bytes, *, final: bool = False) -> None:
        text = self._decoder.decode(data, final)
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * self._limit:
            self._trim()

    def _trim(self) -> None:
        joined = "".join(self._parts)
        keep = joined[-self._limit :] if self._limit > 0 else ""
        self._cut += len(joined) - len(keep)
        self._parts = [keep]
        self._size = len(keep)

    def text(self) -> str:
        self._trim()
        if not self._cut:
            return self._parts[0]
        return f"[… {self._cut} characters cut …]\n{self._parts[0]}"


async def network_isolation_available() -> bool:
    """Whether `unshare -rn` works here; probed once per process, as it cannot change."""
    global _network_isolation
    if _network_isolation is None:
        _network_isolation = await _probe_unshare()
    return _network_isolation


async def _probe_unshare() -> bool:
    if shutil.which(_NETWORK_PREFIX[0]) is None:
        return False
    try:
        proc = await asyncio.create_subprocess_exec(
            *_NETWORK_PREFIX,
            "true",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return False
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT):
            return await proc.wait() == 0
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False


def sandbox_copy(source: Path | None, into: Path) -> Path:
    """Copy a project tree into `into` for one run, leaving out VCS, caches and environments.

    The copy root is `into/<source name>` (or `into/project` when `source` is None, which gives
    an empty directory), so the generated code can change or break its copy freely. Symlinks are
    copied as links, not followed. Blocking: call it through `asyncio.to_thread` from async code.
    """
    root = into / (source.name if source is not None and source.name else "project")
    if source is None:
        root.mkdir(parents=True)
    else:
        shutil.copytree(source, root, symlinks=True, ignore=_COPY_IGNORE)
    return root


@dataclass(frozen=True)
class CopyRun:
    """A command's result in a sandboxed copy, and where that copy was."""

    result: SandboxResult
    root: Path


async def run_on_copy(
    source: Path | None,
    proposal: Proposal | None,
    command: Sequence[str],
    *,
    limits: SandboxLimits = SandboxLimits(),
    extra_env: Mapping[str, str] | None = None,
    python: Path | None = None,
) -> CopyRun:
    """Run `command` in a fresh copy of `source` (empty when None) with `proposal` written over
    it; the copy is removed afterwards. Copying and cleaning up run off the event loop."""
    area = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="sopls-tests-"))
    try:
        root = await asyncio.to_thread(sandbox_copy, source, area)
        if proposal is not None:
            await asyncio.to_thread(proposal.write_to, root)
        result = await run_sandboxed(
            root, command, limits=limits, extra_env=extra_env, python=python
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, area, ignore_errors=True)
    return CopyRun(result=result, root=root)


def _sandbox_env(
    area: Path, extra_env: Mapping[str, str] | None, python: Path | None
) -> dict[str, str]:
    """Build the child's environment from an allowlist, so nothing secret can leak in."""
    env = {name: os.environ[name] for name in _ALLOWED_ENV if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    home = area / "home"
    tmp = area / "tmp"
    home.mkdir()
    tmp.mkdir()
    env.update(
        TERM="dumb",
        HOME=str(home),
        TMPDIR=str(tmp),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    if python is not None:
        env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
        env["VIRTUAL_ENV"] = str(python.parent.parent)
    env.update(extra_env or {})
    return env


def _check_extra_env(extra_env: Mapping[str, str] | None) -> None:
    secret = sorted(name for name in extra_env or {} if _SECRET_NAME.search(name))
    if secret:
        raise ValueError(
            f"Refusing to pass secret-looking variables into the sandbox: {', '.join(secret)}"
        )


def _find_executable(name: str, workdir: Path, path: str) -> str | None:
    if os.sep in name:
        candidate = Path(name) if os.path.isabs(name) else workdir / name
        usable = candidate.is_file() and os.access(candidate, os.X_OK)
        return str(candidate) if usable else None
    return shutil.which(name, path=path)


def _limit_memory(memory_mb: int) -> Callable[[], None]:
    """A preexec_fn capping the address space of the child.

    RLIMIT_AS is per process: every process the command starts gets the same cap, the cap is
    not shared between them, and it counts address space (mappings), not resident memory.
    """
    wanted = memory_mb * 1024 * 1024

    def apply() -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def _drain(stream: asyncio.StreamReader, tail: _Tail) -> None:
    while chunk := await stream.read(_READ_CHUNK):
        tail.feed(chunk)
    tail.feed(b"", final=True)


async def _execute(
    argv: Sequence[str], workdir: Path, env: Mapping[str, str], limits: SandboxLimits
) -> tuple[int | None, str, str]:
    """Spawn, wait within the time limit, kill the group, and return (exit code, out, err).

    The output goes through pipes made here rather than asyncio's own: asyncio's `wait()` also
    waits for its pipes to close, which a background process the command left running would
    delay until the time limit. These pipes are read on their own and only drained briefly
    after the group is killed, since a process that escaped the group may hold them open.
    """
    loop = asyncio.get_running_loop()
    tails = (_Tail(limits.output_limit), _Tail(limits.output_limit))
    transports: list[asyncio.ReadTransport] = []
    streams: list[asyncio.StreamReader] = []
    write_ends: list[int] = []
    try:
        for _ in tails:
            read_end, write_end = os.pipe()
            write_ends.append(write_end)
            stream = asyncio.StreamReader()
            transport, _protocol = await loop.connect_read_pipe(
                lambda stream=stream: asyncio.StreamReaderProtocol(stream),
                os.fdopen(read_end, "rb", buffering=0),
            )
            transports.append(transport)
            streams.append(stream)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=write_ends[0],
            stderr=write_ends[1],
            start_new_session=True,
            preexec_fn=_limit_memory(limits.memory_mb),
        )
        while write_ends:
            os.close(write_ends.pop())
        readers = asyncio.gather(*map(_drain, streams, tails))
        exit_code: int | None
        try:
            async with asyncio.timeout(limits.timeout):
                exit_code = await proc.wait()
        except TimeoutError:
            exit_code = None
        except BaseException:
            readers.cancel()
            raise
        finally:
            _kill_group(proc.pid)
            if proc.returncode is None:
                await proc.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_DRAIN_GRACE):
                await readers
        return exit_code, tails[0].text(), tails[1].text()
    finally:
        for write_end in write_ends:
            os.close(write_end)
        for transport in transports:
            transport.close()


async def run_sandboxed(
    workdir: Path,
    command: Sequence[str],
    *,
    limits: SandboxLimits = SandboxLimits(),
    extra_env: Mapping[str, str] | None = None,
    python: Path | None = None,
) -> SandboxResult:
    """Run `command` in `workdir` under `limits`, with a clean environment.

    The environment holds only PATH, LANG, LC_ALL, TZ, TERM=dumb, a fresh HOME and TMPDIR, the
    Python no-bytecode/unbuffered flags and `extra_env`; when `python` (a venv's interpreter) is
    given, its bin directory goes first on PATH and VIRTUAL_ENV is set. `extra_env` names that
    look like secrets raise ValueError.

    Network: when `unshare -rn` works on this machine the command runs in a new user and network
    namespace, whose only interface is a loopback that is down, so it reaches nothing, not even
    servers on the host's 127.0.0.1. Where it does not work the command runs with the host's
    network and the result says `network_isolated=False`.

    On timeout the whole process group is killed and the result has `timed_out=True`; when the
    awaiting task is cancelled the group is killed and the cancellation goes on. When the command
    ends, processes it left behind in its group are killed too. A command that does not exist
    gives exit code 127, not an exception.
    """
    _check_extra_env(extra_env)
    argv = [str(part) for part in command]
    if not argv:
        raise ValueError("Empty command")
    isolated = await network_isolation_available()
    started = time.monotonic()
    area = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="sopls-sandbox-"))
    try:
        env = _sandbox_env(area, extra_env, python)
        if _find_executable(argv[0], workdir, env["PATH"]) is None:
            return SandboxResult(
                command=argv,
                exit_code=127,
                stdout="",
                stderr=f"command not found or not executable: {argv[0]}\n",
                timed_out=False,
                seconds=time.monotonic() - started,
                network_isolated=isolated,
            )
        prefix = list(_NETWORK_PREFIX) if isolated else []
        exit_code, stdout, stderr = await _execute([*prefix, *argv], workdir, env, limits)
        return SandboxResult(
            command=argv,
            exit_code=exit_code,
            stdout=stdout,
            stderr=stderr,
            timed_out=exit_code is None,
            seconds=time.monotonic() - started,
            network_isolated=isolated,
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, area, ignore_errors=True)
