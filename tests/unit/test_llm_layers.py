"""The layers around the transport, each alone over it: budget, journal and the endpoint's slot."""

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
from scripted_endpoint import ScriptedEndpoint, Usage

from agents.config import LLMSettings, ModelPrice
from agents.errors import BudgetExceededError, LLMError
from agents.llm.budget import CostManager
from agents.llm.budgeted import Budgeted
from agents.llm.journal import CallJournal, JournalEntry
from agents.llm.journaled import Journaled
from agents.llm.slotted import Slotted
from agents.llm.transport import Transport

PRICES = {"gpt-4o-mini": ModelPrice(prompt=1_000_000.0, completion=1_000_000.0)}
"""A dollar a token, so that a budget of a few dollars holds a few tokens."""


def question(text: str = "hello") -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_the_budget_refuses_a_call_that_could_overspend_before_it_is_sent(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("fine")
    transport = Transport(llm_settings.model_copy(update={"max_tokens": 8}))
    cost = CostManager()
    budgeted = Budgeted(transport, cost=cost, model="gpt-4o-mini", pricing=PRICES)
    upper = budgeted.upper_cost(question(), transport.answer_tokens)
    cost.investment = upper - 0.5

    with pytest.raises(BudgetExceededError):
        await budgeted.request(transport.prepare(question(), None))

    assert endpoint.chat_requests == []
    assert (cost.reserved, cost.totals.calls) == (0, 0)
    cost.investment = upper
    assert (await budgeted.request(transport.prepare(question(), None))).content == "fine"


async def test_the_budget_settles_what_the_endpoint_reported(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("fine", usage=Usage(prompt_tokens=7, completion_tokens=2))
    transport = Transport(llm_settings)
    cost = CostManager()
    budgeted = Budgeted(transport, cost=cost, model="gpt-4o-mini", pricing=PRICES)

    answer = await budgeted.request(transport.prepare(question(), None, role="Bob", action="Ask"))

    (record,) = cost.records
    assert answer.record == record
    assert (record.role, record.action, record.model) == ("Bob", "Ask", "gpt-4o-mini")
    assert (record.prompt_tokens, record.completion_tokens) == (7, 2)
    assert record.usd == pytest.approx(9.0)
    assert not record.usage_estimated
    assert cost.reserved == 0


async def test_the_budget_bills_the_part_of_an_answer_that_came_before_it_failed(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("word ", repeat=40, piece_chars=5, interval=0.1)
    transport = Transport(llm_settings.model_copy(update={"timeout": 0.6}))
    cost = CostManager()
    budgeted = Budgeted(transport, cost=cost, model="gpt-4o-mini", pricing=PRICES)

    with pytest.raises(LLMError):
        await budgeted.request(transport.prepare(question(), None))

    (record,) = cost.records
    assert record.usage_estimated
    assert record.completion_tokens > 0
    assert cost.reserved == 0


async def test_a_model_without_a_price_is_told_once(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, caplog: pytest.LogCaptureFixture
) -> None:
    model = f"house-{uuid.uuid4().hex[:12]}"  # shorter than a key, which logs redact
    transport = Transport(llm_settings)
    with caplog.at_level(logging.WARNING, logger="sopls.llm"):
        first = Budgeted(transport, cost=CostManager(), model=model)
        Budgeted(transport, cost=CostManager(), model=model)

    assert first.price is None
    assert [r.getMessage().count(model) for r in caplog.records] == [1]


async def test_the_journal_replays_a_stored_answer_without_asking_the_endpoint(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    endpoint.on().reply_text("stored answer")
    transport = Transport(llm_settings)
    path = tmp_path / "calls.jsonl"
    cost = CostManager()
    first = Journaled(
        Budgeted(transport, cost=cost, model="gpt-4o-mini", pricing=PRICES),
        journal=CallJournal(path),
        model="gpt-4o-mini",
    )
    answer = await first.request(transport.prepare(question(), None, role="Bob"))
    endpoint.reset()  # from now on, a request that reaches the endpoint fails

    resumed = Journaled(transport, journal=CallJournal(path), model="gpt-4o-mini")
    replayed = await resumed.request(transport.prepare(question(), None, role="Bob"))

    assert (replayed.content, replayed.finish_reason) == ("stored answer", "stop")
    assert replayed.record is None
    assert endpoint.chat_requests == []
    (line,) = path.read_text().splitlines()
    entry = JournalEntry.model_validate_json(line)
    assert answer.record is not None
    assert (entry.role, entry.usd) == ("Bob", answer.record.usd)
    assert entry.usd > 0


async def test_the_journal_records_a_new_answer_once_per_occurrence(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    endpoint.on(times=1).reply_text("first")
    endpoint.on().reply_text("second")
    transport = Transport(llm_settings)
    journaled = Journaled(transport, journal=CallJournal(tmp_path / "j.jsonl"), model="m")

    answers = [(await journaled.request(transport.prepare(question(), None))).content]
    answers.append((await journaled.request(transport.prepare(question(), None))).content)

    assert answers == ["first", "second"]  # the same request asked twice is asked twice
    assert len(endpoint.chat_requests) == 2
    assert len((tmp_path / "j.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("limit", [1, 2])
async def test_the_slot_keeps_the_requests_in_flight_to_the_endpoints_limit(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, limit: int
) -> None:
    endpoint.on().reply_text("ok", delay=0.3)
    transport = Transport(llm_settings)
    slotted = Slotted(transport, endpoint=llm_settings.endpoint, limit=limit)

    calls = [transport.prepare(question(f"q{i}"), None) for i in range(4)]
    answers = await asyncio.gather(*(slotted.request(call) for call in calls))

    assert [a.content for a in answers] == ["ok"] * 4
    assert endpoint.max_in_flight == limit
