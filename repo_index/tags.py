"""Definitions and references of one file, from one parse and one pass of its tags query.

The query of each language (see `languages.get_tags_query`) marks definitions with
`@definition.<kind>` and references with `@reference.<kind>`, the identifier itself being `@name`.
Only what the query returns is visited: enclosing scopes come from comparing the byte spans of
the definitions found, not from walking the tree, so the cost follows the number of tags rather
than the number of nodes. Offsets from tree-sitter count UTF-8 bytes, so all slicing happens on
the encoded source and each slice is decoded with replacement of invalid bytes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from tree_sitter import Node, QueryCursor

from repo_index.languages import (
    get_tags_query,
    index_language_for_path,
    parse,
    tags_query_source,
)
from repo_index.model import Definition, FileTags

MAX_SIGNATURE_LINES = 3
MAX_SIGNATURE_CHARS = 200

# A header longer than this cannot fit in the signature once its lines are joined, and slicing a
# whole definition without a body (a large constant table, say) would only be thrown away.
_HEADER_BYTES = 2048
_ROLE = re.compile(r"@((definition|reference)\.([\w.]+))")
_SCOPE_CAPTURE = "local.scope"
# Definitions whose functions are methods; Rust impls and Go receivers give a scope instead.
_CLASS_LIKE = frozenset({"class", "interface", "enum"})
_CALLABLE = frozenset({"function", "method"})
# When two patterns tag the same name, a value kind gives way to any other, e.g. a JavaScript
# `const f = () => ...` is a function rather than a constant.
_VALUE_KINDS = frozenset({"constant", "variable", "field"})
_C_DECLARATORS = frozenset(
    {
        "function_declarator",
        "pointer_declarator",
        "reference_declarator",
        "parenthesized_declarator",
        "attributed_declarator",
    }
)
_C_DECLARATIONS = frozenset({"function_definition", "declaration", "field_declaration"})
_C_SPECIFIERS = frozenset(
    {"struct_specifier", "union_specifier", "enum_specifier", "class_specifier"}
)
# Nodes whose single-child parent holds the keyword that belongs in the signature (`type`,
# `const`, `var`, `let`).
_WRAPPED = frozenset({"type_spec", "const_spec", "var_spec", "variable_declarator"})
_VALUE_FIELDS = {"variable_declarator": "value", "pair": "value", "assignment_expression": "right"}
_BRACE_TYPES = frozenset({"struct_type", "interface_type"})
_OPENERS = "([{"
_CLOSERS = ")]}"

# pattern index -> (definition or reference capture name, kind, is a definition)
_Role = tuple[str, str, bool] | None
# name start byte -> ((value rank, pattern), kind, definition node, name node, scope nodes)
_Found = tuple[tuple[bool, int], str, Node, Node, list[Node] | None]


def extract_tags(path: str, source: bytes) -> FileTags | None:
    """Definitions and referenced identifiers of `source`; None when no grammar covers `path`.

    Syntax errors never raise: tree-sitter recovers and the definitions it still finds are kept.
    """
    language = index_language_for_path(path)
    if language is None:
        return None
    if not source:
        return FileTags(path, language)
    roles = _roles(language)
    tree = parse(language, source)
    found: dict[int, _Found] = {}
    references: dict[int, bytes | None] = {}
    for pattern, captures in QueryCursor(get_tags_query(language)).matches(tree.root_node):
        role = roles[pattern]
        names = captures.get("name")
        if role is None or not names:
            continue
        capture, kind, is_definition = role
        if not is_definition:
            for name in names:
                references[name.start_byte] = name.text
            continue
        nodes = captures.get(capture)
        if not nodes:
            continue
        name = names[0]
        rank = (kind not in _VALUE_KINDS, pattern)
        previous = found.get(name.start_byte)
        if previous is None or rank > previous[0]:
            found[name.start_byte] = (rank, kind, nodes[0], name, captures.get(_SCOPE_CAPTURE))
    definitions, sites = _definitions(source, found)
    return FileTags(path, language, definitions, _count(references, sites))


@functools.cache
def _roles(language: str) -> tuple[_Role, ...]:
    """For each pattern of the tags query, the tag it yields, read from the pattern's text."""
    query = get_tags_query(language)
    text = tags_query_source(language).encode("utf-8")
    roles: list[_Role] = []
    for index in range(query.pattern_count):
        pattern = text[query.start_byte_for_pattern(index) : query.end_byte_for_pattern(index)]
        match = _ROLE.search(pattern.decode("utf-8"))
        if match is None:
            roles.append(None)
        else:
            roles.append((match[1], match[3], match[2] == "definition"))
    return tuple(roles)


def _count(references: dict[int, bytes | None], sites: set[int]) -> dict[str, int]:
    """Identifier counts, leaving out names captured where they are defined."""
    raw: dict[bytes, int] = {}
    for start, text in references.items():
        if text and start not in sites:
            raw[text] = raw.get(text, 0) + 1
    counts: dict[str, int] = {}
    for text, count in raw.items():
        name = text.decode("utf-8", "replace")
        counts[name] = counts.get(name, 0) + count
    return counts


def _definitions(
    source: bytes, found: dict[int, _Found]
) -> tuple[tuple[Definition, ...], set[int]]:
    """The definitions in source order with their scopes, and the start bytes of their names."""
    entries: list[tuple[int, int, str, Node, str, str, str]] = []
    sites: set[int] = set()
    for name_start, (_, kind, node, name, scope_nodes) in found.items():
        node = _definition_node(node, kind)
        header_end = _header_end(source, node)
        if header_end is None and node.type in _C_SPECIFIERS:
            continue  # `struct S;` or `enum E e;`: a declaration or a use, not the definition
        start = _signature_start(node)
        end = node.end_byte if header_end is None else header_end
        header = source[start : min(end, start + _HEADER_BYTES)]
        if header_end is not None and (b"#" in header or b"/" in header):
            header = header[: _before_comments(node, header_end) - start]
        signature = _signature(source, start, header)
        local = ".".join(_text(source, scope) for scope in scope_nodes) if scope_nodes else ""
        entries.append(
            (node.start_byte, node.end_byte, kind, node, _text(source, name), local, signature)
        )
        sites.add(name_start)
    entries.sort(key=lambda entry: (entry[0], -entry[1]))
    stack: list[tuple[int, int, str, str]] = []  # start, end, qualified name, kind
    result: list[Definition] = []
    for start, end, kind, node, name, local, signature in entries:
        while stack and (stack[-1][1] <= start or stack[-1][1] < end):
            stack.pop()
        parent = next((entry for entry in reversed(stack) if entry[:2] != (start, end)), None)
        base = parent[2] if parent is not None else ""
        scope = f"{base}.{local}" if base and local else base or local
        if kind in _CALLABLE:
            in_class = parent is not None and parent[3] in _CLASS_LIKE
            kind = "method" if local or in_class else "function"
        stack.append((start, end, f"{scope}.{name}" if scope else name, kind))
        line, (end_line, end_column) = node.start_point.row, node.end_point
        if end_column == 0 and end_line > line:
            end_line -= 1  # the node ends with its newline, as a `#define` does
        result.append(Definition(name, kind, line, end_line, signature, scope))
    return tuple(result), sites


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _definition_node(node: Node, kind: str) -> Node:
    """The node a definition spans, where the shipped C and C++ patterns capture a part of it.

    A function is tagged at its declarator, so the enclosing definition or declaration is taken
    to cover the return type and the body; `union U u;` is tagged as a class, and only its union
    specifier can tell whether it is a definition.
    """
    if node.type == "function_declarator":
        outer = node.parent
        while outer is not None and outer.type in _C_DECLARATORS:
            outer = outer.parent
        return outer if outer is not None and outer.type in _C_DECLARATIONS else node
    if node.type == "declaration" and kind == "class":
        return node.child_by_field_name("type") or node
    return node


def _header_end(source: bytes, node: Node) -> int | None:
    """Where the header of a definition stops: its body, or None when it has no body."""
    body = node.child_by_field_name("body")
    if body is not None:
        return body.start_byte
    value_field = _VALUE_FIELDS.get(node.type)
    if value_field is not None:
        value = node.child_by_field_name(value_field)
        inner = value.child_by_field_name("body") if value is not None else None
        return inner.start_byte if inner is not None and inner.type == "statement_block" else None
    if node.type == "type_spec":
        shape = node.child_by_field_name("type")
        if shape is not None and shape.type in _BRACE_TYPES:
            brace = source.find(b"{", shape.start_byte, shape.end_byte)
            return brace if brace >= 0 else None
    return None


def _before_comments(node: Node, body_start: int) -> int:
    """The end of the last header child that is not a comment, e.g. before `def f():  # note`."""
    end = body_start
    for child in node.children:
        if child.start_byte >= body_start:
            break
        if not child.type.endswith("comment"):
            end = min(child.end_byte, body_start)
    return end


def _signature_start(node: Node) -> int:
    """Start at the `type`/`const`/`let` keyword when the declaration holds only this name."""
    if node.type in _WRAPPED:
        parent = node.parent
        if parent is not None and parent.named_child_count == 1:
            return parent.start_byte
    return node.start_byte


def _signature(source: bytes, start: int, header: bytes) -> str:
    """The header as written when it has at most three lines, else joined on one line."""
    text = header.decode("utf-8", "replace")
    if "\n" not in text:
        signature = text.rstrip()
    else:
        lines = [line.rstrip() for line in text.split("\n") if line.strip()]
        if len(lines) > MAX_SIGNATURE_LINES:
            signature = _join(line.lstrip() for line in lines)
        else:
            prefix = source[source.rfind(b"\n", 0, start) + 1 : start]
            indent = len(prefix) - len(prefix.lstrip())
            signature = "\n".join([lines[0], *(_dedent(line, indent) for line in lines[1:])])
    if len(signature) > MAX_SIGNATURE_CHARS:
        return signature[: MAX_SIGNATURE_CHARS - 3] + "..."
    return signature


def _join(lines: Iterable[str]) -> str:
    """Lines joined by single spaces, without one just inside brackets."""
    joined = ""
    for line in lines:
        if joined and joined[-1] not in _OPENERS and line[0] not in _CLOSERS:
            joined += " "
        joined += line
    return joined


def _dedent(line: str, indent: int) -> str:
    """`line` without the indentation of the definition's first line, keeping any further one."""
    body = line.lstrip()
    return line[min(indent, len(line) - len(body)) :]
