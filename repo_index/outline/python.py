"""Python outlines: module and class members, signatures with decorators, docstring first lines.

Assignments keep short values and elide long ones; function bodies become `...`; imports are
left out: they are what the file uses, not what it offers.
"""

from __future__ import annotations

from tree_sitter import Node

from repo_index.outline.source import Source, add_suffix, code_children, is_short

_INDENT = "    "
_TARGETS = frozenset({"identifier", "pattern_list", "tuple_pattern", "list_pattern"})


def python_outline(source: Source, root: Node) -> list[str]:
    """The outline lines of a parsed Python module, its docstring's first line included."""
    lines: list[str] = []
    _statements(source, root, 0, lines, allow_docstring=True)
    return lines


def _statements(
    source: Source, container: Node, depth: int, out: list[str], *, allow_docstring: bool
) -> None:
    """Outline the statements of a module, class body or recovered ERROR region."""
    indent = _INDENT * depth
    for position, child in enumerate(code_children(container)):
        if position == 0 and allow_docstring:
            docstring = _docstring_of_statement(source, child)
            if docstring is not None:
                out.append(indent + docstring)
                continue
        kind = child.type
        if kind == "ERROR":
            _statements(source, child, depth, out, allow_docstring=False)
        elif kind == "expression_statement":
            out.extend(
                indent + line
                for assignment in child.named_children
                if (line := _assignment(source, assignment)) is not None
            )
        elif kind == "type_alias_statement":
            out.append(indent + _type_alias(source, child))
        elif kind == "decorated_definition":
            _decorated(source, child, depth, out)
        elif kind in ("function_definition", "class_definition"):
            _definition(source, child, [], depth, out)


def _decorated(source: Source, node: Node, depth: int, out: list[str]) -> None:
    definition = node.child_by_field_name("definition")
    decorators = [child for child in node.named_children if child.type == "decorator"]
    if definition is None:
        out.extend(source.lines(node.start_byte, node.end_byte, _INDENT * depth))
        return
    _definition(source, definition, decorators, depth, out)


def _definition(
    source: Source, node: Node, decorators: list[Node], depth: int, out: list[str]
) -> None:
    """A `def` or `class`: decorators, header, docstring line, then members or `...`."""
    indent = _INDENT * depth
    for decorator in decorators:
        out.extend(source.lines(decorator.start_byte, decorator.end_byte, indent))
    body = node.child_by_field_name("body")
    header = source.lines(node.start_byte, _header_end(node, body), indent)
    if not header or not header[-1].endswith(":"):
        add_suffix(header, ":", indent)
    out.extend(header)
    inner: list[str] = []
    if body is not None and node.type == "class_definition":
        _statements(source, body, depth + 1, inner, allow_docstring=True)
    elif body is not None:
        docstring = _docstring(source, body)
        if docstring is not None:
            inner = [indent + _INDENT + docstring, indent + _INDENT + "..."]
    if inner:
        out.extend(inner)
    else:
        out[-1] += " ..."


def _header_end(node: Node, body: Node | None) -> int:
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


def _docstring(source: Source, block: Node) -> str | None:
    statements = code_children(block)
    return _docstring_of_statement(source, statements[0]) if statements else None


def _docstring_of_statement(source: Source, statement: Node) -> str | None:
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


def _assignment(source: Source, node: Node) -> str | None:
    """`name: type = value` with long values elided; None for targets that are not names."""
    if node.type != "assignment":
        return None
    left = node.child_by_field_name("left")
    if left is None or left.type not in _TARGETS:
        return None
    head = source.text(left)
    annotation = node.child_by_field_name("type")
    if annotation is not None:
        head += ": " + " ".join(source.text(annotation).split())
    value = node.child_by_field_name("right")
    if value is None:
        return head
    value_text = source.text(value)
    return f"{head} = {value_text if is_short(value_text) else '...'}"


def _type_alias(source: Source, node: Node) -> str:
    text = source.text(node)
    if is_short(text):
        return text
    left = node.child_by_field_name("left")
    return f"type {source.text(left) if left is not None else '...'} = ..."
