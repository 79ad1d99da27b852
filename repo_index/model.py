"""What the index knows about one file: its definitions and the identifiers it references."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Definition:
    """A named definition. Lines are 0-based; `signature` is its header line(s), body elided."""

    name: str
    kind: str  # class, function, method, interface, type, module, constant, ...
    line: int
    end_line: int
    signature: str
    scope: str = ""  # enclosing definitions, outermost first, joined by "."


@dataclass(frozen=True, slots=True)
class FileTags:
    """Tags of one source file. `references` counts identifier uses (definitions excluded)."""

    path: str  # relative POSIX path
    language: str
    definitions: tuple[Definition, ...] = ()
    references: dict[str, int] = field(default_factory=dict)
