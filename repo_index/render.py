"""The "Legacy Code" text of a prompt: focus files in full, then a map of the best definitions.

The map shows each file's most relevant definitions as their signature lines, nested under the
signatures of their enclosing scopes, with "⋮" where code is left out, so the reader sees where
things live and how to call them without the bodies. How many definitions fit is found by a
search over the ranked list, measuring the exact final text with the one token estimator, so
the result never exceeds the budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import islice

from repo_index.model import Definition
from repo_index.ranking import Ranking
from repo_index.tokens import estimate_tokens

ELISION = "⋮"
INDENT = "    "
OUTLINE_NOTE = "{path} (too large for the budget; showing its outline)"


def render_map(
    ranking: Ranking,
    sources: Callable[[str], str | None],
    *,
    focus: Sequence[str] = (),
    budget: int,
) -> str:
    """Focus files, then other files best first, as much as fits in `budget` tokens."""
    if budget <= 0:
        return ""
    texts = _Texts(sources)
    blocks: list[str] = []
    outlined: list[str] = []
    for path in dict.fromkeys(focus):
        text = texts.get(path)
        if text is None:
            continue
        body = text.rstrip("\n")
        block = f"```{path}\n{body}\n```"
        if estimate_tokens(_join([*blocks, block])) <= budget:
            blocks.append(block)
        else:
            outlined.append(path)
    shown = set(focus)
    first = set(outlined)
    candidates = _Prefix(_candidates(ranking, first, shown))
    order = outlined + [path for path, _ in ranking.files if path not in shown]
    outline = _Outline(ranking, texts, order, first)

    def render(count: int) -> str:
        return _join([*blocks, *outline.sections(candidates.take(count))])

    def fits(count: int) -> bool:
        return estimate_tokens(render(count)) <= budget

    best, above = 0, 1  # render(best) fits; render(above) does not, or there are fewer
    while True:
        available = len(candidates.take(above))
        if available < above:
            above = available + 1
            break
        if not fits(above):
            break
        best, above = above, above * 2
    while above - best > 1:
        middle = (best + above) // 2
        if fits(middle):
            best = middle
        else:
            above = middle
    return render(best)


def _candidates(
    ranking: Ranking, outlined: set[str], shown: set[str]
) -> Iterator[tuple[str, Definition]]:
    """Definitions of outlined focus files first, then those of files not shown in full."""
    if outlined:
        yield from ((path, d) for path, d, _ in ranking.definitions if path in outlined)
    yield from ((path, d) for path, d, _ in ranking.definitions if path not in shown)


def _join(sections: list[str]) -> str:
    return "\n\n".join(sections)


class _Texts:
    """File texts read once per map, since the search renders many times."""

    def __init__(self, sources: Callable[[str], str | None]) -> None:
        self.sources = sources
        self.texts: dict[str, str | None] = {}
        self.split: dict[str, list[str]] = {}

    def get(self, path: str) -> str | None:
        if path not in self.texts:
            self.texts[path] = self.sources(path)
        return self.texts[path]

    def lines(self, path: str) -> list[str]:
        if path not in self.split:
            text = self.get(path)
            self.split[path] = text.splitlines() if text is not None else []
        return self.split[path]


class _Prefix:
    """The start of a long ranked list, taken only as far as the search reaches."""

    def __init__(self, items: Iterator[tuple[str, Definition]]) -> None:
        self.items = items
        self.taken: list[tuple[str, Definition]] = []

    def take(self, count: int) -> list[tuple[str, Definition]]:
        if len(self.taken) < count:
            self.taken.extend(islice(self.items, count - len(self.taken)))
        return self.taken[:count]


class _Outline:
    """Renders chosen definitions file by file, with their enclosing scopes."""

    def __init__(self, ranking: Ranking, texts: _Texts, order: list[str], noted: set[str]):
        self.texts = texts
        self.order = order
        self.noted = noted
        self.unscanned = iter(ranking.definitions)
        self.seen: dict[str, list[Definition]] = {}  # per path, what the scan has passed

    def sections(self, chosen: list[tuple[str, Definition]]) -> list[str]:
        """One section per file that has chosen definitions, in file order."""
        by_path: dict[str, set[Definition]] = {}
        for path, definition in chosen:
            entries = by_path.setdefault(path, set())
            while definition is not None and definition not in entries:
                entries.add(definition)
                definition = self._enclosing(path, definition)
        result: list[str] = []
        for path in self.order:
            entries = by_path.get(path)
            if entries:
                head = OUTLINE_NOTE.format(path=path) if path in self.noted else f"{path}:"
                result.append("\n".join([head, *self._lines(path, entries)]))
        return result

    def _enclosing(self, path: str, definition: Definition) -> Definition | None:
        """The definition named by `definition.scope` that contains it, if indexed.

        Enclosing definitions usually rank close to what they contain, so the ranked list is
        scanned only as far as needed.
        """
        if not definition.scope:
            return None
        for outer in self.seen.get(path, []):
            if _encloses(outer, definition):
                return outer
        for where, outer, _ in self.unscanned:
            self.seen.setdefault(where, []).append(outer)
            if where == path and _encloses(outer, definition):
                return outer
        return None

    def _lines(self, path: str, entries: set[Definition]) -> list[str]:
        """Signatures in line order, "⋮" wherever lines between or after them are left out."""
        lines: list[str] = []
        following = 0  # first line after what has been shown
        for definition in sorted(entries, key=_position):
            if definition.line > following:
                lines.append(ELISION)
            signature = self._signature(path, definition)
            depth = definition.scope.count(".") + 1 if definition.scope else 0
            lines.extend(_indented(signature, INDENT * depth))
            following = max(following, definition.line + len(signature))
        lines.append(ELISION)
        return lines

    def _signature(self, path: str, definition: Definition) -> list[str]:
        """The definition's signature lines; its source line when the index has none."""
        lines = [line for line in definition.signature.splitlines() if line.strip()]
        if lines:
            return lines
        source = self.texts.lines(path)
        if definition.line < len(source) and source[definition.line].strip():
            return [source[definition.line]]
        return [f"{definition.kind} {definition.name}"]


def _position(d: Definition) -> tuple[int, int, str, str, str, str]:
    """Line order; outer before inner on a shared line; the rest only makes the order total."""
    return (d.line, -d.end_line, d.scope, d.name, d.kind, d.signature)


def _encloses(outer: Definition, inner: Definition) -> bool:
    """Whether `outer` is the definition that `inner.scope` names, around `inner`."""
    scope, _, name = inner.scope.rpartition(".")
    return (
        outer.name == name and outer.scope == scope and outer.line <= inner.line <= outer.end_line
    )


def _indented(lines: list[str], indent: str) -> list[str]:
    """Put the first line at `indent`, keeping the continuation lines' relative indentation."""
    rest = lines[1:]
    margin = min((len(line) - len(line.lstrip()) for line in rest), default=0)
    return [indent + lines[0].strip()] + [indent + line[margin:].rstrip() for line in rest]
