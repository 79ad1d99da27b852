"""Repository index benchmark on the standard library of the running interpreter.

The standard library (without `test/` and `site-packages/`) is copied to a temporary git
repository. Printed, each as a whole process of `sopls index --budget 1024`: cold (no cache),
warm (cache present), after one file is edited; then the in-process map time after a one-file
`update`, and peak RSS (the largest process, workers included). Targets: cold <= 3.5 s,
warm <= 1.0 s, after an edit <= 1.1 s, in process <= 150 ms and fresh, peak RSS <= 200 MB.

Then the index's own PageRank is checked against `networkx.pagerank` and a `scipy.sparse` power
iteration on the same reference graph of the corpus, with no focus and focused on one file: the
median time of several runs and whether the top-ranked files agree. The check is skipped when
networkx or scipy is not installed (`.venv/bin/pip install networkx scipy`).

    .venv/bin/python bench/repo_index.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# This file is named like the package it measures: import the package, not this script.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np

from repo_index.index import RepoIndex
from repo_index.ranking import MAX_ITERATIONS, TOLERANCE, pagerank
from repo_index.reference_graph import DAMPING, ReferenceGraph

WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "elapsed = time.perf_counter() - t\n"
    "if done.returncode: sys.exit(done.stderr)\n"
    "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
RUNS = 9
TOP = 20
FOCUS = "json/decoder.py"
IMPORT_COST = (
    "import time, numpy\nstarted = time.perf_counter()\nimport {module}\n"
    "print(time.perf_counter() - started)\n"
)
EDIT = "\n\ndef benchmark_marker_function(value: int) -> int:\n    return value + 1\n"


def copy_stdlib(into: Path) -> tuple[int, int, int]:
    source = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(
        source,
        into,
        ignore=shutil.ignore_patterns("test", "site-packages", "__pycache__", "*.pyc"),
        symlinks=True,
    )
    files = [p for p in into.rglob("*.py") if p.is_file()]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    size = sum(p.stat().st_size for p in files)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=into, check=True)
    subprocess.run(["git", "add", "-A"], cwd=into, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "stdlib"], cwd=into, check=True)
    return len(files), lines, size


def timed_index(root: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one `sopls index` process."""
    command = [sys.executable, "-m", "server", "index", str(root), "--budget", "1024"]
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], capture_output=True, text=True, check=True
    )
    seconds, rss_kb = done.stdout.split()
    return float(seconds), int(rss_kb) / 1024


def in_process_update(root: Path, edited: Path) -> tuple[float, bool]:
    index = RepoIndex(root)
    index.context(budget=1024)
    relative = edited.relative_to(root).as_posix()
    edited.write_text(edited.read_text() + EDIT.replace("benchmark_marker", "in_process_marker"))
    started = time.perf_counter()
    index.update([relative])
    text = index.context("in_process_marker_function", focus=[], budget=1024)
    elapsed = time.perf_counter() - started
    index.close()
    return elapsed, "in_process_marker_function" in text


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sopls-bench-") as area:
        root = Path(area) / "stdlib"
        files, lines, size = copy_stdlib(root)
        print(f"corpus: {files} .py files, {lines} lines, {size / 1e6:.1f} MB", flush=True)
        cold, cold_rss = timed_index(root)
        warm, warm_rss = timed_index(root)
        edited = root / "json" / "decoder.py"
        edited.write_text(edited.read_text() + EDIT)
        after_edit, edit_rss = timed_index(root)
        in_process, fresh = in_process_update(root, edited)
        peak = max(cold_rss, warm_rss, edit_rss)
        print(f"cold (no cache)          {cold:6.2f} s   (target <= 3.5 s)")
        print(f"warm (cache, new process){warm:6.2f} s   (target <= 1.0 s)")
        print(f"after one edit           {after_edit:6.2f} s   (target <= 1.1 s)")
        print(
            f"in process after update  {in_process * 1000:6.0f} ms  (target <= 150 ms), "
            f"fresh: {fresh}"
        )
        print(f"peak RSS                 {peak:6.0f} MB  (target <= 200 MB)")
        compare_pagerank(root)


def median_seconds(run: Callable[[], Any]) -> tuple[float, Any]:
    """The median wall time of RUNS calls of `run`, and what the last call returned."""
    times: list[float] = []
    result = None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def compare_pagerank(root: Path) -> None:
    """Time the index's PageRank against networkx and scipy on the corpus's reference graph."""
    try:
        import networkx
        import scipy.sparse
    except ImportError:
        print("PageRank comparison skipped: networkx and scipy are not installed")
        return
    graph = corpus_graph(root)
    file_build, matrix = median_seconds(lambda: file_matrix(graph, scipy.sparse))
    hub_build, (files, hubs) = median_seconds(lambda: hub_matrices(graph, scipy.sparse))
    digraph_build, digraph = median_seconds(lambda: file_digraph(networkx, matrix))
    print(
        f"PageRank on {graph.size} files: {matrix.nnz} file-to-file edges, "
        f"{files.nnz + hubs.nnz} in the index's graph with hubs; median of {RUNS} runs"
    )
    print(
        f"  building, on every rank: scipy file matrix {file_build * 1000:.1f} ms, scipy hub "
        f"matrices {hub_build * 1000:.1f} ms, networkx DiGraph {digraph_build * 1000:.1f} ms"
    )
    scipy_import, networkx_import = (import_seconds(name) for name in ("scipy.sparse", "networkx"))
    print(
        f"  importing, once per process, beyond numpy: scipy.sparse {scipy_import * 1000:.0f} ms, "
        f"networkx {networkx_import * 1000:.0f} ms"
    )
    products = {
        "scipy.sparse, file matrix": lambda ranks: matrix @ ranks,
        "scipy.sparse, hub matrices": lambda ranks: files @ np.concatenate((ranks, hubs @ ranks)),
    }
    for focus in (frozenset(), frozenset({FOCUS})):
        personal = graph.personalization(focus)
        print(f"  {'focused on ' + FOCUS if focus else 'no focus'} (top {TOP} vs the index's):")
        runs: dict[str, Callable[[], list[float]]] = {
            "index (numpy bincount, hubs)": lambda p=personal: pagerank(graph, p, p)
        }
        for name, product in products.items():
            runs[name] = lambda p=personal, f=product: power_iteration(graph, f, p)
        runs["networkx.pagerank"] = lambda p=personal: networkx_pagerank(networkx, digraph, p)
        reference: list[float] = []
        for name, run in runs.items():
            seconds, ranks = median_seconds(run)
            reference = reference or ranks
            print(f"    {name:30}{seconds * 1000:7.1f} ms   {agreement(reference, ranks)}")


def import_seconds(module: str) -> float:
    """The median time a fresh interpreter that has numpy already takes to import `module`."""
    command = [sys.executable, "-c", IMPORT_COST.format(module=module)]
    runs = (
        subprocess.run(command, capture_output=True, text=True, check=True) for _ in range(RUNS)
    )
    return statistics.median(float(done.stdout) for done in runs)


def corpus_graph(root: Path) -> ReferenceGraph:
    """The reference graph the index ranks `root` by, with nothing mentioned."""
    index = RepoIndex(root, use_cache=False)
    index.refresh()
    tags = {path: index.tags(path) for path in index.files()}
    index.close()
    return ReferenceGraph(sorted(tags), tags, frozenset())


def edge_matrix(edges: Any, columns: int, sparse: Any) -> Any:
    """Edges as a CSR matrix: entry [receiver, key] is the edge's coefficient."""
    shape = (edges.receivers, columns)
    return sparse.csr_matrix((edges.coefficients, (edges.slots, edges.keys)), shape=shape)


def hub_matrices(graph: ReferenceGraph, sparse: Any) -> tuple[Any, Any]:
    """The index's own graph: files take from files and hubs, hubs take from files."""
    files = edge_matrix(graph.file_edges, graph.size + graph.hub_edges.receivers, sparse)
    return files, edge_matrix(graph.hub_edges, graph.size, sparse)


def file_matrix(graph: ReferenceGraph, sparse: Any) -> Any:
    """The hub graph collapsed to files: entry [i, j] is what file j passes to file i per rank."""
    files, hubs = hub_matrices(graph, sparse)
    size = graph.size
    collapsed = (files[:, :size] + files[:, size:] @ hubs).tocsr()
    collapsed.data[collapsed.data < 1e-12] = 0.0  # a file's own names cancel out to about 0
    collapsed.eliminate_zeros()
    return collapsed


def file_digraph(networkx: Any, matrix: Any) -> Any:
    """The file matrix as a networkx graph: an edge from each file to the files it takes from."""
    digraph = networkx.DiGraph()
    digraph.add_nodes_from(range(matrix.shape[0]))
    edges = matrix.tocoo()
    digraph.add_weighted_edges_from(
        zip(edges.col.tolist(), edges.row.tolist(), edges.data.tolist(), strict=True)
    )
    return digraph


def power_iteration(
    graph: ReferenceGraph, product: Callable[[Any], Any], personal: list[float]
) -> list[float]:
    """The index's power iteration with `product` (ranks -> inflow) in place of its bincount."""
    teleport = np.asarray(personal)
    ranks = teleport.copy()
    dangling = np.asarray(graph.dangling, dtype=np.intp)
    for _ in range(MAX_ITERATIONS):
        restart = (1.0 - DAMPING) + DAMPING * float(ranks[dangling].sum())
        updated = np.maximum(product(ranks), 0.0) + teleport * restart
        change = float(np.abs(updated - ranks).sum())
        ranks = updated
        if change < TOLERANCE:
            break
    return ranks.tolist()


def networkx_pagerank(networkx: Any, digraph: Any, personal: list[float]) -> list[float]:
    """networkx's PageRank with the index's damping, iteration limit and tolerance."""
    ranks = networkx.pagerank(
        digraph,
        alpha=DAMPING,
        personalization=dict(enumerate(personal)),
        max_iter=MAX_ITERATIONS,
        tol=TOLERANCE / len(personal),  # networkx compares the L1 change with N * tol
    )
    return [ranks[node] for node in range(len(personal))]


def agreement(reference: list[float], ranks: list[float]) -> str:
    """Whether the top files are the same, in the same order, and the largest rank difference."""
    top = [
        sorted(range(len(ranks)), key=lambda i: -values[i])[:TOP] for values in (reference, ranks)
    ]
    same = "same order" if top[0] == top[1] else f"{len(set(top[0]) & set(top[1]))}/{TOP} shared"
    difference = max(abs(a - b) for a, b in zip(reference, ranks, strict=True))
    return f"top {TOP}: {same}, max rank difference {difference:.1e}"


if __name__ == "__main__":
    main()
