"""Search/replace edit blocks: how the Engineer changes an existing file without rewriting it.

The model quotes lines of the current file and gives their replacement. Quoting is error-prone,
so a block that does not match exactly is tried again ignoring trailing whitespace and a uniform
shift of indentation; a block that still matches nowhere becomes a failure whose reason shows the
closest lines, so the model can be asked once to correct just that block.
"""

from __future__ import annotations

import difflib
import heapq
import posixpath
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agents.errors import SoplsError

# The named markers are unambiguous, so a few more or fewer angle brackets are tolerated; the
# divider must be exactly seven '=' because shorter or longer runs are common in real files.
_SEARCH = re.compile(r"^[ \t]*<{5,9}[ \t]*SEARCH[ \t]*$")
_DIVIDER = re.compile(r"^[ \t]*={7}[ \t]*$")
_REPLACE = re.compile(r"^[ \t]*>{5,9}[ \t]*REPLACE[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})(?P<info>.*)$")
_PATH_TOKEN = re.compile(r"^[^\s=;,'\"<>(){}]+$")
_LOOKS_LIKE_FILE = re.compile(r"/|\\|\.\w")
_TAB_WIDTHS = (4, 2, 8)
_SHOWN_PLACES = 5
_SHORTLIST = 8


@dataclass(frozen=True)
class EditBlock:
    """One change the model asked for: the lines `search` of the file become `replace`.

    `path` is the file as the model wrote it, or None when the block names no file.
    """

    path: str | None
    search: str
    replace: str


@dataclass(frozen=True)
class BlockFailure:
    """A block that was not applied, and a reason the model can act on."""

    block: EditBlock
    reason: str


@dataclass(frozen=True)
class EditResult:
    """The file after every block that applied, and the blocks that did not."""

    text: str
    applied: int
    failures: list[BlockFailure]


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
            raise EditFormatError(
                f"line {i + 1}: '>>>>>>> REPLACE' closes a block that never opened "
                "with '<<<<<<< SEARCH'"
            )
        if not _SEARCH.match(lines[i]):
            i += 1
            continue
        where = f"block {len(blocks) + 1} (opened on line {i + 1})"
        divider = _next_marker(lines, i + 1, stop=(_SEARCH, _REPLACE), want=_DIVIDER)
        if divider is None:
            raise EditFormatError(
                f"{where}: missing '=======' between '<<<<<<< SEARCH' and '>>>>>>> REPLACE'"
            )
        end = _next_marker(lines, divider + 1, stop=(_SEARCH,), want=_REPLACE)
        if end is None:
            raise EditFormatError(f"{where}: unclosed block, no '>>>>>>> REPLACE' after '======='")
        blocks.append(
            EditBlock(
                path=_path_before(lines, i),
                search=_join(lines[i + 1 : divider]),
                replace=_join(lines[divider + 1 : end]),
            )
        )
        i = end + 1
    if not blocks:
        raise EditFormatError(
            "the answer holds no edit block; each one starts with '<<<<<<< SEARCH', "
            "then '=======', and ends with '>>>>>>> REPLACE'"
        )
    return blocks


def apply_blocks(text: str, blocks: Sequence[EditBlock], *, path: str) -> EditResult:
    """Apply the blocks in order to the file `path`, each to the result of the ones before.

    The file keeps its line endings. A block that cannot be applied is reported, never raised.
    """
    newline = "\r\n" if 2 * text.count("\r\n") > text.count("\n") else "\n"
    document = _Document.of(text.replace("\r\n", "\n"))
    failures: list[BlockFailure] = []
    for block in blocks:
        reason = document.apply(block, path)
        if reason is not None:
            failures.append(BlockFailure(block, reason))
    return EditResult(
        text=document.text().replace("\n", newline),
        applied=len(blocks) - len(failures),
        failures=failures,
    )


def retry_message(failures: Sequence[BlockFailure]) -> str:
    """What to tell the model about blocks that failed, so it resends only those, corrected."""
    parts = ["These SEARCH/REPLACE blocks could not be applied:"]
    for number, failure in enumerate(failures, start=1):
        block = failure.block
        path_line = f"{block.path}\n" if block.path else ""
        parts.append(
            f"## Block {number}\n{path_line}"
            f"<<<<<<< SEARCH\n{_with_newline(block.search)}=======\n"
            f"{_with_newline(block.replace)}>>>>>>> REPLACE\n"
            f"Why: {failure.reason}"
        )
    parts.append(
        "Every other block was applied, so the file already holds those changes. Answer again "
        "with corrected SEARCH/REPLACE blocks for the blocks above only, each SEARCH copying "
        "the current lines of the file exactly."
    )
    return "\n\n".join(parts) + "\n"


@dataclass(frozen=True)
class _Shift:
    """How the file's indentation differs from the SEARCH's, to apply to the REPLACE too.

    The file's indent is `add` + the SEARCH's indent with `remove` taken off its front, after
    expanding tabs to `tab_width` spaces (None: compared as written).
    """

    tab_width: int | None
    add: str
    remove: str

    @property
    def size(self) -> int:
        return len(self.add) + len(self.remove)

    def reindent(self, line: str, *, tabs: bool) -> str:
        """`line` from the REPLACE with the file's indentation; tabs if the file uses them."""
        body = line.lstrip()
        if not body:
            return ""
        indent = _indent(line, self.tab_width)
        shared = len(posixpath.commonprefix([indent, self.remove]))
        indent = self.add + indent[shared:]
        if tabs and self.tab_width is not None:
            indent = "\t" * (len(indent) // self.tab_width) + " " * (len(indent) % self.tab_width)
        return indent + body


@dataclass
class _Document:
    """The file being edited, as lines without their endings."""

    lines: list[str]
    final_newline: bool

    @classmethod
    def of(cls, text: str) -> _Document:
        return cls(_split(text), text.endswith("\n"))

    def text(self) -> str:
        if not self.lines:
            return ""
        return "\n".join(self.lines) + ("\n" if self.final_newline else "")

    def apply(self, block: EditBlock, path: str) -> str | None:
        """Apply one block; return why it could not be applied, or None."""
        if block.path is not None and _normal(block.path) != _normal(path):
            return f"this block is for {block.path}, but only {path} can be edited here"
        replace = _split(block.replace)
        if not block.search.strip():
            self.lines.extend(replace)
            self.final_newline = self.final_newline or bool(replace)
            return None
        search = _split(block.search)
        exact = [i for i in _starts(self.lines, len(search)) if self._at(i, search)]
        if len(exact) == 1:
            self._replace(exact[0], len(search), replace)
            return None
        if exact:
            return self._ambiguous(exact, len(search), path, "")
        tolerant = [
            (i, shift)
            for i in _starts(self.lines, len(search))
            if (shift := _shift_between(search, self.lines[i : i + len(search)])) is not None
        ]
        if len(tolerant) == 1:
            start, shift = tolerant[0]
            tabs = self._uses_tabs()
            self._replace(start, len(search), [shift.reindent(r, tabs=tabs) for r in replace])
            return None
        if tolerant:
            starts = [i for i, _ in tolerant]
            return self._ambiguous(starts, len(search), path, " (ignoring whitespace)")
        return self._nowhere(search, path)

    def _at(self, start: int, search: list[str]) -> bool:
        return self.lines[start] == search[0] and self.lines[start : start + len(search)] == search

    def _replace(self, start: int, count: int, replace: list[str]) -> None:
        self.lines[start : start + count] = replace

    def _uses_tabs(self) -> bool:
        """Whether more indented lines of the file start with a tab than with a space."""
        firsts = [line[0] for line in self.lines if line[:1] in ("\t", " ") and line.strip()]
        return 2 * firsts.count("\t") > len(firsts)

    def _ambiguous(self, starts: list[int], count: int, path: str, how: str) -> str:
        places = ", ".join(_span(i, count) for i in starts[:_SHOWN_PLACES])
        more = ", ..." if len(starts) > _SHOWN_PLACES else ""
        return (
            f"the SEARCH text matches {len(starts)} places in {path}{how} "
            f"(lines {places}{more}); include more lines to make it unique"
        )

    def _nowhere(self, search: list[str], path: str) -> str:
        if not self.lines:
            return (
                f"the SEARCH text matches nowhere in {path}, which is empty; "
                "leave SEARCH empty to add text to it"
            )
        start, count = _closest(self.lines, search)
        region = "\n".join(self.lines[start : start + count])
        return (
            f"the SEARCH text matches nowhere in {path}; "
            f"the closest lines are {_span(start, count)}:\n{region}"
        )


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


def _normal(path: str) -> str:
    return posixpath.normpath(path.strip().replace("\\", "/"))


def _split(text: str) -> list[str]:
    """Lines without endings; a final newline ends the last line rather than adding an empty one."""
    text = text.replace("\r\n", "\n")
    if not text:
        return []
    return text.removesuffix("\n").split("\n")


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _with_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _starts(lines: list[str], count: int) -> range:
    return range(len(lines) - count + 1)


def _span(start: int, count: int) -> str:
    return f"{start + 1}-{start + count}" if count > 1 else str(start + 1)


def _indent(line: str, tab_width: int | None) -> str:
    indent = line[: len(line) - len(line.lstrip())]
    return indent if tab_width is None else indent.replace("\t", " " * tab_width)


def _shift_between(search: list[str], window: list[str]) -> _Shift | None:
    """How `window` is `search` re-indented uniformly, or None if it is not.

    Of the tab widths that fit, the one needing the smallest shift wins, so a file indented by
    two spaces is read as two spaces per tab rather than as a shifted four.
    """
    for wanted, found in zip(search, window, strict=True):
        if wanted.strip() != found.strip():
            return None
    shifts = [
        shift
        for tab_width in (None, *_TAB_WIDTHS)
        if (shift := _uniform_shift(search, window, tab_width)) is not None
    ]
    return min(shifts, key=lambda shift: shift.size, default=None)


def _uniform_shift(search: list[str], window: list[str], tab_width: int | None) -> _Shift | None:
    """The single indentation difference between every non-blank pair of lines, if there is one."""
    common: tuple[str, str] | None = None
    for wanted, found in zip(search, window, strict=True):
        if not wanted.strip():
            continue
        ours, theirs = _indent(wanted, tab_width), _indent(found, tab_width)
        if theirs.endswith(ours):
            pair = (theirs[: len(theirs) - len(ours)], "")
        elif ours.endswith(theirs):
            pair = ("", ours[: len(ours) - len(theirs)])
        else:
            return None
        if common is None:
            common = pair
        elif pair != common:
            return None
    add, remove = common or ("", "")
    return _Shift(tab_width, add, remove)


def _closest(lines: list[str], search: list[str]) -> tuple[int, int]:
    """Start and length of the window of the file most like the SEARCH text.

    difflib's ratio decides, but it is slow on long windows, so it only compares the few windows
    that share the most character trigrams with the SEARCH text.
    """
    count = min(len(search), len(lines))
    wanted = Counter(gram for line in search for gram in _trigrams(line))
    grams = [[gram for gram in _trigrams(line) if gram in wanted] for line in lines]
    totals = [len(_trigrams(line)) for line in lines]
    wanted_size = wanted.total()
    have: Counter[str] = Counter()
    overlap = size = 0
    scores: list[tuple[float, int]] = []
    for end in range(len(lines)):
        overlap += _count(have, wanted, grams[end], 1)
        size += totals[end]
        start = end - count + 1
        if start >= 0:
            scores.append((2 * overlap / (size + wanted_size), -start))
            overlap += _count(have, wanted, grams[start], -1)
            size -= totals[start]
    shortlist = sorted(-negated for _, negated in heapq.nlargest(_SHORTLIST, scores))
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2("\n".join(search))

    def ratio(start: int) -> float:
        matcher.set_seq1("\n".join(lines[start : start + count]))
        return matcher.ratio()

    return max(shortlist, key=ratio), count


def _trigrams(line: str) -> list[str]:
    text = line.strip()
    return [text[i : i + 3] for i in range(max(len(text) - 2, 1))]


def _count(have: Counter[str], wanted: Counter[str], grams: list[str], step: int) -> int:
    """Add (step 1) or remove (step -1) a line's trigrams; return the change in shared trigrams."""
    change = 0
    for gram in grams:
        before = have[gram]
        have[gram] = before + step
        change += min(before + step, wanted[gram]) - min(before, wanted[gram])
    return change
