"""Writing a file so that a reader never sees half of it: a crash leaves the old text or the new.

Proposals applied to disk, run state and the records of finished builds all write this way.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agents.edits.paths import temporary_name


def write_atomic(target: Path, text: str) -> None:
    """Write `text` as UTF-8 via a temporary file in the same folder and `os.replace`.

    The folder is made when missing. The temporary file is opened with the usual 0o666 so the
    umask applies as for any new file; an existing file keeps its permission bits (an
    executable script stays executable).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(temporary_name(target.name))
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists() and not target.is_symlink():
            os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
