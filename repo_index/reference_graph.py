"""The reference graph of a corpus: a file that references a name points at the files defining it.

Everything runs on flat lists with C-level `map`, `compress` and `accumulate` passes: on a
thousand-file repository a Python loop per reference or per edge and iteration, touching objects
scattered in memory, would be several times too slow. Names defined in several files go through
a "hub" (the mass sent to the name, shared by its definers) instead of one edge per referencer
and definer, which keeps the edge count linear in the number of references.
"""

from __future__ import annotations

import builtins
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from operator import and_, attrgetter, lt, mul, not_, or_, sub, truediv

import numpy as np

from repo_index.mentions import SHORT_NAME_CHARS
from repo_index.model import Definition, FileTags

DAMPING = 0.85

MENTIONED_WEIGHT = 10.0
PRIVATE_WEIGHT = 0.5
COMMON_WEIGHT = 0.1

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


_NAME = attrgetter("name")
_LINE = attrgetter("line")


class ReferenceGraph:
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
