"""Finding a SEARCH text the model quoted imperfectly: re-indented, or not there at all.

A uniform shift of indentation is safe to undo (the REPLACE gets the same shift); for a text
that matches nowhere, the closest lines of the file are found so the model can see its mistake.
"""

from __future__ import annotations

import difflib
import heapq
import posixpath
from collections import Counter
from dataclasses import dataclass

_TAB_WIDTHS = (4, 2, 8)
_SHORTLIST = 8


@dataclass(frozen=True)
class Shift:
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


def shift_between(search: list[str], window: list[str]) -> Shift | None:
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


def closest(lines: list[str], search: list[str]) -> tuple[int, int]:
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


def _indent(line: str, tab_width: int | None) -> str:
    indent = line[: len(line) - len(line.lstrip())]
    return indent if tab_width is None else indent.replace("\t", " " * tab_width)


def _uniform_shift(search: list[str], window: list[str], tab_width: int | None) -> Shift | None:
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
    return Shift(tab_width, add, remove)


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
