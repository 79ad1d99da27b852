"""Starting a process that must not outlive its deadline, nor leave children behind.

The process leads a new session, so one signal to its group reaches everything it started,
and the group is killed whichever way the wait ends: in time, past the deadline, or cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group; one that is already gone is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def run_in_group(
    argv: Sequence[str],
    seconds: float,
    wait: Callable[[asyncio.subprocess.Process], Awaitable[T]],
    **spawn: Any,
) -> T | None:
    """Start `argv` in its own process group and await `wait(process)` for at most `seconds`.

    None means the deadline passed. The group is killed and the process reaped before this
    returns or raises, so a background child the command left running dies with it. `spawn` goes
    to `asyncio.create_subprocess_exec`; an OSError from starting the process propagates.
    """
    proc = await asyncio.create_subprocess_exec(*argv, start_new_session=True, **spawn)
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            return await wait(proc)
    except TimeoutError:
        return None
    finally:
        kill_group(proc.pid)
        if proc.returncode is None:
            await proc.wait()


async def output_of(argv: Sequence[str], seconds: float, **spawn: Any) -> tuple[int, str] | None:
    """`argv`'s exit code and what it wrote to the streams `spawn` pipes, decoded; None past the
    deadline. Standard input is closed unless `spawn` says otherwise."""

    async def communicate(proc: asyncio.subprocess.Process) -> tuple[int, str]:
        out, err = await proc.communicate()
        text = (out or b"") + (err or b"")
        return proc.returncode or 0, text.decode("utf-8", errors="replace")

    return await run_in_group(
        argv, seconds, communicate, **{"stdin": asyncio.subprocess.DEVNULL, **spawn}
    )
