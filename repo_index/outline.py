"""The interface of one source file: what another file's author needs, without bodies.

An Engineer writing one file is shown the outlines of the files it depends on instead of their
whole code, so a prompt grows with what the file uses rather than with the project. Outlines are
built from the tree-sitter syntax tree; tree-sitter recovers from syntax errors, so a broken file
still yields the definitions it could parse. Offsets from tree-sitter count UTF-8 bytes, so all
slicing happens on the encoded source.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node

from repo_index.languages import PYTHON, language_for_path, parse
from repo_index.model import Definition
from repo_index.tags import extract_tags

UNKNOWN_LANGUAGE_LINES = 30
SHORT_VALUE_CHARS = 80
SHORT_DECLARATION_LINES = 20

_PY_INDENT = "    "
_JS_INDENT = "  "
_PY_TARGETS = frozenset({"identifier", "pattern_list", "tuple_pattern", "list_pattern"})
_JS_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "function_expression",
        "function",
        "generator_function",
        "arrow_function",
    }
)
_JS_CLASSES = frozenset({"class_declaration", "abstract_class_declaration", "class"})
_TS_TYPES = frozenset({"interface_declaration", "type_alias_declaration", "enum_declaration"})
_JS_FIELDS = frozenset({"field_definition", "public_field_definition"})
_TS_SIGNATURES = frozenset({"method_signature", "abstract_method_signature", "index_signature"})


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
            return _signatures(tags.definitions)
        return "\n".join(text.splitlines()[:UNKNOWN_LANGUAGE_LINES])
    data = text.encode("utf-8", "replace")
    root = parse(language, data).root_node
    source = _Source(data)
    lines: list[str] = []
    if language == PYTHON:
        _py_statements(source, root, 0, lines, allow_docstring=True)
    else:
        _js_statements(source, root, 0, lines)
    return "\n".join(lines)


def _signatures(definitions: Sequence[Definition]) -> str:
    lines: list[str] = []
    for definition in sorted(definitions, key=lambda d: (d.line, d.end_line)):
        depth = len(definition.scope.split(".")) if definition.scope else 0
        indent = "    " * depth
        lines.extend(indent + line.strip() for line in definition.signature.splitlines())
    return "\n".join(lines)


class _Source:
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


def _is_short(text: str) -> bool:
    return "\n" not in text and len(text) <= SHORT_VALUE_CHARS


def _append(lines: list[str], suffix: str, indent: str) -> list[str]:
    """Add `suffix` to the last line, or make it the only line when there is none."""
    if lines:
        lines[-1] += suffix
    else:
        lines.append(indent + suffix.lstrip())
    return lines


def _code_children(node: Node) -> list[Node]:
    return [child for child in node.named_children if child.type != "comment"]


# Python


def _py_statements(
    source: _Source, container: Node, depth: int, out: list[str], *, allow_docstring: bool
) -> None:
    """Outline the statements of a module, class body or recovered ERROR region."""
    indent = _PY_INDENT * depth
    for position, child in enumerate(_code_children(container)):
        if position == 0 and allow_docstring:
            docstring = _py_docstring_of_statement(source, child)
            if docstring is not None:
                out.append(indent + docstring)
                continue
        kind = child.type
        if kind == "ERROR":
            _py_statements(source, child, depth, out, allow_docstring=False)
        elif kind == "expression_statement":
            out.extend(
                indent + line
                for assignment in child.named_children
                if (line := _py_assignment(source, assignment)) is not None
            )
        elif kind == "type_alias_statement":
            out.append(indent + _py_type_alias(source, child))
        elif kind == "decorated_definition":
            _py_decorated(source, child, depth, out)
        elif kind in ("function_definition", "class_definition"):
            _py_definition(source, child, [], depth, out)


def _py_decorated(source: _Source, node: Node, depth: int, out: list[str]) -> None:
    definition = node.child_by_field_name("definition")
    decorators = [child for child in node.named_children if child.type == "decorator"]
    if definition is None:
        out.extend(source.lines(node.start_byte, node.end_byte, _PY_INDENT * depth))
        return
    _py_definition(source, definition, decorators, depth, out)


def _py_definition(
    source: _Source, node: Node, decorators: list[Node], depth: int, out: list[str]
) -> None:
    """A `def` or `class`: decorators, header, docstring line, then members or `...`."""
    indent = _PY_INDENT * depth
    for decorator in decorators:
        out.extend(source.lines(decorator.start_byte, decorator.end_byte, indent))
    body = node.child_by_field_name("body")
    header = source.lines(node.start_byte, _py_header_end(node, body), indent)
    if not header or not header[-1].endswith(":"):
        _append(header, ":", indent)
    out.extend(header)
    inner: list[str] = []
    if body is not None and node.type == "class_definition":
        _py_statements(source, body, depth + 1, inner, allow_docstring=True)
    elif body is not None:
        docstring = _py_docstring(source, body)
        if docstring is not None:
            inner = [indent + _PY_INDENT + docstring, indent + _PY_INDENT + "..."]
    if inner:
        out.extend(inner)
    else:
        out[-1] += " ..."


def _py_header_end(node: Node, body: Node | None) -> int:
    """End of the `:` that closes a def/class header, so trailing comments are left out."""
    end: int | None = None
    for child in node.children:
        if body is not None and child.start_byte >= body.start_byte:
            break
        if child.type == ":" and not child.is_missing:
            end = child.end_byte
    if end is not None:
        return end
    return body.start_byte if body is not None else node.end_byte


def _py_docstring(source: _Source, block: Node) -> str | None:
    statements = _code_children(block)
    return _py_docstring_of_statement(source, statements[0]) if statements else None


def _py_docstring_of_statement(source: _Source, statement: Node) -> str | None:
    """The first line of a docstring statement, between its own quotes; None if not one."""
    if statement.type != "expression_statement" or statement.named_child_count != 1:
        return None
    string = statement.named_children[0]
    if string.type != "string" or string.child_count < 2:
        return None
    opening, closing = string.children[0], string.children[-1]
    if opening.type != "string_start" or "f" in source.text(opening).lower():
        return None
    start_quote = source.text(opening)
    quote = start_quote.lstrip("rRuUbB")
    end_quote = source.text(closing) if closing.type == "string_end" else ""
    content = source.span(opening.end_byte, closing.start_byte if end_quote else string.end_byte)
    first = next((line.strip() for line in content.splitlines() if line.strip()), "")
    if not first:
        return None
    if first[-1] in ("\\", quote[:1]):
        first += " "
    return start_quote + first + (end_quote or quote)


def _py_assignment(source: _Source, node: Node) -> str | None:
    """`name: type = value` with long values elided; None for targets that are not names."""
    if node.type != "assignment":
        return None
    left = node.child_by_field_name("left")
    if left is None or left.type not in _PY_TARGETS:
        return None
    head = source.text(left)
    annotation = node.child_by_field_name("type")
    if annotation is not None:
        head += ": " + " ".join(source.text(annotation).split())
    value = node.child_by_field_name("right")
    if value is None:
        return head
    value_text = source.text(value)
    return f"{head} = {value_text if _is_short(value_text) else '...'}"


def _py_type_alias(source: _Source, node: Node) -> str:
    text = source.text(node)
    if _is_short(text):
        return text
    left = node.child_by_field_name("left")
    return f"type {source.text(left) if left is not None else '...'} = ..."


# JavaScript and TypeScript


def _js_statements(source: _Source, container: Node, depth: int, out: list[str]) -> None:
    """Outline top-level (or namespace-level) statements, each with its JSDoc summary."""
    indent = _JS_INDENT * depth
    doc: Node | None = None
    for child in container.named_children:
        if child.type == "comment":
            doc = child
            continue
        lines = _js_statement(source, child, depth)
        if lines:
            summary = _jsdoc_summary(source, doc, child)
            if summary is not None:
                out.append(indent + summary)
            out.extend(lines)
        doc = None


def _jsdoc_summary(source: _Source, comment: Node | None, target: Node) -> str | None:
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


def _js_statement(source: _Source, node: Node, depth: int) -> list[str]:
    kind = node.type
    if kind == "ERROR":
        recovered: list[str] = []
        _js_statements(source, node, depth, recovered)
        return recovered
    if kind == "export_statement":
        return _js_export(source, node, depth)
    if kind == "expression_statement":
        expression = node.named_children[0] if node.named_child_count else None
        if expression is None:
            return []
        if expression.type == "internal_module":
            return _js_declaration(source, expression, depth, expression.start_byte)
        if expression.type == "assignment_expression":
            left = expression.child_by_field_name("left")
            right = expression.child_by_field_name("right")
            target = source.text(left) if left is not None else ""
            if right is not None and target.startswith(("module.exports", "exports.")):
                return _js_value(source, node.start_byte, right, depth)
        return []
    return _js_declaration(source, node, depth, node.start_byte)


def _js_export(source: _Source, node: Node, depth: int) -> list[str]:
    """`export` (and `export default`) kept in front of what it exports."""
    declaration = node.child_by_field_name("declaration")
    if declaration is not None:
        return _js_declaration(source, declaration, depth, node.start_byte)
    value = node.child_by_field_name("value")
    if value is not None:
        return _js_value(source, node.start_byte, value, depth)
    return source.lines(node.start_byte, node.end_byte, _JS_INDENT * depth)


def _js_value(source: _Source, start: int, value: Node, depth: int) -> list[str]:
    """`<start ...> = value`: functions and classes outlined, short values kept, others `...`."""
    indent = _JS_INDENT * depth
    if value.type in _JS_FUNCTIONS:
        return _js_function(source, value, start, indent)
    if value.type in _JS_CLASSES:
        return _js_class(source, value, start, depth)
    if _is_short(source.text(value)):
        return _append(source.lines(start, value.end_byte, indent), ";", indent)
    return _append(source.lines(start, value.start_byte, indent), " ...;", indent)


def _js_declaration(source: _Source, node: Node, depth: int, start: int) -> list[str]:
    """One declaration, its text taken from `start` so `export`/`declare`/decorators stay."""
    indent = _JS_INDENT * depth
    kind = node.type
    if kind in _JS_FUNCTIONS:
        return _js_function(source, node, start, indent)
    if kind in _JS_CLASSES:
        return _js_class(source, node, start, depth)
    if kind in ("lexical_declaration", "variable_declaration"):
        return _js_variables(source, node, start, depth)
    if kind in _TS_TYPES:
        return _ts_type(source, node, start, depth)
    if kind == "function_signature":
        return source.lines(start, node.end_byte, indent)
    if kind == "ambient_declaration":
        children = _code_children(node)
        if not children:
            return source.lines(start, node.end_byte, indent)
        inner = children[-1]
        if inner.type == "statement_block":
            return _js_namespace(source, start, inner, depth)
        return _js_declaration(source, inner, depth, start)
    if kind in ("internal_module", "module"):
        body = node.child_by_field_name("body")
        if body is None:
            return source.lines(start, node.end_byte, indent)
        return _js_namespace(source, start, body, depth)
    return []


def _js_namespace(source: _Source, start: int, body: Node, depth: int) -> list[str]:
    indent = _JS_INDENT * depth
    header = source.lines(start, body.start_byte, indent)
    inner: list[str] = []
    _js_statements(source, body, depth + 1, inner)
    if not inner:
        return _append(header, " {}", indent)
    return [*_append(header, " {", indent), *inner, indent + "}"]


def _js_function(source: _Source, node: Node, start: int, indent: str) -> list[str]:
    """The signature from `start` up to the body, the body replaced by `{ ... }`."""
    body = node.child_by_field_name("body")
    if body is None:
        return source.lines(start, node.end_byte, indent)
    lines = source.lines(start, body.start_byte, indent)
    if node.type == "arrow_function" and body.type != "statement_block":
        return _append(lines, " ...", indent)
    return _append(lines, " { ... }", indent)


def _js_class(source: _Source, node: Node, start: int, depth: int) -> list[str]:
    """Class header with heritage, then fields and method signatures, one per line."""
    indent = _JS_INDENT * depth
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
        lines = _js_member(source, member, depth + 1, first.start_byte)
        if lines:
            summary = _jsdoc_summary(source, doc, first)
            if summary is not None:
                members.append(indent + _JS_INDENT + summary)
            members.extend(lines)
        doc = None
        decorators = []
    if not members:
        return _append(header, " {}", indent)
    return [*_append(header, " {", indent), *members, indent + "}"]


def _js_member(source: _Source, member: Node, depth: int, start: int) -> list[str]:
    indent = _JS_INDENT * depth
    kind = member.type
    if kind == "method_definition":
        return _js_function(source, member, start, indent)
    if kind in _TS_SIGNATURES:
        return _append(source.lines(start, member.end_byte, indent), ";", indent)
    if kind in _JS_FIELDS:
        value = member.child_by_field_name("value")
        if value is None:
            return _append(source.lines(start, member.end_byte, indent), ";", indent)
        return _js_value(source, start, value, depth)
    return []


def _js_variables(source: _Source, node: Node, start: int, depth: int) -> list[str]:
    """One line per declarator, each keeping `export const`; `require(...)` is an import."""
    indent = _JS_INDENT * depth
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
            rendered = _append(
                source.lines(declarator.start_byte, declarator.end_byte, indent), ";", indent
            )
        else:
            rendered = _js_value(source, declarator.start_byte, value, depth)
        if rendered:
            rendered[0] = f"{indent}{keyword} {rendered[0][len(indent) :]}"
        lines.extend(rendered)
    return lines


def _is_require(source: _Source, value: Node) -> bool:
    """`require("x")` or `require("x").y`: CommonJS imports, omitted like imports are."""
    while value.type == "member_expression":
        obj = value.child_by_field_name("object")
        if obj is None:
            return False
        value = obj
    function = value.child_by_field_name("function") if value.type == "call_expression" else None
    return function is not None and source.text(function) == "require"


def _ts_type(source: _Source, node: Node, start: int, depth: int) -> list[str]:
    """Interfaces, type aliases and enums whole when short; long ones one line per member."""
    indent = _JS_INDENT * depth
    lines = source.lines(start, node.end_byte, indent)
    if len(lines) <= SHORT_DECLARATION_LINES:
        return lines
    body = node.child_by_field_name("body")
    if body is None or node.type == "type_alias_declaration":
        return [*lines[:SHORT_DECLARATION_LINES], indent + _JS_INDENT + "..."]
    separator = "," if node.type == "enum_declaration" else ";"
    members: list[str] = []
    for member in _code_children(body):
        first, *rest = source.text(member).splitlines() or [""]
        first = first.strip()
        if rest:
            first += " ... }" if first.endswith("{") else " ..."
        members.append(indent + _JS_INDENT + first + separator)
    header = source.lines(start, body.start_byte, indent)
    return [*_append(header, " {", indent), *members, indent + "}"]
