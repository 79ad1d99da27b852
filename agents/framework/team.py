"""A team: roles hired into one environment, an investment, and rounds of work."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from agents.errors import BudgetExceededError
from agents.framework.context import Context
from agents.framework.environment import Environment
from agents.framework.message import Message, Requirement
from agents.framework.role import Role
from agents.llm.budget import CostTotals

TeamStatus = Literal["completed", "rounds_exhausted", "budget_exceeded"]


@dataclass(frozen=True)
class TeamOutcome:
    """How a run ended. `messages` keeps everything produced, whatever the status."""

    status: TeamStatus
    messages: list[Message]
    cost: CostTotals
    error: str | None = None


class Team:
    """Roles in one environment. Without a context, the first hire makes the one its roles need
    (the company's roles need a workspace, a team of plain roles does not)."""

    def __init__(self, context: Context | None = None) -> None:
        self._context = context
        self._env: Environment | None = None

    @property
    def context(self) -> Context:
        if self._context is None:
            self._context = Context()
        return self._context

    @property
    def env(self) -> Environment:
        if self._env is None:
            self._env = Environment(self.context)
        return self._env

    def hire(self, roles: Iterable[Role]) -> None:
        roles = list(roles)
        if self._context is None:
            needed: type[Context] = Context
            for role in roles:
                if issubclass(role.context_type, needed):
                    needed = role.context_type
            self._context = needed()
        self.env.add_roles(roles)

    def invest(self, investment: float) -> None:
        """Set the most this team may spend, in USD."""
        if investment <= 0:
            raise ValueError(f"investment must be a positive amount of USD, not {investment}")
        self.context.cost.investment = investment

    def run_project(self, idea: str, send_to: Iterable[type[Role]] = ()) -> None:
        """Hand the team a requirement; roles watching the Requirement payload pick it up, and
        every role's actions read it from the context."""
        if not idea.strip():
            raise ValueError("the idea is empty: say what to build")
        self.context.requirement = idea
        self.env.publish(
            Message(
                content=idea,
                payload=Requirement(text=idea),
                sent_from="User",
                send_to=frozenset(send_to),
            )
        )

    async def run(self, n_round: int = 3, idea: str | None = None) -> TeamOutcome:
        """Work in rounds until every role is idle, `n_round` is used up, or the money is."""
        if idea is not None:
            self.run_project(idea)
        cost = self.context.cost
        for _ in range(n_round):
            if self.env.is_idle:
                break
            if cost.remaining <= 0:
                return self._outcome("budget_exceeded", f"the ${cost.investment:.4f} is spent")
            try:
                await self.env.run_round()
            except BudgetExceededError as exc:
                return self._outcome("budget_exceeded", str(exc))
        return self._outcome("completed" if self.env.is_idle else "rounds_exhausted")

    def _outcome(self, status: TeamStatus, error: str | None = None) -> TeamOutcome:
        return TeamOutcome(
            status=status,
            messages=self.env.history.recent(),
            cost=self.context.cost.totals,
            error=error,
        )
