"""How much one sandboxed run may take, and what holds it there.

Per-process rlimits are set between fork and exec; the whole tree is capped by a cgroup of its
own where one is writable, and otherwise by a watchdog that sums the tree's resident memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_WATCH_INTERVAL = 0.1
_MB = 1024 * 1024
_CGROUP_ROOT = Path("/sys/fs/cgroup")


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


@dataclass
class Cgroup:
    """A cgroup per run that caps memory and processes for the whole tree, where writable."""

    folders: list[Path] = field(default_factory=list)
    memory: bool = False
    processes: bool = False

    @classmethod
    def create(cls, limits: SandboxLimits) -> Cgroup:
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


def limit_resources(limits: SandboxLimits, group: Cgroup) -> Callable[[], None]:
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


async def watch(root: int, limits: SandboxLimits, tripped: list[str]) -> None:
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


def limit_notes(group: Cgroup, limits: SandboxLimits) -> list[str]:
    """Which limits held a run, in plain sentences for the test report."""
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
    return limit_notes
