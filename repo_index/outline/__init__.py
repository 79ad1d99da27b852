"""The interface of one source file: what another file's author needs, without bodies.

An Engineer writing one file is shown the outlines of the files it depends on instead of their
whole code, so a prompt grows with what the file uses rather than with the project. Outlines are
built from the tree-sitter syntax tree; tree-sitter recovers from syntax errors, so a broken file
still yields the definitions it could parse. One module per language family does the outlining;
`source` holds what they share.
"""

from __future__ import annotations

from collections.abc import Iterable

from repo_index.languages import PYTHON, language_for_path, parse
from repo_index.outline.javascript import javascript_outline
from repo_index.outline.python import python_outline
from repo_index.outline.signatures import signatures_outline
from repo_index.outline.source import Source
from repo_index.tags import extract_tags

UNKNOWN_LANGUAGE_LINES = 30


def outline(path: str, text: str) -> str:
    """Outline `text` as the language of `path`.

    Python, JavaScript and TypeScript get a dedicated outline; the other indexed languages (Go,
    Rust, Java, C, C++) get their definitions' signatures from the tags, indented by scope;
    unknown languages give the first lines.
    """
    language = language_for_path(path)
    if language is None:
        tags = extract_tags(path, text.encode("utf-8", "replace"))
        if tags is not None:
            return signatures_outline(tags.definitions)
        return "\n".join(text.splitlines()[:UNKNOWN_LANGUAGE_LINES])
    data = text.encode("utf-8", "replace")
    root = parse(language, data).root_node
    source = Source(data)
    if language == PYTHON:
        return "\n".join(python_outline(source, root))
    return "\n".join(javascript_outline(source, root))


def interfaces(files: Iterable[tuple[str, str | None]]) -> str:
    """The outline of each file under its path, for a prompt that uses the files but not their code.

    Files come as (path, text) pairs, from disk or from a proposal not yet written; one whose text
    is None (unreadable, not there) is left out.
    """
    return "\n\n".join(
        f"### `{path}`\n```\n{outline(path, text).rstrip()}\n```"
        for path, text in files
        if text is not None
    )
