"""Path safety for everything a run proposes to write.

A model can name any path it likes, so every path is checked before it is stored or written:
it must be relative, normalised, short enough for the file system, free of control and invisible
formatting characters, outside `.git` and `.sopls`, and — once a target folder is known — must not
leave that folder, not even through a symlink.

Two entry points share these checks. `safe_relative_path` is for a path a model (or a user)
names: it also refuses the documents sopls writes itself, so a model's file cannot take a
document's place. `proposal_path` is for a path a proposal holds or applies, where those
documents are sopls's own writes and allowed.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from agents.errors import SoplsError

NAME_MAX = 255  # bytes in one file name on Linux and macOS file systems
PATH_MAX = 4096  # bytes in a whole path on Linux, the terminating NUL included
TEST_REPORT_PATH = "docs/test_report.md"
DOCUMENT_STEMS = frozenset({"prd", "system_design", "tasks"})
"""The names of the documents the company writes under `docs/` (`docs/prd.json`, `docs/prd.md`)."""

_DRIVE = re.compile(r"^[A-Za-z]:")
_DOCUMENTS_SHOWN = ", ".join(
    [*(f"docs/{stem}.*" for stem in sorted(DOCUMENT_STEMS)), TEST_REPORT_PATH]
)
_SHOWN_CHARS = 120  # of a refused path in a message


def temporary_name(name: str) -> str:
    """The name a file is written under next to its place, before it is renamed into it."""
    return f".{name}.{secrets.token_hex(6)}.tmp"


_NAME_LIMIT = NAME_MAX - len(temporary_name("").encode())


class UnsafePathError(SoplsError):
    """A path could write outside the project, into its metadata, or not at all."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        shown = repr(path) if len(path) <= _SHOWN_CHARS else f"{path[:_SHOWN_CHARS]!r}…"
        super().__init__(
            f"Refusing the path {shown}: {reason}. "
            "Paths must be relative to the project root and stay inside it."
        )


def safe_relative_path(raw: str, root: Path | None = None) -> str:
    """Return `raw`, a path a model or user named, as a normalised relative POSIX path.

    Raises UnsafePathError, also for sopls's own documents. With `root`, the path is also
    resolved on disk (symlinks included) and must stay inside it.
    """
    return _checked(raw, root, documents=False)


def proposal_path(raw: str, root: Path | None = None) -> str:
    """As `safe_relative_path`, for a path a proposal holds: sopls's documents are allowed."""
    return _checked(raw, root, documents=True)


def _checked(raw: str, root: Path | None, *, documents: bool) -> str:
    _check_characters(raw)
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
    if ".." in parts:
        raise UnsafePathError(raw, "it contains a '..' component")
    _check_reserved(raw, parts, documents=documents)
    _check_lengths(raw, parts)
    relative = "/".join(parts)
    if root is not None:
        _check_inside(raw, relative, root, documents=documents)
    return relative


def _check_characters(raw: str) -> None:
    """Refuse characters that break a file name or make it read as another one."""
    for char in raw:
        category = unicodedata.category(char)
        if char == "\0":
            raise UnsafePathError(raw, "it contains a NUL byte")
        if category in ("Cc", "Zl", "Zp"):
            raise UnsafePathError(raw, "it contains a control character such as a line break")
        if category == "Cf":
            name = unicodedata.name(char, "a formatting character")
            raise UnsafePathError(
                raw,
                f"it contains the invisible character U+{ord(char):04X} ({name}), "
                "which makes a name look different from what it is",
            )
        if category == "Cs":
            raise UnsafePathError(raw, f"it contains U+{ord(char):04X}, half of a surrogate pair")


def _check_reserved(raw: str, parts: Sequence[str], *, documents: bool) -> None:
    # Windows ignores trailing dots and spaces and macOS ignores case, so ".GIT." is ".git".
    folded = [part.rstrip(" .").lower() for part in parts]
    if ".git" in folded:
        raise UnsafePathError(raw, "it points into a .git folder")
    if ".sopls" in folded:
        raise UnsafePathError(raw, "it points into a .sopls folder, where sopls keeps its runs")
    if not documents and _is_document(folded):
        raise UnsafePathError(
            raw, f"it is a document sopls writes itself ({_DOCUMENTS_SHOWN}); pick another name"
        )


def _is_document(folded: Sequence[str]) -> bool:
    if len(folded) != 2 or folded[0] != "docs":
        return False
    stem, dot, _ = folded[1].partition(".")
    return f"docs/{folded[1]}" == TEST_REPORT_PATH or (bool(dot) and stem in DOCUMENT_STEMS)


def _check_lengths(raw: str, parts: Sequence[str]) -> None:
    """Refuse names the file system would refuse half-way through writing a project."""
    for part in parts:
        size = len(part.encode())
        if size > _NAME_LIMIT:
            raise UnsafePathError(
                raw,
                f"a name in it is {size} bytes long; names may have at most {_NAME_LIMIT} "
                f"(the file system's {NAME_MAX}, less room for the temporary name used while "
                "writing)",
            )
    size = len("/".join(parts).encode())
    if size >= PATH_MAX:
        raise UnsafePathError(raw, f"it is {size} bytes long; a path may have {PATH_MAX - 1}")


def _check_inside(raw: str, relative: str, root: Path, *, documents: bool) -> None:
    """Refuse a path whose real location, after following symlinks, is not under `root`, or is
    one of its reserved paths under another name."""
    try:
        base = root.resolve()
        target = (base / relative).resolve()
    except (OSError, RuntimeError) as exc:
        raise UnsafePathError(raw, f"it cannot be resolved on disk ({exc})") from exc
    if target == base:
        raise UnsafePathError(raw, f"it resolves to the root folder {base} itself")
    if not target.is_relative_to(base):
        raise UnsafePathError(raw, f"it resolves to {target}, outside {base}")
    if len(os.fsencode(target)) >= PATH_MAX:
        raise UnsafePathError(raw, f"it would be longer than {PATH_MAX - 1} bytes under {base}")
    real = target.relative_to(base).parts
    if list(real) != relative.split("/"):
        try:
            _check_reserved(raw, real, documents=documents)
        except UnsafePathError as exc:
            raise UnsafePathError(raw, f"it resolves to {target}: {exc.reason}") from None


def read_inside(root: Path, raw: str) -> str | None:
    """The text of the file `raw` names under `root`, or None when there is no such regular file
    inside `root` (a symlink that leaves it, or a path sopls refuses, counts as none)."""
    try:
        relative = proposal_path(raw, root)
    except UnsafePathError:
        return None
    path = root / relative
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace")
