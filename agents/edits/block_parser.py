"""Reading SEARCH/REPLACE blocks out of the model's answer.

The markers are matched loosely where that is safe and strictly where real files would clash,
and the file a block is for is read from the line (or fence) just before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import prompts
from agents.errors import SoplsError

# The named markers are unambiguous, so a few more or fewer angle brackets are tolerated; the
# divider must be exactly seven '=' because shorter or longer runs are common in real files.
_SEARCH = re.compile(r"^[ \t]*<{5,9}[ \t]*SEARCH[ \t]*$")
_DIVIDER = re.compile(r"^[ \t]*={7}[ \t]*$")
_REPLACE = re.compile(r"^[ \t]*>{5,9}[ \t]*REPLACE[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})(?P<info>.*)$")
_PATH_TOKEN = re.compile(r"^[^\s=;,'\"<>(){}]+$")
_LOOKS_LIKE_FILE = re.compile(r"/|\\|\.\w")

REASONS = "engineer/edit_reasons.md"


@dataclass(frozen=True)
class EditBlock:
    """One change the model asked for: the lines `search` of the file become `replace`.

    `path` is the file as the model wrote it, or None when the block names no file.
    """

    path: str | None
    search: str
    replace: str


class EditFormatError(SoplsError):
    """The answer is not a usable set of edit blocks; the message says what is malformed."""


def parse_blocks(answer: str) -> list[EditBlock]:
    """Every block in the answer, in order.

    One malformed block makes the whole answer unusable: applying the rest would silently drop
    a change the model meant to make.
    """
    lines = answer.replace("\r\n", "\n").split("\n")
    blocks: list[EditBlock] = []
    i = 0
    while i < len(lines):
        if _REPLACE.match(lines[i]):
            raise EditFormatError(prompts.macro(REASONS, "stray_replace", line=i + 1))
        if not _SEARCH.match(lines[i]):
            i += 1
            continue
        where = {"block": len(blocks) + 1, "line": i + 1}
        divider = _next_marker(lines, i + 1, stop=(_SEARCH, _REPLACE), want=_DIVIDER)
        if divider is None:
            raise EditFormatError(prompts.macro(REASONS, "missing_divider", **where))
        end = _next_marker(lines, divider + 1, stop=(_SEARCH,), want=_REPLACE)
        if end is None:
            raise EditFormatError(prompts.macro(REASONS, "unclosed", **where))
        blocks.append(
            EditBlock(
                path=_path_before(lines, i),
                search=_join(lines[i + 1 : divider]),
                replace=_join(lines[divider + 1 : end]),
            )
        )
        i = end + 1
    if not blocks:
        raise EditFormatError(prompts.macro(REASONS, "no_blocks"))
    return blocks


def _next_marker(
    lines: list[str], start: int, *, stop: tuple[re.Pattern[str], ...], want: re.Pattern[str]
) -> int | None:
    """Index of the first `want` line from `start`; None if a `stop` line or the end comes first."""
    for i in range(start, len(lines)):
        if want.match(lines[i]):
            return i
        if any(pattern.match(lines[i]) for pattern in stop):
            return None
    return None


def _path_before(lines: list[str], search_line: int) -> str | None:
    """The file named just before a block: on its own line, or on the fence's info line."""
    i = _previous_nonblank(lines, search_line)
    if i is None:
        return None
    fence = _FENCE.match(lines[i])
    if fence is None:
        return _as_path(lines[i])
    words = fence["info"].split()
    if len(words) > 1:
        return _as_path(words[-1])
    before = _previous_nonblank(lines, i)
    return None if before is None else _as_path(lines[before])


def _previous_nonblank(lines: list[str], index: int) -> int | None:
    for i in range(index - 1, -1, -1):
        if lines[i].strip():
            return i
    return None


def _as_path(line: str) -> str | None:
    """The path a line names, or None if it reads as prose, code or a marker.

    Backticks or bold make any single word a path; a bare word needs a '/' or an extension.
    """
    text = line.strip().lstrip("#").strip()
    decorated = text.startswith(("`", "**"))
    word = text.replace("`", "").replace("*", "").strip().rstrip(":")
    if not _PATH_TOKEN.match(word):
        return None
    if not decorated and not _LOOKS_LIKE_FILE.search(word):
        return None
    return word


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
