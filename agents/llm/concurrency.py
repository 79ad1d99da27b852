"""A limit on requests in flight per endpoint, shared by every LLM object on the event loop.

Waiting requests are served by priority, then in arrival order: work that others wait for
(writing a file) goes before work nobody waits for (reviewing it), which may hold at most half
the slots. `background()` marks the calls made inside it as the latter.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

FOREGROUND = 0
BACKGROUND = 1
BACKGROUND_GRACE = 0.01
"""Seconds a background request waits before it queues for a slot."""

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
    """A semaphore that serves foreground waiters first, in arrival order, and lets background
    work hold at most half the slots (at least one), so that work others wait for finds one
    free soon."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._free = limit
        self._background_cap = max(1, limit // 2)
        self._background = 0
        self._waiting: dict[int, deque[asyncio.Future[None]]] = {
            FOREGROUND: deque(),
            BACKGROUND: deque(),
        }

    @asynccontextmanager
    async def slot(self, priority: int | None = None) -> AsyncIterator[None]:
        chosen = _priority.get() if priority is None else priority
        await self._acquire(chosen)
        try:
            yield
        finally:
            self._release(chosen)

    async def _acquire(self, priority: int) -> None:
        if priority == BACKGROUND:
            # Work woken by the same event (the dependents of a file just written) queues first.
            await asyncio.sleep(BACKGROUND_GRACE)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[priority].append(waiter)
        self._dispatch()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(priority)  # the slot was handed over just as we were cancelled
            raise

    def _release(self, priority: int) -> None:
        self._free += 1
        if priority == BACKGROUND:
            self._background -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand free slots to the waiters allowed to have one, foreground first."""
        while self._free > 0:
            foreground = self._first_waiting(FOREGROUND)
            if foreground is not None:
                self._grant(foreground, FOREGROUND)
                continue
            background = self._first_waiting(BACKGROUND)
            if background is None or self._background >= self._background_cap:
                return
            if self._free == 1 and self._limit - 1 > self._background:
                return  # foreground work is in flight: keep its next request a free slot
            self._grant(background, BACKGROUND)

    def _first_waiting(self, priority: int) -> asyncio.Future[None] | None:
        queue = self._waiting[priority]
        while queue and queue[0].done():  # cancelled while waiting
            queue.popleft()
        return queue[0] if queue else None

    def _grant(self, waiter: asyncio.Future[None], priority: int) -> None:
        self._waiting[priority].popleft()
        self._free -= 1
        if priority == BACKGROUND:
            self._background += 1
        waiter.set_result(None)


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, PrioritySlots]] = (
    weakref.WeakKeyDictionary()
)


def endpoint_slots(endpoint: str, limit: int) -> PrioritySlots:
    """The slots of `endpoint` on the running loop (the first caller's limit holds)."""
    per_loop = _slots.setdefault(asyncio.get_running_loop(), {})
    if endpoint not in per_loop:
        per_loop[endpoint] = PrioritySlots(limit)
    return per_loop[endpoint]
