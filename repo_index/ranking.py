"""Which files and definitions of a repository matter most for the work at hand.

Files form a graph (`reference_graph`): a file that references an identifier points at the files
that define it. Personalized PageRank over that graph, seeded by the files being worked on and by
the names the requirement mentions, ranks the files; each file's rank is then shared among its
definitions by how much of the incoming flow their names carry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import add, itemgetter, mul, truediv

import numpy as np

from repo_index.model import Definition, FileTags
from repo_index.reference_graph import DAMPING, ReferenceGraph

TOLERANCE = 1e-6
MAX_ITERATIONS = 100
UNREFERENCED_SHARE = 0.05


@dataclass(frozen=True)
class Ranking:
    """Files and their definitions, best first. File ranks sum to 1 unless there are none."""

    files: list[tuple[str, float]]
    definitions: list[tuple[str, Definition, float]]


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
    graph = ReferenceGraph(paths, tags, named)
    personal = graph.personalization(focused)
    initial = personal
    if start:
        known = [start.get(path, 0.0) for path in paths]
        total = sum(known)
        if total > 0:
            initial = [value / total for value in known]
    ranks = pagerank(graph, personal, initial)
    order = sorted(range(len(paths)), key=lambda i: (paths[i] not in focused, -ranks[i]))
    files = [(paths[i], ranks[i]) for i in order]
    return Ranking(files, _definition_ranks(graph, ranks, focused))


def pagerank(graph: ReferenceGraph, personal: list[float], initial: list[float]) -> list[float]:
    """Power iteration until the L1 change is below TOLERANCE, at most MAX_ITERATIONS.

    Values are indexed by file, then by hub; each file takes the inflow of its edges. The
    mass of dangling files (they reference nothing) restarts by `personal`, as the teleport
    does, so the ranks keep summing to one.
    """
    ranks = np.asarray(initial, dtype=np.float64)
    teleport = np.asarray(personal, dtype=np.float64)
    dangling = np.asarray(graph.dangling, dtype=np.intp)
    for _ in range(MAX_ITERATIONS):
        inflow = graph.file_edges.inflow(np.concatenate((ranks, graph.hub_edges.inflow(ranks))))
        np.maximum(inflow, 0.0, out=inflow)  # a hub's self-correction may leave -1e-17
        restart = (1.0 - DAMPING) + DAMPING * float(ranks[dangling].sum())
        updated = inflow + teleport * restart
        change = float(np.abs(updated - ranks).sum())
        ranks = updated
        if change < TOLERANCE:
            break
    return ranks.tolist()


def _definition_ranks(
    graph: ReferenceGraph, ranks: list[float], focused: frozenset[str]
) -> list[tuple[str, Definition, float]]:
    """Share each file's rank among its definitions by the flow their names receive.

    A file that nothing references, names or focuses on keeps only a small share, so one lone
    helper does not outrank the definitions other files actually call.
    """
    flow = [0.0] * len(graph.first)
    singles = graph.singles
    sent = map(mul, map(ranks.__getitem__, singles.keys), singles.values)
    for nid, value in zip(singles.receivers, sent, strict=True):
        flow[nid] += value
    hub_inflow = graph.hub_edges.inflow(np.asarray(ranks, dtype=np.float64)).tolist()
    for nid, value in zip(graph.hub_ids, hub_inflow, strict=True):
        flow[nid] = value
    result: list[tuple[str, Definition, float]] = []
    for index, path in enumerate(graph.paths):
        if graph.definitions[index]:
            weights, referenced = _definition_weights(graph, index, flow, ranks[index])
            share = 1.0 if referenced or path in focused else UNREFERENCED_SHARE
            factor = share * ranks[index] / sum(weights)
            values = map(mul, weights, repeat(factor))
            result.extend(zip(repeat(path), graph.definitions[index], values))
    result.sort(key=itemgetter(2), reverse=True)
    return result


def _definition_weights(
    graph: ReferenceGraph, index: int, flow: list[float], rank: float
) -> tuple[list[float], bool]:
    """The flow each definition's name receives, less what the file itself sent into it;
    split among definitions sharing a name; plus a floor so that unreferenced ones still
    appear; a mentioned definition gets as much again as its whole file. Also whether
    anything references (or the requirement mentions) the file's definitions."""
    nids = graph.nids[index]
    weights = list(map(flow.__getitem__, nids))
    own = graph.loops.get(index)
    if own:
        weights = [
            max(weight - rank * own.get(nid, 0.0), 0.0)
            for nid, weight in zip(nids, weights, strict=True)
        ]
    if len(graph.defined[index]) < len(nids):
        counts = Counter(nids)
        weights = list(map(truediv, weights, map(counts.__getitem__, nids)))
    total = sum(weights)
    floor = UNREFERENCED_SHARE * total / len(weights) if total else 1.0
    weights = list(map(add, weights, repeat(floor)))
    if graph.named_ids.isdisjoint(nids):
        return weights, total > 0
    base = sum(weights)
    boosted = [
        weight + base if nid in graph.named_ids else weight
        for nid, weight in zip(nids, weights, strict=True)
    ]
    return boosted, True
