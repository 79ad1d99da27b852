"""Which files of a workspace are worth indexing, and reading them safely.

In a git repository the file list comes from one `git ls-files` call (tracked plus untracked files
that are not ignored), so the index sees what the user's own tools see. It goes through
GitPython: measured in the language-server process, importing it adds about 30-40 ms once and the
call itself costs the same as a bare subprocess. Any other folder is walked with the usual
ignores and its `.gitignore` files, nested ones and `!` negations included, read by `pathspec`.

Both paths apply the same filters: a known language, no vendored or hidden folder in the path, at
most `MAX_FILE_BYTES`, and the file must exist. Sizes are taken from `stat`, so discovery reads no
file contents; `read_source` then rejects binaries and minified or generated code.

Symlinks are never followed, wherever they point. One to a file outside the workspace would put
that file (a key, another project) into the map and the prompts; one inside names a file that
is indexed under its own path already. A checkout holds no path beyond a linked folder and the
walk enters none, so the last component is what is checked (`lstat`, `O_NOFOLLOW` to read).
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from repo_index.languages import index_language_for_path

if TYPE_CHECKING:
    import pathspec

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
        candidates = _walk(root)
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


def _walk(root: Path) -> list[str]:
    """Relative paths of the files under `root`, pruning skipped and ignored folders."""
    found: list[str] = []
    stack: list[tuple[str, str, _Ignores]] = [(os.fspath(root), "", _Ignores())]
    while stack:
        directory, prefix, inherited = stack.pop()
        ignores = inherited.entering(directory, prefix)
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if not _skipped_dir(entry.name) and not ignores.ignored(rel + "/"):
                            stack.append((entry.path, rel + "/", ignores))
                    elif not ignores.ignored(rel):
                        found.append(rel)
        except OSError as exc:
            logger.warning("cannot list %s: %s", directory, exc)
    return found


@dataclass(frozen=True, slots=True)
class _Ignores:
    """The `.gitignore` files in force in one folder, outermost first, as git reads them.

    Each applies to paths relative to its own folder; a deeper file overrides a shallower one and
    within a file the last matching pattern decides, so `!pattern` can re-include a path. A file
    inside an ignored folder cannot be re-included, since the walk never enters that folder.
    """

    layers: tuple[tuple[str, pathspec.GitIgnoreSpec], ...] = ()

    def entering(self, directory: str, prefix: str) -> _Ignores:
        """These rules plus those of `directory/.gitignore`, whose relative path is `prefix`."""
        import pathspec  # about 10 ms to import, which a git repository never needs to pay

        try:
            with open(
                os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace"
            ) as f:
                spec = pathspec.GitIgnoreSpec.from_lines(f.read().splitlines())
        except OSError:  # missing or unreadable: it adds no rules
            return self
        return _Ignores((*self.layers, (prefix, spec)))

    def ignored(self, rel: str) -> bool:
        """Whether the relative path `rel` (a folder when it ends in `/`) is ignored."""
        for prefix, spec in reversed(self.layers):
            verdict = spec.check_file(rel[len(prefix) :]).include
            if verdict is not None:
                return verdict
        return False
