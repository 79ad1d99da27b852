"""Path safety for everything a run proposes to write.

A model can name any path it likes, so every path is checked before it is stored or written:
it must be relative, normalised, outside `.git`, and — once a target folder is known — must not
leave that folder, not even through a symlink.
"""

from __future__ import annotations

import re
from pathlib import Path

from agents.errors import SoplsError

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x01-\x1f\x7f]")


class UnsafePathError(SoplsError):
    """A path could write outside the project or into its repository metadata."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"Refusing the path {path!r}: {reason}. "
            "Paths must be relative to the project root and stay inside it."
        )


def safe_relative_path(raw: str, root: Path | None = None) -> str:
    """Return `raw` as a normalised relative POSIX path, or raise UnsafePathError.

    With `root`, the path is also resolved on disk (symlinks included) and must stay inside it.
    """
    if "\0" in raw:
        raise UnsafePathError(raw, "it contains a NUL byte")
    if _CONTROL.search(raw):
        raise UnsafePathError(raw, "it contains a control character such as a line break")
    if not raw.strip():
        raise UnsafePathError(raw, "it is empty")
    text = raw.replace("\\", "/")
    if text.startswith("/"):
        raise UnsafePathError(raw, "it is absolute")
    if _DRIVE.match(text):
        raise UnsafePathError(raw, "it starts with a drive letter")
    if text.startswith("~"):
        raise UnsafePathError(raw, "it starts with ~ (a home folder)")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if not parts:
        raise UnsafePathError(raw, "it names the root folder itself, not a file")
    for part in parts:
        if part == "..":
            raise UnsafePathError(raw, "it contains a '..' component")
        # Windows ignores trailing dots and spaces, so ".git." would reach the same folder.
        if part.rstrip(" .").lower() == ".git":
            raise UnsafePathError(raw, "it points into a .git folder")
    relative = "/".join(parts)
    if root is not None:
        _check_inside(raw, relative, root)
    return relative


def _check_inside(raw: str, relative: str, root: Path) -> None:
    """Refuse a path whose real location, after following symlinks, is not under `root`."""
    try:
        base = root.resolve()
        target = (base / relative).resolve()
    except (OSError, RuntimeError) as exc:
        raise UnsafePathError(raw, f"it cannot be resolved on disk ({exc})") from exc
    if target == base:
        raise UnsafePathError(raw, f"it resolves to the root folder {base} itself")
    if not target.is_relative_to(base):
        raise UnsafePathError(raw, f"it resolves to {target}, outside {base}")
