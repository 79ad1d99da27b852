"""Running untrusted generated code.

Code written by the model never runs in the user's process or tree. It runs in a temporary copy
(`sandbox_copy`) under bubblewrap: the system folders read-only, a private HOME and /tmp, only
its own copy writable, no network, its own PID namespace (nothing it starts outlives it), no
capabilities, and limits on processes, memory for the whole tree, CPU time, file size and open
files. The environment is built from an allowlist, so no API keys reach it.

Where bubblewrap cannot run, the command falls back to `unshare -rn` (no network, same limits,
but the file system is visible), and failing that to no namespace at all; the result's
`containment` and `notes` say which held, and a warning is logged once. POSIX only.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from agents.edits.proposal import Proposal
from agents.execution.bwrap import (
    SANDBOX_HOME,
    SANDBOX_TMP,
    bwrap_prefix,
    check_extra_env,
    find_executable,
    make_private_dirs,
    sandbox_env,
    tool_dirs,
)
from agents.execution.probe import (
    Containment,
    bwrap_executable,
    containment,
    containment_note,
    unshare_prefix,
)
from agents.execution.process import run_in_group
from agents.execution.resource_limits import (
    Cgroup,
    SandboxLimits,
    limit_notes,
    limit_resources,
    watch,
)

_COPY_IGNORE = shutil.ignore_patterns(".git", ".sopls", ".venv", "node_modules", "__pycache__")
_READ_CHUNK = 65_536
_DRAIN_GRACE = 0.5
_DEFAULT_LIMITS = SandboxLimits()


@dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed run did; `exit_code` is None when the time limit killed it.

    `containment` is how the run was contained and `notes` say what that means and which
    limit mechanisms held, in plain sentences for the test report.
    """

    command: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    network_isolated: bool
    containment: Containment = "none"
    notes: tuple[str, ...] = ()

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
    """A command's result in a sandboxed copy, where that copy was, and how its setup went."""

    result: SandboxResult
    root: Path
    setup: tuple[SandboxResult, ...] = ()


async def run_on_copy(
    source: Path | None,
    proposal: Proposal | None,
    command: Sequence[str],
    *,
    limits: SandboxLimits = _DEFAULT_LIMITS,
    extra_env: Mapping[str, str] | None = None,
    python: Path | None = None,
    read_only: Sequence[Path] = (),
    collect: Callable[[Path], None] | None = None,
    setup: Sequence[Sequence[str]] = (),
    links: Mapping[str, Path] | None = None,
) -> CopyRun:
    """Run `command` in a fresh copy of `source` (empty when None) with `proposal` written over
    it; `collect` reads what it needs from the copy before the copy is removed. Copying, collecting
    and cleaning up run off the event loop.

    The `setup` commands run first in the same copy, each contained and limited the same way
    (the command runs whatever they gave). `links` are names in the copy's root made links to
    folders outside it, which the runs see read-only (a cached `node_modules`, say)."""
    area = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="sopls-tests-"))
    links = links or {}
    seen = [*read_only, *links.values()]
    try:
        root = await asyncio.to_thread(sandbox_copy, source, area)
        if proposal is not None:
            await asyncio.to_thread(proposal.write_to, root)
        for name, target in links.items():
            await asyncio.to_thread(_replace_with_link, root / name, target)
        run = partial(run_sandboxed, root, limits=limits, extra_env=extra_env, python=python)
        prepared = tuple([await run(step, read_only=seen) for step in setup])
        result = await run(command, read_only=seen)
        if collect is not None:
            await asyncio.to_thread(collect, root)
    finally:
        await asyncio.to_thread(shutil.rmtree, area, ignore_errors=True)
    return CopyRun(result=result, root=root, setup=prepared)


def _replace_with_link(path: Path, target: Path) -> None:
    """Make `path` a link to `target`, whatever the copy had there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.symlink_to(target, target_is_directory=True)


async def _drain(stream: asyncio.StreamReader, tail: _Tail) -> None:
    while chunk := await stream.read(_READ_CHUNK):
        tail.feed(chunk)
    tail.feed(b"", final=True)


async def _execute(
    argv: Sequence[str],
    workdir: Path,
    env: Mapping[str, str],
    limits: SandboxLimits,
    group: Cgroup,
    tripped: list[str],
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
        readers = asyncio.gather(*map(_drain, streams, tails))

        async def wait(proc: asyncio.subprocess.Process) -> int:
            """Once the child holds the write ends, the readers can see the output end; the
            watchdog stands in where no cgroup holds the tree."""
            while write_ends:
                os.close(write_ends.pop())
            watchdog = None
            if not (group.memory and group.processes):
                watchdog = asyncio.create_task(watch(proc.pid, limits, tripped))
            try:
                return await proc.wait()
            finally:
                if watchdog is not None:
                    watchdog.cancel()

        try:
            exit_code = await run_in_group(
                argv,
                limits.timeout,
                wait,
                cwd=workdir,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_ends[0],
                stderr=write_ends[1],
                preexec_fn=limit_resources(limits, group),
            )
        except BaseException:
            readers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await readers
            raise
        finally:
            await group.remove()
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
    limits: SandboxLimits = _DEFAULT_LIMITS,
    extra_env: Mapping[str, str] | None = None,
    python: Path | None = None,
    read_only: Sequence[Path] = (),
    network: bool = False,
) -> SandboxResult:
    """Run `command` in `workdir` under `limits`, with a clean environment, contained.

    The environment holds only PATH, LANG, LC_ALL, TZ, TERM=dumb, a fresh HOME and TMPDIR, the
    Python no-bytecode/unbuffered flags and `extra_env`; when `python` (a venv's interpreter) is
    given, its bin directory goes first on PATH, VIRTUAL_ENV is set and the venv is mounted
    read-only. `extra_env` names that look like secrets raise ValueError.

    Under bubblewrap the command sees the system folders, the tools it needs (its own install
    prefix and PATH's folders) and `read_only` without write access, `workdir` writable at its
    own path, HOME and /tmp private and empty, no network (not even the host's 127.0.0.1), and
    nothing of the host's processes; every process it starts dies when it ends.

    `network=True` is for fetching dependencies with tools that run none of the project's
    code: the command then shares the host's network (the host's 127.0.0.1 included) and
    sees the resolver's settings and the trusted certificates of /etc read-only, while every
    other containment holds; under the `unshare` fallback it is `unshare -r`.

    On timeout everything is killed and the result has `timed_out=True`; when the awaiting task
    is cancelled everything is killed and the cancellation goes on. A command that does not
    exist gives exit code 127, not an exception.
    """
    check_extra_env(extra_env)
    argv = [str(part) for part in command]
    if not argv:
        raise ValueError("Empty command")
    kind, reason = await containment()
    started = time.monotonic()
    area = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="sopls-sandbox-"))
    try:
        home, tmp = make_private_dirs(area)
        if kind == "bubblewrap":
            env = sandbox_env(SANDBOX_HOME, SANDBOX_TMP, extra_env, python)
        else:
            env = sandbox_env(str(home), str(tmp), extra_env, python)
        executable = find_executable(argv[0], workdir, env["PATH"])
        if executable is None:
            return SandboxResult(
                command=argv,
                exit_code=127,
                stdout="",
                stderr=f"command not found or not executable: {argv[0]}\n",
                timed_out=False,
                seconds=time.monotonic() - started,
                network_isolated=kind != "none" and not network,
                containment=kind,
            )
        prefix: list[str] = []
        if kind == "bubblewrap":
            visible = [*tool_dirs(executable, env["PATH"], workdir), *read_only]
            if python is not None:
                visible += tool_dirs(str(python), "", workdir)
            prefix = bwrap_prefix(
                bwrap_executable(),
                area,
                home,
                tmp,
                workdir,
                dict.fromkeys(visible),
                network=network,
            )
        elif kind == "unshare":
            prefix = unshare_prefix(network)
        group = await asyncio.to_thread(Cgroup.create, limits)
        tripped: list[str] = []
        exit_code, stdout, stderr = await _execute(
            [*prefix, *argv], workdir, env, limits, group, tripped
        )
        return SandboxResult(
            command=argv,
            exit_code=exit_code,
            stdout=stdout,
            stderr=stderr,
            timed_out=exit_code is None,
            seconds=time.monotonic() - started,
            network_isolated=kind != "none" and not network,
            containment=kind,
            notes=(
                containment_note(kind, reason, network),
                *limit_notes(group, limits),
                *tripped,
            ),
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, area, ignore_errors=True)
