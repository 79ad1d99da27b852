"""What every outliner shares: the encoded source sliced by tree-sitter offsets, and line helpers.

Offsets from tree-sitter count UTF-8 bytes, so all slicing happens on the encoded source and
only the slices are decoded.
"""

from __future__ import annotations

from tree_sitter import Node

SHORT_VALUE_CHARS = 80


class Source:
    """The encoded file, sliced by tree-sitter byte offsets and decoded per slice."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def span(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")

    def text(self, node: Node) -> str:
        return self.span(node.start_byte, node.end_byte)

    def lines(self, start: int, end: int, indent: str) -> list[str]:
        """The slice as lines re-indented to `indent`, keeping its inner relative indentation."""
        line_start = self.data.rfind(b"\n", 0, start) + 1
        prefix = self.span(line_start, start)
        base = prefix[: len(prefix) - len(prefix.lstrip())]
        result: list[str] = []
        for index, line in enumerate(self.span(start, end).splitlines()):
            if not line.strip():
                continue
            if index == 0 or not line.startswith(base):
                body = line.strip()
            else:
                body = line[len(base) :].rstrip()
            result.append(indent + body)
        return result


def is_short(text: str) -> bool:
    """Whether a value is small enough to show as it is rather than as `...`."""
    return "\n" not in text and len(text) <= SHORT_VALUE_CHARS


def add_suffix(lines: list[str], suffix: str, indent: str) -> list[str]:
    """Add `suffix` to the last line, or make it the only line when there is none."""
    if lines:
        lines[-1] += suffix
    else:
        lines.append(indent + suffix.lstrip())
    return lines


def code_children(node: Node) -> list[Node]:
    """The named children that are code: comments never count as a statement or member."""
    return [child for child in node.named_children if child.type != "comment"]
