"""Which containment holds on this machine: bubblewrap, else `unshare -rn`, else none.

Probed once per process, as it cannot change; a weaker result is logged as a warning once, and
each run's notes say what the containment meant for it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from agents.execution.bwrap import bwrap_prefix, make_private_dirs
from agents.execution.process import output_of

logger = logging.getLogger("sopls.sandbox")

Containment = Literal["bubblewrap", "unshare", "none"]

_BWRAP = "bwrap"
_UNSHARE = ("unshare", "-rn")
_UNSHARE_WITH_NETWORK = ("unshare", "-r")
_PROBE_TIMEOUT = 10.0

_containment: tuple[Containment, str] | None = None


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
        home, tmp = make_private_dirs(area)
        bwrap = shutil.which(_BWRAP)
        if bwrap is None:
            reason = "bwrap is not installed"
        else:
            argv = [*bwrap_prefix(bwrap, area, home, tmp, area, []), "true"]
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
        finished = await output_of(argv, _PROBE_TIMEOUT, stdout=DEVNULL, stderr=PIPE)
    except OSError as exc:
        return None, str(exc)
    if finished is None:
        return None, "timed out"
    code, err = finished
    return code, err[:300]


def bwrap_executable() -> str:
    """The bubblewrap program that runs are wrapped in."""
    return shutil.which(_BWRAP) or _BWRAP


def unshare_prefix(network: bool) -> list[str]:
    """The fallback's arguments: a new user namespace, and a new network one unless `network`."""
    return list(_UNSHARE_WITH_NETWORK if network else _UNSHARE)


def containment_note(kind: Containment, reason: str, network: bool) -> str:
    """What the containment of a run meant, in a plain sentence for the test report."""
    net = "the host's network" if network else "no network"
    unshare = " ".join(unshare_prefix(network))
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
    return notes[kind]
