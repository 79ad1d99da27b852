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


async def run_in_dependency_order(
    graph: Mapping[str, Sequence[str]],
    work: Callable[[str, Callable[[], None]], Awaitable[None]],
) -> None:
    """Start each file's `work` as soon as the files it depends on are ready.

    `work(path, ready)` calls `ready()` once its dependents may start (e.g. when the file is
    written, while its review goes on); a file is ready at the latest when its work ends.
    How many requests are in flight is bounded by the LLM layer's per-endpoint limit
    (`llm.max_concurrency`), which serves writes and reviews in the order they ask.
    """
    ready = {path: asyncio.Event() for path in graph}

    async def one(path: str) -> None:
        for dependency in graph[path]:
            await ready[dependency].wait()
        try:
            await work(path, ready[path].set)
        finally:
            ready[path].set()

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
