"""Money and tokens: what was spent, by whom, and whether the next call may go out.

Every call reserves its upper cost estimate before it is sent and settles the real cost after,
so concurrent calls together can never spend more than the investment.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.errors import BudgetExceededError

_TOLERANCE = 1e-12


@dataclass(frozen=True)
class CallRecord:
    """One finished LLM call."""

    role: str
    action: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    usd: float
    usage_estimated: bool
    seconds: float


@dataclass
class CostTotals:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float = 0.0

    def add(self, record: CallRecord) -> None:
        self.calls += 1
        self.prompt_tokens += record.prompt_tokens
        self.completion_tokens += record.completion_tokens
        self.usd += record.usd


@dataclass
class Reservation:
    upper_usd: float
    open: bool = True


@dataclass
class CostManager:
    """Tracks spending against an investment (USD); `math.inf` means no limit."""

    investment: float = math.inf
    totals: CostTotals = field(default_factory=CostTotals)
    records: list[CallRecord] = field(default_factory=list)
    reserved: float = 0.0
    observers: list[Callable[[CallRecord], None]] = field(default_factory=list)

    @property
    def spent(self) -> float:
        return self.totals.usd

    @property
    def remaining(self) -> float:
        return self.investment - self.spent

    def reserve(self, upper_usd: float) -> Reservation:
        """Hold `upper_usd` for a call about to be sent, or refuse it."""
        if self.spent + self.reserved + upper_usd > self.investment + _TOLERANCE:
            raise BudgetExceededError(
                spent=self.spent, investment=self.investment, needed=upper_usd
            )
        self.reserved += upper_usd
        return Reservation(upper_usd)

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose call failed or was cancelled."""
        if reservation.open:
            reservation.open = False
            self.reserved -= reservation.upper_usd

    def settle(self, reservation: Reservation, record: CallRecord) -> None:
        self.release(reservation)
        self.records.append(record)
        self.totals.add(record)
        for observer in self.observers:
            observer(record)

    def by_role(self) -> dict[str, CostTotals]:
        """Totals per role, for the closing table of a run."""
        table: dict[str, CostTotals] = defaultdict(CostTotals)
        for record in self.records:
            table[record.role or "-"].add(record)
        return dict(table)
