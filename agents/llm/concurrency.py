"""A limit on requests in flight per endpoint, shared by every LLM object on the event loop.

Waiting requests are served by priority, then in arrival order: work that others wait for
(writing a file) goes before work nobody waits for (reviewing it). `background()` marks the
calls made inside it as the latter.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

FOREGROUND = 0
BACKGROUND = 1

_priority: ContextVar[int] = ContextVar("sopls_call_priority", default=FOREGROUND)


@contextmanager
def background() -> Iterator[None]:
    """LLM calls made inside wait behind foreground calls for a free slot."""
    token = _priority.set(BACKGROUND)
    try:
        yield
    finally:
        _priority.reset(token)


class PrioritySlots:
    """A semaphore whose waiters are woken lowest priority number first, then first come."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def slot(self, priority: int | None = None) -> AsyncIterator[None]:
        await self._acquire(_priority.get() if priority is None else priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as we were cancelled
            raise

    def _release(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, PrioritySlots]] = (
    weakref.WeakKeyDictionary()
)


def endpoint_slots(endpoint: str, limit: int) -> PrioritySlots:
    """The slots of `endpoint` on the running loop (the first caller's limit holds)."""
    per_loop = _slots.setdefault(asyncio.get_running_loop(), {})
    if endpoint not in per_loop:
        per_loop[endpoint] = PrioritySlots(limit)
    return per_loop[endpoint]
