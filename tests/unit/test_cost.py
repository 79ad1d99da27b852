"""Prices, reservations and per-role totals (pure, no endpoint)."""

import math

import pytest

from agents import BudgetExceededError, CostManager
from agents.config import ModelPrice
from agents.llm.budget import CallRecord
from agents.llm.pricing import BUILTIN_PRICES, cost_usd, find_price


def record(role: str, usd: float) -> CallRecord:
    return CallRecord(role, "Act", "m", 10, 5, usd, False, 0.1)


def test_dated_and_prefixed_names_resolve_to_the_base_model() -> None:
    assert find_price("gpt-4o-2024-08-06") == BUILTIN_PRICES["gpt-4o"]
    assert find_price("gpt-4o-mini-2024-07-18") == BUILTIN_PRICES["gpt-4o-mini"]
    assert find_price("openai/gpt-4.1-mini") == BUILTIN_PRICES["gpt-4.1-mini"]
    assert find_price("llama3") is None


def test_overrides_win_over_the_table() -> None:
    mine = ModelPrice(prompt=9, completion=9)
    assert find_price("gpt-4o", {"gpt-4o": mine}) == mine


def test_cost_is_per_million_tokens() -> None:
    price = ModelPrice(prompt=3, completion=15)
    assert cost_usd(price, 2_000_000, 1_000_000) == pytest.approx(21.0)
    assert cost_usd(None, 10**9, 10**9) == 0


def test_reservations_count_until_settled_or_released() -> None:
    cost = CostManager(investment=1.0)
    first = cost.reserve(0.6)
    with pytest.raises(BudgetExceededError):
        cost.reserve(0.6)
    cost.release(first)
    cost.release(first)  # releasing twice gives nothing back twice
    assert cost.reserved == 0
    second = cost.reserve(0.6)
    cost.settle(second, record("A", 0.25))
    assert cost.spent == 0.25
    assert cost.reserved == 0
    assert math.isclose(cost.remaining, 0.75)


def test_totals_by_role() -> None:
    cost = CostManager()
    for role, usd in [("PM", 0.1), ("Engineer", 0.2), ("Engineer", 0.3)]:
        cost.settle(cost.reserve(usd), record(role, usd))
    table = cost.by_role()
    assert table["Engineer"].calls == 2
    assert table["Engineer"].usd == pytest.approx(0.5)
    assert table["PM"].prompt_tokens == 10


def test_a_call_that_cost_more_than_reserved_is_recorded_whole_and_stops_the_next() -> None:
    cost = CostManager(investment=1.0)
    cost.settle(cost.reserve(0.4), record("A", 0.9))  # the endpoint reported more than asked
    assert cost.spent == 0.9
    with pytest.raises(BudgetExceededError):
        cost.reserve(0.2)
    assert cost.reserve(0.1).upper_usd == 0.1
