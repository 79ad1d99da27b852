"""Roles: observe messages, think about what to do next, act, and publish the result.

Three ways to react (PRODUCT.md §4): `by_order` runs the actions in order; `react` lets the LLM
pick the next action up to `max_react_loop` times; `plan_and_act` has the LLM write a plan of
tasks, runs them in order, and revises the rest of the plan when a task fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, create_model

import prompts
from agents.errors import SoplsError
from agents.framework.action import Action, ActionContext, ActionOutput
from agents.framework.context import Context
from agents.framework.memory import Memory
from agents.framework.message import Message
from agents.llm.client import LLM

logger = logging.getLogger("sopls.role")

DONE = "done"


class ReactMode(StrEnum):
    REACT = "react"
    BY_ORDER = "by_order"
    PLAN_AND_ACT = "plan_and_act"


class TaskFailedError(SoplsError):
    """Raised by an action whose result is unusable; a `plan_and_act` role re-plans on it."""


class NextStep(BaseModel):
    """The LLM's choice in `react` mode (the action name is narrowed per role)."""

    thought: str = ""
    action: str


class PlanTask(BaseModel):
    """One step of a plan (the action name is narrowed per role)."""

    instruction: str
    action: str


class Plan(BaseModel):
    """What the LLM writes in `plan_and_act` mode: the tasks still to do, in order."""

    goal: str = ""
    tasks: list[PlanTask] = Field(min_length=1, max_length=12)


@dataclass(frozen=True)
class FinishedTask:
    task: PlanTask
    result: str


class Role:
    """A member of the team. Subclasses set `profile`, `goal`, `constraints` and pass actions.

    `watch` holds action classes (messages they caused) and payload classes (messages that
    carry one, whoever sent them).
    """

    profile: ClassVar[str] = ""
    goal: ClassVar[str] = ""
    constraints: ClassVar[str] = ""
    context_type: ClassVar[type[Context]] = Context  # what this role needs to share

    def __init__(
        self,
        *,
        name: str | None = None,
        actions: Sequence[Action | type[Action]] = (),
        watch: Iterable[type[Action] | type[BaseModel]] = (),
        react_mode: ReactMode = ReactMode.BY_ORDER,
        max_react_loop: int = 1,
        context: Context | None = None,
    ) -> None:
        if max_react_loop < 1:
            raise ValueError("max_react_loop must be at least 1")
        self.name = name or type(self).__name__
        self.actions: list[Action] = [a() if isinstance(a, type) else a for a in actions]
        self.watch: frozenset[type] = frozenset(watch)
        self.react_mode = react_mode
        self.max_react_loop = max_react_loop
        self.memory = Memory()
        self.news: list[Message] = []
        self.plan: Plan | None = None
        self.finished_tasks: list[FinishedTask] = []
        self._context = context
        self._publish: Callable[[Message], None] | None = None
        self._inbox: list[Message] = []

    @property
    def context(self) -> Context:
        if self._context is None:
            self._context = self.context_type()
        return self._context

    @property
    def llm(self) -> LLM:
        return self.context.llm_for(self.name)

    def join(self, publish: Callable[[Message], None], context: Context) -> None:
        """Become part of a team: `publish` reaches the others, `context` is what they share."""
        if not isinstance(context, self.context_type):
            raise TypeError(
                f"{self.name} needs a {self.context_type.__name__}, not a "
                f"{type(context).__name__}: give the team one, e.g. "
                f"Team({self.context_type.__name__}(...))."
            )
        self._publish = publish
        self._context = context

    @property
    def system_prompt(self) -> str:
        return prompts.render(
            "role/system.md",
            name=self.name,
            profile=self.profile,
            goal=self.goal,
            constraints=self.constraints,
        )

    # --- observe ---------------------------------------------------------------------------

    def is_interested(self, message: Message) -> bool:
        """Addressed messages go to their addressees; the rest to roles watching their cause
        or the type of their payload."""
        if message.send_to:
            return any(isinstance(self, kind) for kind in message.send_to)
        if message.sent_from == self.name:
            return False
        return message.cause_by in self.watch or type(message.payload) in self.watch

    def deliver(self, message: Message) -> None:
        self._inbox.append(message)

    @property
    def has_news(self) -> bool:
        return bool(self._inbox)

    def observe(self) -> list[Message]:
        """Move new messages from the inbox into memory; return them."""
        self.news = [m for m in self._inbox if m not in self.memory]
        self._inbox.clear()
        self.memory.extend(self.news)
        return self.news

    # --- act -------------------------------------------------------------------------------

    async def run(self, message: Message | None = None) -> Message | None:
        """Take in news (and `message`, if given) and react; None when there was nothing new."""
        if message is not None:
            self.deliver(message)
        if not self.observe():
            return None
        return await self.react()

    async def react(self) -> Message | None:
        if self.react_mode is ReactMode.BY_ORDER:
            return await self._by_order()
        if self.react_mode is ReactMode.REACT:
            return await self._react()
        return await self._plan_and_act()

    async def act(self, action: Action, instruction: str = "") -> Message:
        """Run one action on the role's memory and publish what it produced."""
        ctx = self.action_context(instruction)
        self.context.emit(self.name, action.name, "started", detail=instruction)
        try:
            output = await action.run(ctx)
        except Exception as exc:
            self.context.emit(self.name, action.name, "failed", detail=str(exc))
            raise
        self.keep(output)
        message = self.announce(output.content, type(action), output.payload)
        self.context.emit(self.name, action.name, "finished")
        return message

    def history(self) -> str:
        """The role's recent memory as prompt text."""
        messages = [
            (m.sent_from, m.cause_by.name if m.cause_by else None, m.content)
            for m in self.memory.recent()
        ]
        return prompts.render("role/history.md", messages=messages).rstrip() if messages else ""

    def action_context(self, instruction: str = "") -> ActionContext:
        return ActionContext(
            llm=self.llm,
            role_name=self.name,
            system_prompt=self.system_prompt,
            history=self.history(),
            documents=self.context.documents,
            requirement=self.context.requirement,
            instruction=instruction,
            legacy_code=self.context.legacy_code,
        )

    def keep(self, output: ActionOutput) -> None:
        """Store what an action produced before it is announced (documents, files)."""

    def announce(
        self,
        content: str,
        cause_by: type[Action] | None,
        payload: BaseModel | None = None,
        send_to: Iterable[type[Role]] = (),
    ) -> Message:
        """Remember what this role says and tell the team; `cause_by` is None for what no action
        of the role produced (a test run's result)."""
        message = Message(
            content=content,
            cause_by=cause_by,
            payload=payload,
            sent_from=self.name,
            send_to=frozenset(send_to),
        )
        self.memory.add(message)
        self.publish(message)
        return message

    def publish(self, message: Message) -> None:
        if self._publish is not None:
            self._publish(message)

    async def _by_order(self) -> Message | None:
        last = None
        for action in self.actions:
            last = await self.act(action)
        return last

    async def _react(self) -> Message | None:
        last = None
        taken: list[str] = []
        for _ in range(self.max_react_loop):
            action = await self._choose_next(taken)
            if action is None:
                break
            last = await self.act(action)
            taken.append(action.name)
        return last

    def _action_named(self, name: str) -> Action:
        return next(a for a in self.actions if a.name == name)

    def _names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.actions)

    async def _choose_next(self, taken: list[str]) -> Action | None:
        schema = create_model(
            "NextStep",
            __base__=NextStep,
            action=(Literal[(*self._names(), DONE)], ...),
        )
        prompt = prompts.render(
            "role/react.md",
            actions=[(a.name, a.description) for a in self.actions],
            history=self.history(),
            taken=taken,
            done=DONE,
        )
        step = await self.llm.aask(
            prompt, self.system_prompt, schema=schema, role=self.name, action="ChooseNextAction"
        )
        logger.info("%s chose %s: %s", self.name, step.action, step.thought)
        return None if step.action == DONE else self._action_named(step.action)

    def _plan_schema(self) -> type[Plan]:
        task = create_model("PlanTask", __base__=PlanTask, action=(Literal[self._names()], ...))
        return create_model(
            "Plan", __base__=Plan, tasks=(list[task], Field(min_length=1, max_length=12))
        )

    async def _write_plan(self, failed: PlanTask | None = None, error: str = "") -> Plan:
        """The first plan, or (given the task that `failed` and its `error`) the rest of it."""
        prompt = prompts.render(
            "role/plan.md",
            actions=[(a.name, a.description) for a in self.actions],
            history=self.history(),
            finished=[(f.task.action, f.task.instruction) for f in self.finished_tasks],
            failed_action=failed.action if failed else "",
            failed_instruction=failed.instruction if failed else "",
            error=error,
        )
        self.plan = await self.llm.aask(
            prompt,
            self.system_prompt,
            schema=self._plan_schema(),
            role=self.name,
            action="Replan" if failed else "Plan",
        )
        return self.plan

    async def _plan_and_act(self) -> Message | None:
        self.finished_tasks = []
        remaining = list((await self._write_plan()).tasks)
        replans_left = self.max_react_loop
        last = None
        while remaining:
            task = remaining[0]
            try:
                last = await self.act(self._action_named(task.action), task.instruction)
            except TaskFailedError as exc:
                if replans_left == 0:
                    raise
                replans_left -= 1
                remaining = list((await self._write_plan(task, str(exc))).tasks)
                continue
            self.finished_tasks.append(FinishedTask(task, last.content))
            remaining.pop(0)
        return last
