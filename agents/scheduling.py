"""Running per-file work as soon as the files it depends on are done, with bounded concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any


def dependency_graph(
    order: Sequence[str], uses: Mapping[str, Iterable[str]]
) -> dict[str, list[str]]:
    """Each file's dependencies among `order`, keeping only edges to earlier files.

    Dropping edges that point forward makes any cycle in the model's analysis harmless: the
    task order decides which file of a cycle goes first.
    """
    position = {path: i for i, path in enumerate(order)}
    return {
        path: [d for d in dict.fromkeys(uses.get(path, ())) if position.get(d, len(order)) < i]
        for i, path in enumerate(order)
    }


def dependency_waves(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The files grouped by depth: wave n only uses files of earlier waves."""
    depth: dict[str, int] = {}
    for path, deps in graph.items():  # deps always precede their dependents in `graph`
        depth[path] = 1 + max((depth[d] for d in deps), default=-1)
    waves: list[list[str]] = [[] for _ in range(1 + max(depth.values(), default=-1))]
    for path, level in depth.items():
        waves[level].append(path)
    return waves


async def run_in_dependency_order(
    graph: Mapping[str, Sequence[str]],
    work: Callable[[str], Awaitable[None]],
    limit: int,
) -> None:
    """Start each file's `work` once its dependencies' work finished; at most `limit` at once."""
    finished = {path: asyncio.Event() for path in graph}
    slots = asyncio.Semaphore(limit)

    async def one(path: str) -> None:
        for dependency in graph[path]:
            await finished[dependency].wait()
        async with slots:
            await work(path)
        finished[path].set()

    await run_all(one(path) for path in graph)


async def run_all(work: Iterable[Coroutine[Any, Any, Any]]) -> None:
    """Run concurrently; the first failure cancels the rest and is raised as itself.

    Callers see a `BudgetExceededError` or an `LLMError`, not an exception group around it.
    """
    try:
        async with asyncio.TaskGroup() as group:
            for coroutine in work:
                group.create_task(coroutine)
    except BaseExceptionGroup as failures:
        first = failures.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
