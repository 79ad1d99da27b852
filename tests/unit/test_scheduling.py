"""Dependency order, first-error propagation, and prioritised endpoint slots (pure asyncio)."""

import asyncio

import pytest

from agents.errors import BudgetExceededError
from agents.framework.scheduling import dependency_graph, run_all, run_in_dependency_order
from agents.llm.concurrency import BACKGROUND, FOREGROUND, PrioritySlots, background


def test_graph_keeps_only_edges_to_earlier_files() -> None:
    order = ["a.py", "b.py", "c.py"]
    uses = {"a.py": ["c.py"], "b.py": ["a.py", "a.py", "x.py"], "c.py": ["a.py", "b.py"]}
    assert dependency_graph(order, uses) == {"a.py": [], "b.py": ["a.py"], "c.py": ["a.py", "b.py"]}


async def test_work_starts_when_dependencies_are_ready() -> None:
    log: list[str] = []

    async def work(path: str, ready) -> None:
        log.append(f"start {path}")
        await asyncio.sleep(0.01)
        ready()
        log.append(f"ready {path}")
        await asyncio.sleep(0.05)  # e.g. a review: dependents do not wait for it
        log.append(f"end {path}")

    await run_in_dependency_order({"a": [], "b": [], "c": ["a", "b"]}, work)

    assert log.index("start c") > max(log.index("ready a"), log.index("ready b"))
    assert log.index("start c") < log.index("end a")


async def test_first_failure_is_raised_as_itself_and_cancels_the_rest() -> None:
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def fail() -> None:
        await asyncio.sleep(0.01)
        raise BudgetExceededError(spent=1, investment=1, needed=0.5)

    with pytest.raises(BudgetExceededError):
        await run_all([slow(), fail()])
    assert cancelled.is_set()


async def occupied(slots: PrioritySlots) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """A task holding the only slot until the returned event is set."""
    gate = asyncio.Event()

    async def holder() -> None:
        async with slots.slot():
            await gate.wait()

    task = asyncio.create_task(holder())
    await asyncio.sleep(0)
    return gate, task


async def test_foreground_waiters_are_served_before_background_ones() -> None:
    slots = PrioritySlots(1)
    served: list[str] = []
    gate, first = await occupied(slots)

    async def user(name: str, priority: int) -> None:
        async with slots.slot(priority):
            served.append(name)

    waiting = [
        asyncio.create_task(user("review-1", BACKGROUND)),
        asyncio.create_task(user("review-2", BACKGROUND)),
        asyncio.create_task(user("write", FOREGROUND)),
    ]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *waiting)
    assert served == ["write", "review-1", "review-2"]


async def test_the_background_context_sets_the_priority() -> None:
    slots = PrioritySlots(1)
    served: list[str] = []
    gate, first = await occupied(slots)

    async def reviewer() -> None:
        with background():
            async with slots.slot():
                served.append("review")

    async def writer() -> None:
        async with slots.slot():
            served.append("write")

    tasks = [first, asyncio.create_task(reviewer()), asyncio.create_task(writer())]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert served == ["write", "review"]


async def test_a_cancelled_waiter_does_not_leak_its_slot() -> None:
    slots = PrioritySlots(1)
    gate, first = await occupied(slots)

    async def waiter() -> None:
        async with slots.slot():
            pass

    doomed = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    doomed.cancel()
    gate.set()
    await first
    with pytest.raises(asyncio.CancelledError):
        await doomed
    async with asyncio.timeout(1):
        async with slots.slot():
            pass


class HeldSlots:
    """Four slots whose holders record themselves and keep their slot until the gate opens."""

    def __init__(self) -> None:
        self.slots = PrioritySlots(4)
        self.gate = asyncio.Event()
        self.running: list[str] = []

    def start(self, name: str, priority: int) -> asyncio.Task[None]:
        return asyncio.create_task(self._hold(name, priority))

    async def _hold(self, name: str, priority: int) -> None:
        async with self.slots.slot(priority):
            self.running.append(name)
            await self.gate.wait()


async def test_background_work_holds_at_most_half_the_slots() -> None:
    held = HeldSlots()
    running, gate, work = held.running, held.gate, held.start

    reviews = [work(f"review-{i}", BACKGROUND) for i in range(4)]
    await asyncio.sleep(0.1)
    assert sorted(running) == ["review-0", "review-1"]  # two slots stay free
    writes = [work(f"write-{i}", FOREGROUND) for i in range(2)]
    await asyncio.sleep(0.01)
    assert sorted(running) == ["review-0", "review-1", "write-0", "write-1"]
    gate.set()
    await asyncio.gather(*reviews, *writes)
    assert len(running) == 6


async def test_a_write_asked_for_just_after_a_review_goes_first() -> None:
    slots = PrioritySlots(1)
    served: list[str] = []

    async def user(name: str, priority: int) -> None:
        async with slots.slot(priority):
            served.append(name)
            await asyncio.sleep(0.01)

    review = asyncio.create_task(user("review", BACKGROUND))
    await asyncio.sleep(0)  # the review asks first
    await user("write", FOREGROUND)
    await review
    assert served == ["write", "review"]


async def test_background_work_leaves_the_last_free_slot_while_writes_run() -> None:
    held = HeldSlots()
    running, gate, work = held.running, held.gate, held.start

    writes = [work(f"write-{i}", FOREGROUND) for i in range(3)]
    review = work("review", BACKGROUND)
    await asyncio.sleep(0.1)
    assert "review" not in running  # the fourth slot waits for the writes' dependents
    late = work("write-3", FOREGROUND)
    await asyncio.sleep(0.01)
    assert "write-3" in running
    gate.set()
    await asyncio.gather(*writes, late, review)
    assert running[-1] == "review"
