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
import logging
import os
import re
import resource
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

from agents.edits.proposal import Proposal

logger = logging.getLogger("sopls.sandbox")

Containment = Literal["bubblewrap", "unshare", "none"]

_ALLOWED_ENV = ("PATH", "LANG", "LC_ALL", "TZ")
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
_COPY_IGNORE = shutil.ignore_patterns(".git", ".sopls", ".venv", "node_modules", "__pycache__")
_BWRAP = "bwrap"
_UNSHARE = ("unshare", "-rn")
_UNSHARE_WITH_NETWORK = ("unshare", "-r")
_READ_CHUNK = 65_536
_DRAIN_GRACE = 0.5
_PROBE_TIMEOUT = 10.0
_WATCH_INTERVAL = 0.1
_MB = 1024 * 1024

# Inside bubblewrap: who the command runs as, and where its private HOME and /tmp are.
SANDBOX_UID = 1000
SANDBOX_HOME = "/home/sandbox"
SANDBOX_TMP = "/tmp"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The part of /etc that programs need to start and that holds nothing about the machine's users
# or keys: the dynamic linker's cache, time zone, alternatives' links, name lookup of localhost.
_ETC_ENTRIES = (
    "alternatives",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "protocols",
    "services",
    "timezone",
)
# What a run with network adds: the resolver's settings and the trusted certificates, but
# not /etc/ssl/private. glibc, node (NODE_EXTRA_CA_CERTS) and cargo's OpenSSL read these.
_NETWORK_ETC_ENTRIES = (
    "resolv.conf",
    "gai.conf",
    "host.conf",
    "ssl/certs",
    "ssl/cert.pem",
    "ssl/openssl.cnf",
    "pki/tls/certs",
    "pki/ca-trust/extracted",
)
_CGROUP_ROOT = Path("/sys/fs/cgroup")

_containment: tuple[Containment, str] | None = None


@dataclass(frozen=True)
class SandboxLimits:
    """How long, how much and how many one sandboxed run may take.

    `memory_mb` caps each process's address space and, where a cgroup (or else the watchdog)
    holds, the resident memory of the whole tree; `processes` counts the whole tree too.
    """

    timeout: float = 60.0
    memory_mb: int = 2048
    output_limit: int = 64_000
    processes: int = 256
    cpu_seconds: int = 300
    file_size_mb: int = 1024
    open_files: int = 1024


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


async def containment() -> tuple[Containment, str]:
    """The strongest containment that works here and, when it is not bubblewrap, why.

    Probed once per process, as it cannot change; a weaker result is logged as a warning once.
    """
    global _containment
    if _containment is None:
        _containment = await _probe()
        kind, reason = _containment
        if kind != "bubblewrap":
            logger.warning(
                "Generated code runs %s because %s; install bubblewrap (apt-get install "
                "bubblewrap) to contain it.",
                "with only `unshare -rn` (no network)" if kind == "unshare" else "unconfined",
                reason,
            )
    return _containment


async def network_isolation_available() -> bool:
    """Whether sandboxed commands run without network here."""
    kind, _reason = await containment()
    return kind != "none"


async def _probe() -> tuple[Containment, str]:
    area = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="sopls-probe-"))
    try:
        home, tmp = _make_private_dirs(area)
        bwrap = shutil.which(_BWRAP)
        if bwrap is None:
            reason = "bwrap is not installed"
        else:
            argv = [*_bwrap_prefix(bwrap, area, home, tmp, area, []), "true"]
            code, output = await _probe_run(argv)
            if code == 0:
                return "bubblewrap", ""
            reason = f"bwrap does not run here ({output.strip() or f'exit code {code}'})"
        if (
            shutil.which(_UNSHARE[0]) is not None
            and (await _probe_run([*_UNSHARE, "true"]))[0] == 0
        ):
            return "unshare", reason
        return "none", f"{reason}, and `unshare -rn` does not work either"
    finally:
        await asyncio.to_thread(shutil.rmtree, area, ignore_errors=True)


async def _probe_run(argv: Sequence[str]) -> tuple[int | None, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return None, str(exc)
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT):
            _out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None, "timed out"
    return proc.returncode, err.decode("utf-8", errors="replace")[:300]


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
    limits: SandboxLimits = SandboxLimits(),
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


def _make_private_dirs(area: Path) -> tuple[Path, Path]:
    home, tmp = area / "home", area / "tmp"
    home.mkdir()
    tmp.mkdir()
    (area / "passwd").write_text(
        f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{SANDBOX_HOME}:/bin/sh\n", encoding="utf-8"
    )
    (area / "group").write_text(f"sandbox:x:{SANDBOX_UID}:\n", encoding="utf-8")
    return home, tmp


def _sandbox_env(
    home: str, tmp: str, extra_env: Mapping[str, str] | None, python: Path | None
) -> dict[str, str]:
    """Build the child's environment from an allowlist, so nothing secret can leak in."""
    env = {name: os.environ[name] for name in _ALLOWED_ENV if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env.update(
        TERM="dumb",
        HOME=home,
        TMPDIR=tmp,
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


def _is_system_path(path: Path) -> bool:
    return any(path == Path(top) or Path(top) in path.parents for top in _SYSTEM_DIRS)


def _tool_dirs(executable: str, path: str, workdir: Path) -> list[Path]:
    """What must be visible for a program outside the system folders to run: the install
    prefix of the program and of its interpreter (a venv's python links to its base), and the
    folders on PATH. None of them is the real HOME or one of its parents, and none lies in
    `workdir`, which stays writable."""
    found: list[Path] = []
    home = Path.home().resolve()
    for program in _link_chain(Path(executable)):
        if not _is_system_path(program):
            prefix = program.parent.parent if program.parent.name == "bin" else program.parent
            # A tool's own folder in HOME (~/.cargo) also keeps its credentials: only its bin.
            if prefix.resolve().parent == home and prefix.name.startswith("."):
                prefix = program.parent
            found.append(prefix)
    found += [Path(entry) for entry in path.split(os.pathsep) if os.path.isabs(entry)]
    return [
        folder
        for folder in found
        if folder.is_dir()
        and not _is_system_path(folder)
        and not folder.resolve().is_relative_to(workdir.resolve())
        and folder.resolve() != Path("/")
        and folder.resolve() not in (home, *home.parents)
    ]


def _link_chain(path: Path) -> list[Path]:
    """`path` and every file its symlinks lead through, as each hop must be visible."""
    chain = [path]
    while chain[-1].is_symlink() and len(chain) < 40:
        chain.append(chain[-1].parent / os.readlink(chain[-1]))
    return [Path(os.path.normpath(hop)) for hop in chain]


def _bwrap_prefix(
    bwrap: str,
    area: Path,
    home: Path,
    tmp: Path,
    workdir: Path,
    read_only: Iterable[Path],
    *,
    network: bool = False,
) -> list[str]:
    """bubblewrap's arguments: a new root holding only what is listed here, every namespace
    new (the network one kept when `network`), no capabilities, and the process tree tied to
    sopls."""
    argv = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--cap-drop",
        "ALL",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
    ]
    etc_entries = _ETC_ENTRIES
    if network:
        argv.append("--share-net")
        etc_entries += _NETWORK_ETC_ENTRIES
    for top in _SYSTEM_DIRS:
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for entry in etc_entries:
        argv += ["--ro-bind-try", f"/etc/{entry}", f"/etc/{entry}"]
    argv += ["--ro-bind", str(area / "passwd"), "/etc/passwd"]
    argv += ["--ro-bind", str(area / "group"), "/etc/group"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--bind", str(tmp), SANDBOX_TMP, "--bind", str(home), SANDBOX_HOME]
    # Outer folders first, so a folder inside another one is mounted over it.
    mounts = [(workdir, "--bind"), *((path, "--ro-bind") for path in read_only)]
    for path, how in sorted(mounts, key=lambda mount: len(mount[0].parts)):
        argv += [how, str(path), str(path)]
    return [*argv, "--chdir", str(workdir), "--"]


@dataclass
class _Cgroup:
    """A cgroup per run that caps memory and processes for the whole tree, where writable."""

    folders: list[Path] = field(default_factory=list)
    memory: bool = False
    processes: bool = False

    @classmethod
    def create(cls, limits: SandboxLimits) -> _Cgroup:
        group = cls()
        name = f"sopls-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        memory = str(limits.memory_mb * _MB)
        v1 = (
            ("memory", {"memory.limit_in_bytes": memory, "memory.memsw.limit_in_bytes": memory}),
            ("pids", {"pids.max": str(limits.processes)}),
        )
        for controller, settings in v1:
            folder = _own_cgroup(controller)
            if folder is not None and group._add(folder / name, settings):
                group.memory |= controller == "memory"
                group.processes |= controller == "pids"
        if not (group.memory and group.processes):
            folder = _own_cgroup("")
            settings = {
                "memory.max": memory,
                "memory.swap.max": "0",
                "pids.max": str(limits.processes),
            }
            if folder is not None and group._add(folder / name, settings):
                group.memory = group.processes = True
        return group

    def _add(self, folder: Path, settings: Mapping[str, str]) -> bool:
        """Make `folder` with `settings`; the first setting must hold, the others may not exist."""
        try:
            folder.mkdir()
        except OSError:
            return False
        for index, (name, value) in enumerate(settings.items()):
            try:
                (folder / name).write_text(value, encoding="ascii")
            except OSError:
                if index == 0 or name == "pids.max":
                    with contextlib.suppress(OSError):
                        folder.rmdir()
                    return False
        self.folders.append(folder)
        return True

    def join(self) -> None:
        """Move the calling process in; runs in the child between fork and exec."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text("0", encoding="ascii")

    def members(self) -> set[int]:
        pids: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                pids |= {int(line) for line in (folder / "cgroup.procs").read_text().split()}
        return pids

    async def remove(self) -> None:
        """Kill whatever is still inside, then remove the folders once they are empty."""
        for _ in range(50):
            pids = self.members()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.02)
        for folder in self.folders:
            with contextlib.suppress(OSError):
                folder.rmdir()


def _own_cgroup(controller: str) -> Path | None:
    """This process's cgroup folder for a v1 `controller`, or its v2 folder for ""."""
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    if controller:
        mounts = [_CGROUP_ROOT / controller]
    else:
        mounts = [
            m
            for m in (_CGROUP_ROOT, _CGROUP_ROOT / "unified")
            if (m / "cgroup.controllers").exists()
        ]
    for line in lines:
        _id, controllers, path = line.split(":", 2)
        if controllers.split(",") == [controller] or controllers == controller == "":
            for mount in mounts:
                if (mount / "cgroup.procs").exists():
                    return mount / path.lstrip("/")
    return None


def _user_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += 1
    return count


def _limit_resources(limits: SandboxLimits, group: _Cgroup) -> Callable[[], None]:
    """A preexec_fn that joins the run's cgroup and sets the per-process limits.

    RLIMIT_AS counts address space per process; the cgroup (or the watchdog) bounds the tree.
    RLIMIT_NPROC counts all processes of the user, so it is set above the count of now; it does
    not bind root, for which the cgroup's pids.max is the bound.
    """
    nproc = _user_processes() + limits.processes
    caps = {
        resource.RLIMIT_AS: limits.memory_mb * _MB,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_FSIZE: limits.file_size_mb * _MB,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_NPROC: nproc,
    }

    def apply() -> None:
        group.join()
        for kind, wanted in caps.items():
            _soft, hard = resource.getrlimit(kind)
            cap = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(kind, (cap, cap))

    return apply


def _tree(root: int) -> list[tuple[int, int]]:
    """(pid, resident pages) of `root` and every process below it."""
    children: dict[int, list[int]] = {}
    resident: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        resident[pid] = int(fields[21])
    found: list[tuple[int, int]] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        found.append((pid, resident.get(pid, 0)))
        pending += children.get(pid, [])
    return found


async def _watch(root: int, limits: SandboxLimits, tripped: list[str]) -> None:
    """Kill the tree when its resident memory or process count passes the limits; the
    fallback where no cgroup can hold them."""
    page = os.sysconf("SC_PAGE_SIZE")
    while True:
        await asyncio.sleep(_WATCH_INTERVAL)
        tree = await asyncio.to_thread(_tree, root)
        used = sum(pages for _pid, pages in tree) * page
        if used > limits.memory_mb * _MB or len(tree) > limits.processes:
            tripped.append(
                f"The watchdog killed the run: its processes held {used // _MB} MB in "
                f"{len(tree)} processes (limits {limits.memory_mb} MB, {limits.processes})."
            )
            for pid, _pages in tree:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            return


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def _drain(stream: asyncio.StreamReader, tail: _Tail) -> None:
    while chunk := await stream.read(_READ_CHUNK):
        tail.feed(chunk)
    tail.feed(b"", final=True)


async def _execute(
    argv: Sequence[str],
    workdir: Path,
    env: Mapping[str, str],
    limits: SandboxLimits,
    group: _Cgroup,
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
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=write_ends[0],
            stderr=write_ends[1],
            start_new_session=True,
            preexec_fn=_limit_resources(limits, group),
        )
        while write_ends:
            os.close(write_ends.pop())
        readers = asyncio.gather(*map(_drain, streams, tails))
        watchdog = None
        if not (group.memory and group.processes):
            watchdog = asyncio.create_task(_watch(proc.pid, limits, tripped))
        exit_code: int | None
        try:
            async with asyncio.timeout(limits.timeout):
                exit_code = await proc.wait()
        except TimeoutError:
            exit_code = None
        except BaseException:
            readers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await readers
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            _kill_group(proc.pid)
            if proc.returncode is None:
                await proc.wait()
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


def _notes(
    kind: Containment, reason: str, group: _Cgroup, limits: SandboxLimits, network: bool
) -> list[str]:
    net = "the host's network" if network else "no network"
    unshare = " ".join(_UNSHARE_WITH_NETWORK if network else _UNSHARE)
    notes = {
        "bubblewrap": (
            "Contained by bubblewrap: system folders read-only, a private HOME and /tmp, only "
            f"its own copy writable, {net}, its own PID namespace, no capabilities."
        ),
        "unshare": (
            f"Not contained by bubblewrap ({reason}): only `{unshare}` held, so there was "
            f"{net} but the file system and the host's processes were visible; install "
            "bubblewrap."
        ),
        "none": (
            f"Not contained at all ({reason}): the code ran with the host's network and file "
            "system; install bubblewrap."
        ),
    }
    held = [name for name, on in (("memory", group.memory), ("processes", group.processes)) if on]
    lacking = [name for name in ("memory", "processes") if name not in held]
    limit_notes = [
        f"Per process: {limits.memory_mb} MB of address space, {limits.cpu_seconds} s of CPU, "
        f"files up to {limits.file_size_mb} MB, {limits.open_files} open files."
    ]
    if held:
        limit_notes.append(f"A cgroup capped the whole tree's {' and '.join(held)}.")
    if lacking:
        limit_notes.append(
            f"No cgroup was writable for {' and '.join(lacking)}: a watchdog summed the tree's "
            "resident memory and processes and killed it past the limits."
        )
    return [notes[kind], *limit_notes]


async def run_sandboxed(
    workdir: Path,
    command: Sequence[str],
    *,
    limits: SandboxLimits = SandboxLimits(),
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
    _check_extra_env(extra_env)
    argv = [str(part) for part in command]
    if not argv:
        raise ValueError("Empty command")
    kind, reason = await containment()
    started = time.monotonic()
    area = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="sopls-sandbox-"))
    try:
        home, tmp = _make_private_dirs(area)
        if kind == "bubblewrap":
            env = _sandbox_env(SANDBOX_HOME, SANDBOX_TMP, extra_env, python)
        else:
            env = _sandbox_env(str(home), str(tmp), extra_env, python)
        executable = _find_executable(argv[0], workdir, env["PATH"])
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
            visible = [*_tool_dirs(executable, env["PATH"], workdir), *read_only]
            if python is not None:
                visible += _tool_dirs(str(python), "", workdir)
            prefix = _bwrap_prefix(
                shutil.which(_BWRAP) or _BWRAP,
                area,
                home,
                tmp,
                workdir,
                dict.fromkeys(visible),
                network=network,
            )
        elif kind == "unshare":
            prefix = list(_UNSHARE_WITH_NETWORK if network else _UNSHARE)
        group = await asyncio.to_thread(_Cgroup.create, limits)
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
            notes=(*_notes(kind, reason, group, limits, network), *tripped),
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, area, ignore_errors=True)
