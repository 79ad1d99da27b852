"""Search/replace edit blocks: how the Engineer changes an existing file without rewriting it.

The model quotes lines of the current file and gives their replacement. Quoting is error-prone,
so a block that does not match exactly is tried again ignoring trailing whitespace and a uniform
shift of indentation; a block that still matches nowhere becomes a failure whose reason shows the
closest lines, so the model can be asked once to correct just that block. Reading the blocks is
`block_parser`'s job, finding an imperfect quote `fuzzy_match`'s.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

import prompts
from agents.edits.block_parser import REASONS, EditBlock
from agents.edits.fuzzy_match import closest, shift_between

_SHOWN_PLACES = 5


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
    return prompts.render(
        "engineer/edit_retry.md",
        failures=[
            (
                f.block.path,
                _with_newline(f.block.search),
                _with_newline(f.block.replace),
                f.reason,
            )
            for f in failures
        ],
    )


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
            return prompts.macro(REASONS, "other_file", named=block.path, path=path)
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
            return self._ambiguous(exact, len(search), path, ignoring_whitespace=False)
        tolerant = [
            (i, shift)
            for i in _starts(self.lines, len(search))
            if (shift := shift_between(search, self.lines[i : i + len(search)])) is not None
        ]
        if len(tolerant) == 1:
            start, shift = tolerant[0]
            tabs = self._uses_tabs()
            self._replace(start, len(search), [shift.reindent(r, tabs=tabs) for r in replace])
            return None
        if tolerant:
            starts = [i for i, _ in tolerant]
            return self._ambiguous(starts, len(search), path, ignoring_whitespace=True)
        return self._nowhere(search, path)

    def _at(self, start: int, search: list[str]) -> bool:
        return self.lines[start] == search[0] and self.lines[start : start + len(search)] == search

    def _replace(self, start: int, count: int, replace: list[str]) -> None:
        self.lines[start : start + count] = replace

    def _uses_tabs(self) -> bool:
        """Whether more indented lines of the file start with a tab than with a space."""
        firsts = [line[0] for line in self.lines if line[:1] in ("\t", " ") and line.strip()]
        return 2 * firsts.count("\t") > len(firsts)

    def _ambiguous(
        self, starts: list[int], count: int, path: str, *, ignoring_whitespace: bool
    ) -> str:
        return prompts.macro(
            REASONS,
            "ambiguous",
            count=len(starts),
            path=path,
            ignoring_whitespace=ignoring_whitespace,
            places=[_span(i, count) for i in starts[:_SHOWN_PLACES]],
            more=len(starts) > _SHOWN_PLACES,
        )

    def _nowhere(self, search: list[str], path: str) -> str:
        if not self.lines:
            return prompts.macro(REASONS, "nowhere_in_empty", path=path)
        start, count = closest(self.lines, search)
        return prompts.macro(
            REASONS,
            "nowhere",
            path=path,
            lines=_span(start, count),
            closest="\n".join(self.lines[start : start + count]),
        )


def _normal(path: str) -> str:
    return posixpath.normpath(path.strip().replace("\\", "/"))


def _split(text: str) -> list[str]:
    """Lines without endings; a final newline ends the last line rather than adding an empty one."""
    text = text.replace("\r\n", "\n")
    if not text:
        return []
    return text.removesuffix("\n").split("\n")


def _with_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _starts(lines: list[str], count: int) -> range:
    return range(len(lines) - count + 1)


def _span(start: int, count: int) -> str:
    return f"{start + 1}-{start + count}" if count > 1 else str(start + 1)
