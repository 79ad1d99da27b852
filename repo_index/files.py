"""Which files of a workspace are worth indexing, and reading them safely.

In a git repository the file list comes from one `git ls-files` call (tracked plus untracked files
that are not ignored), so the index sees what the user's own tools see. It goes through
GitPython: measured in the language-server process, importing it adds about 30-40 ms once and the
call itself costs the same as a bare subprocess. Any other folder is walked with the usual
ignores and a simple reading of its top-level `.gitignore`.

Both paths apply the same filters: a known language, no vendored or hidden folder in the path, at
most `MAX_FILE_BYTES`, and the file must exist. Sizes are taken from `stat`, so discovery reads no
file contents; `read_source` then rejects binaries and minified or generated code.

Symlinks are never followed, wherever they point. One to a file outside the workspace would put
that file (a key, another project) into the map and the prompts; one inside names a file that
is indexed under its own path already. A checkout holds no path beyond a linked folder and the
walk enters none, so the last component is what is checked (`lstat`, `O_NOFOLLOW` to read).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from repo_index.languages import index_language_for_path

try:
    import git
except ImportError:  # GitPython refuses to import when no git executable is on PATH
    git = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 1024 * 1024
BINARY_SNIFF_BYTES = 8 * 1024
MINIFIED_SNIFF_BYTES = 64 * 1024
MAX_LINE_CHARS = 1000
MAX_AVERAGE_LINE_CHARS = 200

SKIPPED_DIRS: frozenset[str] = frozenset(
    {
        "node_modules",
        "vendor",
        ".venv",
        "venv",
        "env",
        "__pycache__",
        "dist",
        "build",
        "target",
        ".git",
        ".sopls",
        "site-packages",
        "third_party",
    }
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file to index, with the stat figures the on-disk cache is keyed on."""

    path: str  # relative POSIX path
    size: int
    mtime_ns: int


def discover(root: Path) -> list[SourceFile]:
    """Indexable files under `root`, sorted by path; git's view of the tree when it has one."""
    candidates = _git_files(root)
    if candidates is None:
        candidates = _walk(root, _GitIgnore.load(root))
    files: list[SourceFile] = []
    base = os.fspath(root)
    for rel in candidates:
        if index_language_for_path(rel) is None or _in_skipped_dir(rel):
            continue
        try:
            info = os.lstat(os.path.join(base, rel))
        except OSError:  # deleted but still tracked
            continue
        if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
            files.append(SourceFile(rel, info.st_size, info.st_mtime_ns))
    files.sort(key=lambda file: file.path)
    return files


def read_source(root: Path, file: SourceFile) -> bytes | None:
    """The bytes of `file`, or None when it cannot be read or is binary, minified or too big."""
    path = os.path.join(os.fspath(root), file.path)
    try:
        # the file may have been replaced by a symlink since it was discovered
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        logger.warning("cannot read %s: %s", file.path, exc)
        return None
    reason = _rejection(data)
    if reason is not None:
        logger.info("not indexing %s: %s", file.path, reason)
        return None
    return data


def _rejection(data: bytes) -> str | None:
    """Why `data` should not be parsed as source, or None when it should."""
    if len(data) > MAX_FILE_BYTES:
        return "larger than the size limit"
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return "binary"
    head = data[:MINIFIED_SNIFF_BYTES].decode("utf-8", "ignore")
    if max(map(len, head.split("\n"))) > MAX_LINE_CHARS:
        return "minified or generated (a very long line)"
    chars = len(data) if data.isascii() else len(data.decode("utf-8", "ignore"))
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if chars / lines > MAX_AVERAGE_LINE_CHARS:
        return "minified or generated (long lines on average)"
    return None


def _in_skipped_dir(rel: str) -> bool:
    """Whether any folder on the relative path `rel` is vendored, generated or hidden."""
    return any(_skipped_dir(part) for part in rel.split("/")[:-1])


def _skipped_dir(name: str) -> bool:
    return name in SKIPPED_DIRS or name.startswith(".")


def _git_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored paths under `root`; None when git cannot tell."""
    directory = os.fspath(root)
    # GitPython silently runs in the process's own directory when this one cannot be entered.
    if git is None or not os.path.isdir(directory) or not os.access(directory, os.X_OK):
        return None
    try:
        output = git.Git(directory).ls_files("-z", "--cached", "--others", "--exclude-standard")
    except git.exc.CommandError as exc:
        logger.debug("walking %s without git: %s", root, exc)
        return None
    # Unmerged paths are listed once per conflict stage.
    return list(dict.fromkeys(path for path in output.split("\0") if path))


def _walk(root: Path, ignore: _GitIgnore) -> list[str]:
    """Relative paths of the files under `root`, pruning skipped and ignored folders."""
    found: list[str] = []
    stack: list[tuple[str, str]] = [(os.fspath(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if not _skipped_dir(entry.name) and not ignore.matches(rel, is_dir=True):
                            stack.append((entry.path, rel + "/"))
                    elif not ignore.matches(rel, is_dir=False):
                        found.append(rel)
        except OSError as exc:
            logger.warning("cannot list %s: %s", directory, exc)
    return found


class _GitIgnore:
    """A deliberately small `.gitignore` reader for folders that are not git repositories.

    Understood: comments, fnmatch globs, a trailing `/` for folders only, a leading `/` or an
    inner `/` to anchor a pattern at the root, and a leading `**/`. Negation (`!`) and nested
    `.gitignore` files are not.
    """

    def __init__(self, patterns: list[str]) -> None:
        name_any: list[str] = []
        name_dirs: list[str] = []
        path_any: list[str] = []
        path_dirs: list[str] = []
        for pattern in patterns:
            dir_only = pattern.endswith("/")
            pattern = pattern.rstrip("/")
            if pattern.startswith("**/"):
                pattern = pattern[3:]
            anchored = "/" in pattern
            pattern = pattern.lstrip("/")
            if not pattern:
                continue
            if anchored:
                (path_dirs if dir_only else path_any).append(pattern)
            else:
                (name_dirs if dir_only else name_any).append(pattern)
        self._name_any = _compile(name_any)
        self._name_dirs = _compile(name_dirs)
        self._path_any = _compile(path_any)
        self._path_dirs = _compile(path_dirs)

    @classmethod
    def load(cls, root: Path) -> _GitIgnore:
        """The patterns of `root/.gitignore`; none when it is missing or unreadable."""
        try:
            text = (root / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return cls([])
        lines = (line.strip() for line in text.splitlines())
        return cls([line for line in lines if line and not line.startswith(("#", "!"))])

    def matches(self, rel: str, *, is_dir: bool) -> bool:
        """Whether the relative path `rel` is ignored."""
        name = rel.rpartition("/")[2]
        if _hit(self._name_any, name) or _hit(self._path_any, rel):
            return True
        return is_dir and (_hit(self._name_dirs, name) or _hit(self._path_dirs, rel))


def _compile(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(pattern) for pattern in patterns))


def _hit(pattern: re.Pattern[str] | None, text: str) -> bool:
    return pattern is not None and pattern.match(text) is not None
