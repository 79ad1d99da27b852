"""Which tree-sitter grammar parses a file, loaded from the installed grammar wheels.

Grammars ship as compiled wheels, so nothing is downloaded or built at run time. Languages are
loaded once per process; parsers are kept per thread because a tree-sitter parser holds parse
state and must not be shared between threads.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import PurePath

import tree_sitter_javascript
import tree_sitter_python
import tree_sitter_typescript
from tree_sitter import Language, Parser, Tree

PYTHON = "python"
JAVASCRIPT = "javascript"
TYPESCRIPT = "typescript"
TSX = "tsx"

EXTENSIONS: dict[str, str] = {
    ".py": PYTHON,
    ".pyi": PYTHON,
    ".js": JAVASCRIPT,
    ".mjs": JAVASCRIPT,
    ".cjs": JAVASCRIPT,
    ".jsx": JAVASCRIPT,
    ".ts": TYPESCRIPT,
    ".mts": TYPESCRIPT,
    ".cts": TYPESCRIPT,
    ".tsx": TSX,
}

_GRAMMARS: dict[str, Callable[[], object]] = {
    PYTHON: tree_sitter_python.language,
    JAVASCRIPT: tree_sitter_javascript.language,
    TYPESCRIPT: tree_sitter_typescript.language_typescript,
    TSX: tree_sitter_typescript.language_tsx,
}

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(_GRAMMARS)

_local = threading.local()


def language_for_path(path: str) -> str | None:
    """The language name of a file from its extension; None when no grammar covers it."""
    return EXTENSIONS.get(PurePath(path).suffix.lower())


@functools.cache
def get_language(name: str) -> Language:
    """The tree-sitter language called `name`, loaded once per process."""
    try:
        grammar = _GRAMMARS[name]
    except KeyError:
        raise ValueError(f"no tree-sitter grammar for language {name!r}") from None
    return Language(grammar())


def get_parser(name: str) -> Parser:
    """A parser for `name` owned by the calling thread, created on first use."""
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    parser = parsers.get(name)
    if parser is None:
        parser = Parser(get_language(name))
        parsers[name] = parser
    return parser


def parse(name: str, source: bytes) -> Tree:
    """Parse UTF-8 source with the grammar of `name`; syntax errors become ERROR nodes."""
    return get_parser(name).parse(source)
