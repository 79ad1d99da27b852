"""Outlines for the other indexed languages (Go, Rust, Java, C, C++), taken from their tags.

The tags already hold each definition's signature and scope, so these languages need no
outliner of their own: signatures are listed in file order, indented by scope depth.
"""

from __future__ import annotations

from collections.abc import Sequence

from repo_index.model import Definition


def signatures_outline(definitions: Sequence[Definition]) -> str:
    """The definitions' signature lines in file order, four spaces per enclosing scope."""
    lines: list[str] = []
    for definition in sorted(definitions, key=lambda d: (d.line, d.end_line)):
        depth = len(definition.scope.split(".")) if definition.scope else 0
        indent = "    " * depth
        lines.extend(indent + line.strip() for line in definition.signature.splitlines())
    return "\n".join(lines)
