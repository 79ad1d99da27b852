"""A limit on requests in flight per endpoint, shared by every LLM object on the event loop."""

from __future__ import annotations

import asyncio
import weakref

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def endpoint_slots(endpoint: str, limit: int) -> asyncio.Semaphore:
    """The semaphore of `endpoint` on the running loop (the first caller's limit holds)."""
    per_loop = _slots.setdefault(asyncio.get_running_loop(), {})
    if endpoint not in per_loop:
        per_loop[endpoint] = asyncio.Semaphore(limit)
    return per_loop[endpoint]
