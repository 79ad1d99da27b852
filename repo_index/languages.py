"""Which tree-sitter grammar parses a file, loaded from the installed grammar wheels.

Grammars ship as compiled wheels, so nothing is downloaded or built at run time. Languages and
tags queries are loaded once per process; parsers are kept per thread because a tree-sitter parser
holds parse state and must not be shared between threads.

Two extension tables exist because the outliner only knows Python and the JavaScript family:
`language_for_path` answers for the outliner, `index_language_for_path` for the tags index, which
covers every grammar installed here.
"""

from __future__ import annotations

import functools
import importlib.resources
import threading
from collections.abc import Callable
from pathlib import PurePath
from types import ModuleType

import tree_sitter_c
import tree_sitter_cpp
import tree_sitter_go
import tree_sitter_java
import tree_sitter_javascript
import tree_sitter_python
import tree_sitter_rust
import tree_sitter_typescript
from tree_sitter import Language, Parser, Query, Tree

PYTHON = "python"
JAVASCRIPT = "javascript"
TYPESCRIPT = "typescript"
TSX = "tsx"
GO = "go"
RUST = "rust"
JAVA = "java"
C = "c"
CPP = "cpp"

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

INDEX_EXTENSIONS: dict[str, str] = {
    **EXTENSIONS,
    ".go": GO,
    ".rs": RUST,
    ".java": JAVA,
    ".c": C,
    ".h": C,
    ".cc": CPP,
    ".cpp": CPP,
    ".cxx": CPP,
    ".hpp": CPP,
    ".hh": CPP,
    ".hxx": CPP,
}

_GRAMMARS: dict[str, Callable[[], object]] = {
    PYTHON: tree_sitter_python.language,
    JAVASCRIPT: tree_sitter_javascript.language,
    TYPESCRIPT: tree_sitter_typescript.language_typescript,
    TSX: tree_sitter_typescript.language_tsx,
    GO: tree_sitter_go.language,
    RUST: tree_sitter_rust.language,
    JAVA: tree_sitter_java.language,
    C: tree_sitter_c.language,
    CPP: tree_sitter_cpp.language,
}

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(_GRAMMARS)

# A tags query is the shipped `queries/tags.scm` of each listed wheel followed by our own
# `repo_index/queries/<name>.scm` files. The TypeScript grammars extend JavaScript's and their
# shipped query only holds the TypeScript additions, so both wheels' queries apply; C++ likewise
# takes our C patterns before its own.
_TAGS_SOURCES: dict[str, tuple[tuple[ModuleType, ...], tuple[str, ...]]] = {
    PYTHON: ((tree_sitter_python,), ("python",)),
    JAVASCRIPT: ((tree_sitter_javascript,), ("javascript", "jsx")),
    TYPESCRIPT: ((tree_sitter_javascript, tree_sitter_typescript), ("typescript",)),
    TSX: ((tree_sitter_javascript, tree_sitter_typescript), ("typescript", "jsx")),
    GO: ((tree_sitter_go,), ("go",)),
    RUST: ((tree_sitter_rust,), ("rust",)),
    JAVA: ((tree_sitter_java,), ("java",)),
    C: ((tree_sitter_c,), ("c",)),
    CPP: ((tree_sitter_cpp,), ("c", "cpp")),
}

_local = threading.local()


def language_for_path(path: str) -> str | None:
    """The outliner's language of a file from its extension; None when it has no outline."""
    return EXTENSIONS.get(PurePath(path).suffix.lower())


def index_language_for_path(path: str) -> str | None:
    """The language of a file for the tags index; None when no installed grammar covers it."""
    return INDEX_EXTENSIONS.get(PurePath(path).suffix.lower())


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


@functools.cache
def tags_query_source(name: str) -> str:
    """The text of the tags query of `name`: shipped patterns first, then our own."""
    try:
        wheels, own = _TAGS_SOURCES[name]
    except KeyError:
        raise ValueError(f"no tags query for language {name!r}") from None
    parts = [
        (importlib.resources.files(wheel) / "queries" / "tags.scm").read_text(encoding="utf-8")
        for wheel in wheels
    ]
    queries = importlib.resources.files("repo_index") / "queries"
    parts.extend((queries / f"{file}.scm").read_text(encoding="utf-8") for file in own)
    return "\n".join(parts)


@functools.cache
def get_tags_query(name: str) -> Query:
    """The compiled tags query of `name`, shared by all threads (cursors hold the state).

    Shipped queries capture the comments before a definition as `@doc`; tags keep no
    documentation, so that capture is disabled rather than collected and dropped.
    """
    query = Query(get_language(name), tags_query_source(name))
    query.disable_capture("doc")
    return query
