"""JavaScript and TypeScript outlines (TSX and JSX too): one grammar family, one outliner.

Functions and methods keep their signatures with bodies as `{ ... }`, classes their fields and
method signatures, TypeScript types stay whole when short; `export`, `declare` and decorators
stay in front, and each declaration keeps the first line of the JSDoc just above it. CommonJS
`require` lines are left out like imports.
"""

from __future__ import annotations

from tree_sitter import Node

from repo_index.outline.source import Source, add_suffix, code_children, is_short

SHORT_DECLARATION_LINES = 20

_INDENT = "  "
_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "function_expression",
        "function",
        "generator_function",
        "arrow_function",
    }
)
_CLASSES = frozenset({"class_declaration", "abstract_class_declaration", "class"})
_TS_TYPES = frozenset({"interface_declaration", "type_alias_declaration", "enum_declaration"})
_FIELDS = frozenset({"field_definition", "public_field_definition"})
_TS_SIGNATURES = frozenset({"method_signature", "abstract_method_signature", "index_signature"})


def javascript_outline(source: Source, root: Node) -> list[str]:
    """The outline lines of a parsed JavaScript or TypeScript module."""
    lines: list[str] = []
    _statements(source, root, 0, lines)
    return lines


def _statements(source: Source, container: Node, depth: int, out: list[str]) -> None:
    """Outline top-level (or namespace-level) statements, each with its JSDoc summary."""
    indent = _INDENT * depth
    doc: Node | None = None
    for child in container.named_children:
        if child.type == "comment":
            doc = child
            continue
        lines = _statement(source, child, depth)
        if lines:
            summary = _jsdoc_summary(source, doc, child)
            if summary is not None:
                out.append(indent + summary)
            out.extend(lines)
        doc = None


def _jsdoc_summary(source: Source, comment: Node | None, target: Node) -> str | None:
    """First line of a `/** ... */` comment that directly precedes `target`."""
    if comment is None or comment.end_point.row + 1 < target.start_point.row:
        return None
    text = source.text(comment)
    if not text.startswith("/**"):
        return None
    body = text[3:-2] if text.endswith("*/") else text[3:]
    for line in body.splitlines():
        summary = line.strip().lstrip("*").strip()
        if summary:
            return f"/** {summary} */"
    return None


def _statement(source: Source, node: Node, depth: int) -> list[str]:
    kind = node.type
    if kind == "ERROR":
        recovered: list[str] = []
        _statements(source, node, depth, recovered)
        return recovered
    if kind == "export_statement":
        return _export(source, node, depth)
    if kind == "expression_statement":
        expression = node.named_children[0] if node.named_child_count else None
        if expression is None:
            return []
        if expression.type == "internal_module":
            return _declaration(source, expression, depth, expression.start_byte)
        if expression.type == "assignment_expression":
            left = expression.child_by_field_name("left")
            right = expression.child_by_field_name("right")
            target = source.text(left) if left is not None else ""
            if right is not None and target.startswith(("module.exports", "exports.")):
                return _value(source, node.start_byte, right, depth)
        return []
    return _declaration(source, node, depth, node.start_byte)


def _export(source: Source, node: Node, depth: int) -> list[str]:
    """`export` (and `export default`) kept in front of what it exports."""
    declaration = node.child_by_field_name("declaration")
    if declaration is not None:
        return _declaration(source, declaration, depth, node.start_byte)
    value = node.child_by_field_name("value")
    if value is not None:
        return _value(source, node.start_byte, value, depth)
    return source.lines(node.start_byte, node.end_byte, _INDENT * depth)


def _value(source: Source, start: int, value: Node, depth: int) -> list[str]:
    """`<start ...> = value`: functions and classes outlined, short values kept, others `...`."""
    indent = _INDENT * depth
    if value.type in _FUNCTIONS:
        return _function(source, value, start, indent)
    if value.type in _CLASSES:
        return _class(source, value, start, depth)
    if is_short(source.text(value)):
        return add_suffix(source.lines(start, value.end_byte, indent), ";", indent)
    return add_suffix(source.lines(start, value.start_byte, indent), " ...;", indent)


def _declaration(source: Source, node: Node, depth: int, start: int) -> list[str]:
    """One declaration, its text taken from `start` so `export`/`declare`/decorators stay."""
    indent = _INDENT * depth
    kind = node.type
    if kind in _FUNCTIONS:
        return _function(source, node, start, indent)
    if kind in _CLASSES:
        return _class(source, node, start, depth)
    if kind in ("lexical_declaration", "variable_declaration"):
        return _variables(source, node, start, depth)
    if kind in _TS_TYPES:
        return _ts_type(source, node, start, depth)
    if kind == "function_signature":
        return source.lines(start, node.end_byte, indent)
    if kind == "ambient_declaration":
        children = code_children(node)
        if not children:
            return source.lines(start, node.end_byte, indent)
        inner = children[-1]
        if inner.type == "statement_block":
            return _namespace(source, start, inner, depth)
        return _declaration(source, inner, depth, start)
    if kind in ("internal_module", "module"):
        body = node.child_by_field_name("body")
        if body is None:
            return source.lines(start, node.end_byte, indent)
        return _namespace(source, start, body, depth)
    return []


def _namespace(source: Source, start: int, body: Node, depth: int) -> list[str]:
    indent = _INDENT * depth
    header = source.lines(start, body.start_byte, indent)
    inner: list[str] = []
    _statements(source, body, depth + 1, inner)
    if not inner:
        return add_suffix(header, " {}", indent)
    return [*add_suffix(header, " {", indent), *inner, indent + "}"]


def _function(source: Source, node: Node, start: int, indent: str) -> list[str]:
    """The signature from `start` up to the body, the body replaced by `{ ... }`."""
    body = node.child_by_field_name("body")
    if body is None:
        return source.lines(start, node.end_byte, indent)
    lines = source.lines(start, body.start_byte, indent)
    if node.type == "arrow_function" and body.type != "statement_block":
        return add_suffix(lines, " ...", indent)
    return add_suffix(lines, " { ... }", indent)


def _class(source: Source, node: Node, start: int, depth: int) -> list[str]:
    """Class header with heritage, then fields and method signatures, one per line."""
    indent = _INDENT * depth
    body = node.child_by_field_name("body")
    if body is None:
        return source.lines(start, node.end_byte, indent)
    header = source.lines(start, body.start_byte, indent)
    members: list[str] = []
    doc: Node | None = None
    decorators: list[Node] = []
    for member in body.named_children:
        if member.type == "comment":
            doc = member
            continue
        if member.type == "decorator":
            decorators.append(member)
            continue
        first = decorators[0] if decorators else member
        lines = _member(source, member, depth + 1, first.start_byte)
        if lines:
            summary = _jsdoc_summary(source, doc, first)
            if summary is not None:
                members.append(indent + _INDENT + summary)
            members.extend(lines)
        doc = None
        decorators = []
    if not members:
        return add_suffix(header, " {}", indent)
    return [*add_suffix(header, " {", indent), *members, indent + "}"]


def _member(source: Source, member: Node, depth: int, start: int) -> list[str]:
    indent = _INDENT * depth
    kind = member.type
    if kind == "method_definition":
        return _function(source, member, start, indent)
    if kind in _TS_SIGNATURES:
        return add_suffix(source.lines(start, member.end_byte, indent), ";", indent)
    if kind in _FIELDS:
        value = member.child_by_field_name("value")
        if value is None:
            return add_suffix(source.lines(start, member.end_byte, indent), ";", indent)
        return _value(source, start, value, depth)
    return []


def _variables(source: Source, node: Node, start: int, depth: int) -> list[str]:
    """One line per declarator, each keeping `export const`; `require(...)` is an import."""
    indent = _INDENT * depth
    declarators = [child for child in node.named_children if child.type == "variable_declarator"]
    if not declarators:
        return source.lines(start, node.end_byte, indent)
    keyword = " ".join(source.span(start, declarators[0].start_byte).split())
    lines: list[str] = []
    for declarator in declarators:
        value = declarator.child_by_field_name("value")
        if value is not None and _is_require(source, value):
            continue
        if value is None:
            rendered = add_suffix(
                source.lines(declarator.start_byte, declarator.end_byte, indent), ";", indent
            )
        else:
            rendered = _value(source, declarator.start_byte, value, depth)
        if rendered:
            rendered[0] = f"{indent}{keyword} {rendered[0][len(indent) :]}"
        lines.extend(rendered)
    return lines


def _is_require(source: Source, value: Node) -> bool:
    """`require("x")` or `require("x").y`: CommonJS imports, omitted like imports are."""
    while value.type == "member_expression":
        obj = value.child_by_field_name("object")
        if obj is None:
            return False
        value = obj
    function = value.child_by_field_name("function") if value.type == "call_expression" else None
    return function is not None and source.text(function) == "require"


def _ts_type(source: Source, node: Node, start: int, depth: int) -> list[str]:
    """Interfaces, type aliases and enums whole when short; long ones one line per member."""
    indent = _INDENT * depth
    lines = source.lines(start, node.end_byte, indent)
    if len(lines) <= SHORT_DECLARATION_LINES:
        return lines
    body = node.child_by_field_name("body")
    if body is None or node.type == "type_alias_declaration":
        return [*lines[:SHORT_DECLARATION_LINES], indent + _INDENT + "..."]
    separator = "," if node.type == "enum_declaration" else ";"
    members: list[str] = []
    for member in code_children(body):
        first, *rest = source.text(member).splitlines() or [""]
        first = first.strip()
        if rest:
            first += " ... }" if first.endswith("{") else " ..."
        members.append(indent + _INDENT + first + separator)
    header = source.lines(start, body.start_byte, indent)
    return [*add_suffix(header, " {", indent), *members, indent + "}"]
