"""Which files and definitions of a repository matter most for the work at hand.

Files form a graph: a file that references an identifier points at the files that define it.
Personalized PageRank over that graph, seeded by the files being worked on and by the names the
requirement mentions, ranks the files; each file's rank is then shared among its definitions by
how much of the incoming flow their names carry.

Everything runs on flat lists with C-level `map`, `compress` and `accumulate` passes: on a
thousand-file repository a Python loop per reference or per edge and iteration, touching objects
scattered in memory, would be several times too slow. Names defined in several files go through
a "hub" (the mass sent to the name, shared by its definers) instead of one edge per referencer
and definer, which keeps the edge count linear in the number of references.
"""

from __future__ import annotations

import builtins
import math
import re
from array import array
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from operator import (
    add,
    and_,
    attrgetter,
    itemgetter,
    lt,
    mul,
    not_,
    or_,
    sub,
    truediv,
)

import numpy as np

from repo_index.model import Definition, FileTags

DAMPING = 0.85
TOLERANCE = 1e-6
MAX_ITERATIONS = 100

MENTIONED_WEIGHT = 10.0
PRIVATE_WEIGHT = 0.5
COMMON_WEIGHT = 0.1
SHORT_NAME_CHARS = 3
UNREFERENCED_SHARE = 0.05

# Names that most code bases define or call somewhere, besides the Python builtins.
_USUAL_NAMES = frozenset(
    {
        "add", "apply", "args", "call", "callback", "check", "clear", "close", "cls", "config",
        "constructor", "copy", "create", "data", "default", "delete", "emit", "error", "execute",
        "find", "forEach", "func", "get", "handle", "handler", "init", "items", "key", "keys",
        "kwargs", "length", "load", "log", "logger", "main", "name", "new", "options", "parse",
        "pop", "process", "props", "push", "put", "read", "remove", "render", "reset", "result",
        "run", "save", "self", "send", "setup", "size", "start", "state", "stop", "test", "then",
        "this", "toString", "update", "validate", "value", "values", "write",
    }
)  # fmt: skip
COMMON_NAMES = frozenset(name for name in dir(builtins) if name.islower()) | _USUAL_NAMES

STOP_WORDS = frozenset(
    {
        "about", "above", "after", "again", "against", "also", "and", "any", "are", "because",
        "been", "before", "being", "below", "between", "both", "but", "can", "could", "did",
        "does", "doing", "down", "during", "each", "either", "every", "few", "for", "from",
        "further", "had", "has", "have", "having", "her", "here", "hers", "him", "his", "how",
        "into", "its", "itself", "just", "let", "may", "might", "more", "most", "must", "neither",
        "nor", "not", "now", "off", "once", "only", "onto", "other", "ought", "our", "ours",
        "out", "over", "own", "please", "same", "shall", "she", "should", "some", "such", "than",
        "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this",
        "those", "through", "too", "under", "until", "upon", "very", "want", "was", "were",
        "what", "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with",
        "within", "without", "would", "yet", "you", "your", "yours",
    }
)  # fmt: skip

_CHAIN = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_NAME = attrgetter("name")
_LINE = attrgetter("line")


@dataclass(frozen=True)
class Ranking:
    """Files and their definitions, best first. File ranks sum to 1 unless there are none."""

    files: list[tuple[str, float]]
    definitions: list[tuple[str, Definition, float]]


def identifiers_in(text: str) -> set[str]:
    """Words of a requirement that look like code names, so plain prose does not steer ranking.

    A word counts if it is written like code (snake_case, CamelCase, ALLCAPS, with digits), is
    part of a dotted name (split into its parts) or in backticks, or is capitalized in the
    middle of a sentence (a class name, most likely). Short words and stop words never count.
    """
    found: set[str] = set()
    for match in _CHAIN.finditer(text):
        parts = match.group().split(".")
        before = _previous_character(text, match.start())
        marked = len(parts) > 1 or before == "`"
        mid_sentence = before not in ("", ".", "!", "?", ":")
        found.update(
            part
            for part in parts
            if len(part) >= SHORT_NAME_CHARS
            and part.lower() not in STOP_WORDS
            and (marked or _looks_like_code(part) or (mid_sentence and part[0].isupper()))
        )
    return found


def _previous_character(text: str, position: int) -> str:
    """The last non-blank character before `position`, or "" at the start."""
    while position > 0 and text[position - 1].isspace():
        position -= 1
    return text[position - 1] if position else ""


def _looks_like_code(word: str) -> bool:
    """snake_case, _private, with digits, CamelCase, camelCase or ALLCAPS."""
    return "_" in word or any(c.isdigit() or c.isupper() for c in word[1:])


def rank(
    tags: Mapping[str, FileTags],
    *,
    focus: Collection[str] = (),
    mentioned: Collection[str] = (),
    start: Mapping[str, float] | None = None,
) -> Ranking:
    """Rank files by personalized PageRank, then share each file's rank among its definitions.

    `start` (the file ranks of an earlier call) only speeds up convergence: after a small edit
    the earlier ranks are nearly the answer already.
    """
    paths = sorted(tags)
    if not paths:
        return Ranking([], [])
    named = frozenset(mentioned)
    focused = frozenset(focus)
    graph = _Graph(paths, tags, named)
    personal = graph.personalization(focused)
    initial = personal
    if start:
        known = [start.get(path, 0.0) for path in paths]
        total = sum(known)
        if total > 0:
            initial = [value / total for value in known]
    ranks = graph.pagerank(personal, initial)
    order = sorted(range(len(paths)), key=lambda i: (paths[i] not in focused, -ranks[i]))
    files = [(paths[i], ranks[i]) for i in order]
    return Ranking(files, graph.definition_ranks(ranks, focused))


class _Graph:
    """The reference graph of one corpus as flat edge lists, ready for the power iteration.

    A name with one definer turns each reference into a direct edge, and edges between the same
    two files merge. A name with several definers is a hub: referencers send mass into it and
    each definer takes what it holds, minus what the definer itself sent, since a file never
    points at itself.
    """

    def __init__(self, paths: list[str], tags: Mapping[str, FileTags], named: frozenset[str]):
        self.paths = paths
        self.tags = tags
        self.size = len(paths)
        self.named = named
        self.definitions: list[list[Definition]] = []  # per file, in line order
        self.nids: list[list[int]] = []  # per file, the name id of each definition
        self.defined: list[dict[str, int]] = []  # per file, its distinct names and their ids
        self.ids: dict[str, int] = {}
        self.first: list[int] = []  # per name id, the first file defining it
        self.shared: dict[int, list[int]] = {}  # name id -> files, for names defined repeatedly
        for index, path in enumerate(paths):
            definitions = sorted(tags[path].definitions, key=_LINE)
            names = list(map(_NAME, definitions))
            defined = dict.fromkeys(names, 0)
            for name in defined:
                nid = self.ids.setdefault(name, len(self.first))
                if nid == len(self.first):
                    self.first.append(index)
                else:
                    self.shared.setdefault(nid, [self.first[nid]]).append(index)
                defined[name] = nid
            self.definitions.append(definitions)
            self.nids.append(list(map(defined.__getitem__, names)))
            self.defined.append(defined)
        self.sizes = [1] * len(self.first)  # per name id, how many files define it
        for nid, definers in self.shared.items():
            self.sizes[nid] = len(definers)
        self.named_ids = {self.ids[name] for name in named if name in self.ids}
        self._build()

    def _build(self) -> None:
        """Weigh every reference to a defined name, a file at a time, with whole-list passes.

        Memory access dominates on a large corpus: Python code per reference that touches
        objects scattered in memory costs several times more than C-level passes over flat
        lists, so per reference only the filter and the merge of direct edges run in Python.
        Few container objects are kept, since each one adds to every later full collection.
        """
        ids = self.ids
        known = frozenset(ids)  # a set probe is cheaper than a dict one, and most probes miss
        sizes = self.sizes
        targets = self.first.copy()  # the definer, or -1 for a hub
        for nid in self.shared:
            targets[nid] = -1
        spreads = _spreads(ids, sizes, self.named)
        self.out_weight = [0.0] * self.size
        self.scale = [0.0] * self.size  # DAMPING / out weight: what a file passes per weight
        self.loops: dict[int, dict[int, float]] = {}  # file -> hub name id -> own coefficient
        hubs = _Triples()  # hub name id <- file
        singles = _Triples()  # single-definer name id <- file, self-references left out
        files = _Triples()  # file <- file or hub
        for index, path in enumerate(self.paths):
            references = self.tags[path].references
            matched = list(filter(known.__contains__, references))
            nids = list(map(ids.__getitem__, matched))
            own = list(map(self.defined[index].__contains__, matched))
            uses = map(math.sqrt, map(references.__getitem__, matched))
            weights = list(map(mul, uses, map(spreads.__getitem__, nids)))
            total = sum(map(mul, weights, map(sub, map(sizes.__getitem__, nids), own)))
            scale = DAMPING / total if total else 0.0
            self.out_weight[index] = total
            self.scale[index] = scale
            coefficients = list(map(mul, weights, repeat(scale)))
            points = list(map(targets.__getitem__, nids))
            hub = list(map(lt, points, repeat(0)))
            hubs.extend(compress(nids, hub), index, compress(coefficients, hub))
            direct = list(map(not_, map(or_, hub, own)))
            singles.extend(compress(nids, direct), index, compress(coefficients, direct))
            edges: dict[int, float] = {}
            for target, coefficient in zip(
                compress(points, direct), compress(coefficients, direct), strict=True
            ):
                edges[target] = edges.get(target, 0.0) + coefficient
            files.extend(edges, index, edges.values())
            loop = list(map(and_, hub, own))
            if any(loop):
                self.loops[index] = dict(
                    zip(compress(nids, loop), compress(coefficients, loop), strict=True)
                )
        self.dangling = [index for index, total in enumerate(self.out_weight) if not total]
        self.singles = singles
        self.hub_edges, self.hub_ids = hubs.grouped()
        for position, nid in enumerate(self.hub_ids, start=self.size):
            files.extend(self.shared[nid], position, repeat(1.0, sizes[nid]))
        for index, sent in self.loops.items():
            files.extend([index], index, [-sum(sent.values())])
        self.file_edges = files.grouped(range(self.size))[0]

    def personalization(self, focused: frozenset[str]) -> list[float]:
        """Focus files and the definers of mentioned names; uniform when there are neither."""
        weights = [0.0] * self.size
        for index, path in enumerate(self.paths):
            if path in focused:
                weights[index] += 1.0
        for nid in sorted(self.named_ids):
            definers = self.shared.get(nid, [self.first[nid]])
            for index in definers:
                weights[index] += 1.0 / len(definers)
        total = sum(weights)
        if not total:
            return [1.0 / self.size] * self.size
        return [weight / total for weight in weights]

    def pagerank(self, personal: list[float], initial: list[float]) -> list[float]:
        """Power iteration until the L1 change is below TOLERANCE, at most MAX_ITERATIONS.

        Values are indexed by file, then by hub; each file takes the inflow of its edges. The
        mass of dangling files (they reference nothing) restarts by `personal`, as the teleport
        does, so the ranks keep summing to one.
        """
        ranks = np.asarray(initial, dtype=np.float64)
        teleport = np.asarray(personal, dtype=np.float64)
        dangling = np.asarray(self.dangling, dtype=np.intp)
        for _ in range(MAX_ITERATIONS):
            inflow = self.file_edges.inflow(np.concatenate((ranks, self.hub_edges.inflow(ranks))))
            np.maximum(inflow, 0.0, out=inflow)  # a hub's self-correction may leave -1e-17
            restart = (1.0 - DAMPING) + DAMPING * float(ranks[dangling].sum())
            updated = inflow + teleport * restart
            change = float(np.abs(updated - ranks).sum())
            ranks = updated
            if change < TOLERANCE:
                break
        return ranks.tolist()

    def definition_ranks(
        self, ranks: list[float], focused: frozenset[str]
    ) -> list[tuple[str, Definition, float]]:
        """Share each file's rank among its definitions by the flow their names receive.

        A file that nothing references, names or focuses on keeps only a small share, so one lone
        helper does not outrank the definitions other files actually call.
        """
        flow = [0.0] * len(self.first)
        singles = self.singles
        sent = map(mul, map(ranks.__getitem__, singles.keys), singles.values)
        for nid, value in zip(singles.receivers, sent, strict=True):
            flow[nid] += value
        hub_inflow = self.hub_edges.inflow(np.asarray(ranks, dtype=np.float64)).tolist()
        for nid, value in zip(self.hub_ids, hub_inflow, strict=True):
            flow[nid] = value
        result: list[tuple[str, Definition, float]] = []
        for index, path in enumerate(self.paths):
            if self.definitions[index]:
                weights, referenced = self._definition_weights(index, flow, ranks[index])
                share = 1.0 if referenced or path in focused else UNREFERENCED_SHARE
                factor = share * ranks[index] / sum(weights)
                values = map(mul, weights, repeat(factor))
                result.extend(zip(repeat(path), self.definitions[index], values))
        result.sort(key=itemgetter(2), reverse=True)
        return result

    def _definition_weights(
        self, index: int, flow: list[float], rank: float
    ) -> tuple[list[float], bool]:
        """The flow each definition's name receives, less what the file itself sent into it;
        split among definitions sharing a name; plus a floor so that unreferenced ones still
        appear; a mentioned definition gets as much again as its whole file. Also whether
        anything references (or the requirement mentions) the file's definitions."""
        nids = self.nids[index]
        weights = list(map(flow.__getitem__, nids))
        own = self.loops.get(index)
        if own:
            weights = [
                max(weight - rank * own.get(nid, 0.0), 0.0)
                for nid, weight in zip(nids, weights, strict=True)
            ]
        if len(self.defined[index]) < len(nids):
            counts = Counter(nids)
            weights = list(map(truediv, weights, map(counts.__getitem__, nids)))
        total = sum(weights)
        floor = UNREFERENCED_SHARE * total / len(weights) if total else 1.0
        weights = list(map(add, weights, repeat(floor)))
        if self.named_ids.isdisjoint(nids):
            return weights, total > 0
        base = sum(weights)
        boosted = [
            weight + base if nid in self.named_ids else weight
            for nid, weight in zip(nids, weights, strict=True)
        ]
        return boosted, True


class _Triples:
    """(receiver, key, value) triples in the order they were found."""

    def __init__(self) -> None:
        self.receivers: list[int] = []
        self.keys: list[int] = []
        self.values: list[float] = []

    def extend(self, receivers: Iterable[int], key: int, values: Iterable[float]) -> None:
        """Add triples from `key` to each of `receivers`, with the matching `values`."""
        count = len(self.receivers)
        self.receivers.extend(receivers)
        self.keys.extend(repeat(key, len(self.receivers) - count))
        self.values.extend(values)

    def grouped(self, groups: Iterable[int] | None = None) -> tuple[_Edges, list[int]]:
        """Edges grouped by receiver, and the receivers in group order: `groups` if given,
        else those that have edges, ascending. The sort is stable, so the order is fixed."""
        order = sorted(range(len(self.receivers)), key=self.receivers.__getitem__)
        sizes = Counter(map(self.receivers.__getitem__, order))
        chosen = list(sizes if groups is None else groups)
        counts = [sizes[receiver] for receiver in chosen]
        edges = _Edges(
            np.fromiter(map(self.keys.__getitem__, order), dtype=np.intp, count=len(order)),
            np.fromiter(map(self.values.__getitem__, order), dtype=np.float64, count=len(order)),
            np.repeat(np.arange(len(chosen), dtype=np.intp), counts),
            len(chosen),
        )
        return edges, chosen


@dataclass(frozen=True, slots=True)
class _Edges:
    """Edges grouped by receiver (`slots[i]` is edge i's receiver), summed with one bincount."""

    keys: np.ndarray
    coefficients: np.ndarray
    slots: np.ndarray
    receivers: int

    def inflow(self, values: np.ndarray) -> np.ndarray:
        """Per receiver, the sum of coefficient × value of key over its edges."""
        sums = np.bincount(
            self.slots, weights=self.coefficients * values[self.keys], minlength=self.receivers
        )
        return sums.astype(np.float64, copy=False)  # bincount of nothing is an integer array


def _spreads(ids: Mapping[str, int], sizes: list[int], named: frozenset[str]) -> array[float]:
    """Weight of one use of each name: its specificity shared among its definers.

    Most names are plain, so only the unusual ones go through `_specificity`. An array keeps
    the values contiguous, since they are read in no particular order.
    """
    spreads = array("d", map(truediv, repeat(1.0), sizes))
    unusual = {
        name
        for name in ids
        if name.startswith("_") or name.endswith("_") or len(name) < SHORT_NAME_CHARS
    }
    unusual.update(COMMON_NAMES.intersection(ids), named.intersection(ids))
    for name in unusual:
        nid = ids[name]
        spreads[nid] = _specificity(name, named) / sizes[nid]
    return spreads


def _specificity(name: str, named: frozenset[str]) -> float:
    """How much one reference to `name` says about which file it means."""
    weight = MENTIONED_WEIGHT if name in named else 1.0
    bare = name.strip("_")
    dunder = name.startswith("__") and name.endswith("__")
    if dunder or len(bare) < SHORT_NAME_CHARS or bare in COMMON_NAMES:
        weight *= COMMON_WEIGHT
    elif name.startswith("_"):
        weight *= PRIVATE_WEIGHT
    return weight
