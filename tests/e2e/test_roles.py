"""Roles, the environment and the team, driven by the scripted endpoint over real HTTP."""

import pytest
from scripted_endpoint import ScriptedEndpoint, Usage

from agents import (
    Action,
    ActionContext,
    ActionOutput,
    Context,
    LLMSettings,
    Message,
    ReactMode,
    Requirement,
    Role,
    Settings,
    TaskFailedError,
    Team,
)


class WriteIdea(Action):
    description = "Write a one-line product idea."


class CritiqueIdea(Action):
    description = "Critique the idea in one sentence."


class Writer(Role):
    profile = "Writer"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(actions=[WriteIdea], watch=[Requirement], **kwargs)


class Critic(Role):
    profile = "Critic"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(actions=[CritiqueIdea], watch=[WriteIdea], **kwargs)


class Search(Action):
    description = "Look up facts."


class Summarize(Action):
    description = "Summarize what was found."


class Draft(Action):
    description = "Draft the text."


class Check(Action):
    """Fails the task when the model reports a failure, so the plan must change."""

    description = "Check the draft."

    async def run(self, ctx: ActionContext) -> ActionOutput:
        output = await super().run(ctx)
        if output.content.startswith("FAIL"):
            raise TaskFailedError(output.content)
        return output


def context_for(settings: LLMSettings, **pricing: dict[str, float]) -> Context:
    return Context(settings=Settings(llm=settings, pricing=pricing))


def task_of(body: dict) -> str:
    """Which action a request was made for: the line after "## Your task:"."""
    prompt = body["messages"][-1]["content"]
    marker = "## Your task: "
    return prompt.split(marker, 1)[1].split("\n", 1)[0] if marker in prompt else ""


async def test_two_roles_exchange_messages_through_watch(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(contains="## Your task: WriteIdea").reply_text("A to-do list for cats.")
    endpoint.on(contains="## Your task: CritiqueIdea").reply_text("Cats cannot type.")
    team = Team(context_for(llm_settings))
    team.hire([Writer(), Critic()])
    team.invest(1.0)

    outcome = await team.run(n_round=5, idea="Something fun for pets")

    assert outcome.status == "completed"
    said = [(m.sent_from, m.cause_by, m.content) for m in outcome.messages]
    assert said == [
        ("User", None, "Something fun for pets"),
        ("Writer", WriteIdea, "A to-do list for cats."),
        ("Critic", CritiqueIdea, "Cats cannot type."),
    ]
    critique_prompt = endpoint.chat_requests[1].body["messages"][-1]["content"]
    assert "A to-do list for cats." in critique_prompt
    assert "You are Critic, the Critic" in endpoint.chat_requests[1].body["messages"][0]["content"]
    assert outcome.cost.calls == 2


async def test_an_addressed_message_reaches_only_its_addressee(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(contains="## Your task: CritiqueIdea").reply_text("Too vague.")
    team = Team(context_for(llm_settings))
    writer, critic = Writer(), Critic()
    team.hire([writer, critic])
    team.run_project("An app", send_to=[Critic])

    assert critic.has_news
    assert not writer.has_news
    outcome = await team.run(n_round=3)
    assert [m.sent_from for m in outcome.messages] == ["User", "Critic"]
    assert [task_of(r.body) for r in endpoint.chat_requests] == ["CritiqueIdea"]


async def test_team_stops_when_rounds_are_used_up(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("something")
    team = Team(context_for(llm_settings))
    team.hire([Writer(), Critic()])
    outcome = await team.run(n_round=1, idea="An app")
    assert outcome.status == "rounds_exhausted"
    assert [m.sent_from for m in outcome.messages] == ["User", "Writer"]


async def test_team_stops_when_the_budget_is_spent_and_keeps_finished_work(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("x", usage=Usage(prompt_tokens=1, completion_tokens=100))
    settings = llm_settings.model_copy(update={"model": "metered", "max_tokens": 100})
    team = Team(context_for(settings, metered={"prompt": 0, "completion": 1000}))
    team.hire([Writer(), Critic()])
    team.invest(0.15)  # one call's upper estimate is $0.10

    outcome = await team.run(n_round=5, idea="An app")

    assert outcome.status == "budget_exceeded"
    assert "budget is spent" in (outcome.error or "")
    assert [m.sent_from for m in outcome.messages] == ["User", "Writer"]
    assert len(endpoint.chat_requests) == 1
    assert team.context.cost.spent <= 0.15


async def test_invest_refuses_nonsense() -> None:
    team = Team(Context(settings=Settings(llm=LLMSettings(base_url="http://127.0.0.1:1/v1"))))
    with pytest.raises(ValueError, match="positive"):
        team.invest(0)
    with pytest.raises(ValueError, match="empty"):
        team.run_project("   ")


async def test_by_order_runs_every_action_in_order_on_growing_memory(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(contains="## Your task: Search").reply_text("FACT-1")
    endpoint.on(contains="## Your task: Draft").reply_text("DRAFT-1")
    endpoint.on(contains="## Your task: Summarize").reply_text("SUMMARY-1")
    role = Role(
        name="Author",
        actions=[Search, Draft, Summarize],
        react_mode=ReactMode.BY_ORDER,
        context=context_for(llm_settings),
    )

    last = await role.run(Message(content="Write about tides"))

    assert [task_of(r.body) for r in endpoint.chat_requests] == ["Search", "Draft", "Summarize"]
    assert "FACT-1" in endpoint.chat_requests[1].body["messages"][-1]["content"]
    assert "DRAFT-1" in endpoint.chat_requests[2].body["messages"][-1]["content"]
    assert last is not None
    assert last.content == "SUMMARY-1"
    assert [m.cause_by for m in role.memory] == [None, Search, Draft, Summarize]


async def test_a_role_without_news_does_nothing(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    role = Role(actions=[Search], context=context_for(llm_settings))
    assert await role.run() is None
    assert endpoint.requests == []


async def test_react_lets_the_llm_choose_and_stops_at_max_react_loop(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="NextStep", times=1).reply_json(
        {"thought": "need facts", "action": "Search"}
    )
    endpoint.on(schema="NextStep", times=1).reply_json(
        {"thought": "wrap up", "action": "Summarize"}
    )
    endpoint.on(schema="NextStep").reply_json({"thought": "more", "action": "Search"})
    endpoint.on(contains="## Your task: Search").reply_text("FACT")
    endpoint.on(contains="## Your task: Summarize").reply_text("SUMMARY")
    role = Role(
        name="Researcher",
        actions=[Search, Summarize],
        react_mode=ReactMode.REACT,
        max_react_loop=2,
        context=context_for(llm_settings),
    )

    last = await role.run(Message(content="Tell me about tides"))

    steps = [
        "choose" if r.body.get("response_format") else task_of(r.body)
        for r in endpoint.chat_requests
    ]
    assert steps == ["choose", "Search", "choose", "Summarize"]
    assert last is not None
    assert last.content == "SUMMARY"
    # The choice is narrowed to this role's actions (plus "done").
    schema = endpoint.chat_requests[0].body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["action"]["enum"] == ["Search", "Summarize", "done"]
    second_choice = endpoint.chat_requests[2].body["messages"][-1]["content"]
    assert "already taken, in this order: Search" in second_choice


async def test_react_stops_when_the_llm_says_done(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="NextStep").reply_json({"thought": "nothing to do", "action": "done"})
    role = Role(
        actions=[Search, Summarize],
        react_mode=ReactMode.REACT,
        max_react_loop=5,
        context=context_for(llm_settings),
    )
    assert await role.run(Message(content="hi")) is None
    assert len(endpoint.chat_requests) == 1


async def test_plan_and_act_plans_then_runs_the_tasks(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="Plan").reply_json(
        {
            "goal": "an article on tides",
            "tasks": [
                {"instruction": "Find three facts about tides.", "action": "Search"},
                {"instruction": "Write 100 words from the facts.", "action": "Draft"},
            ],
        }
    )
    endpoint.on(contains="## Your task: Search").reply_text("FACTS")
    endpoint.on(contains="## Your task: Draft").reply_text("ARTICLE")
    role = Role(
        name="Planner",
        actions=[Search, Draft],
        react_mode=ReactMode.PLAN_AND_ACT,
        context=context_for(llm_settings),
    )

    last = await role.run(Message(content="An article on tides"))

    requests = endpoint.chat_requests
    assert requests[0].body["response_format"]["json_schema"]["name"] == "Plan"
    assert [task_of(r.body) for r in requests[1:]] == ["Search", "Draft"]
    assert "Find three facts about tides." in requests[1].body["messages"][-1]["content"]
    assert "FACTS" in requests[2].body["messages"][-1]["content"]
    assert last is not None
    assert last.content == "ARTICLE"
    assert [f.result for f in role.finished_tasks] == ["FACTS", "ARTICLE"]


async def test_plan_and_act_revises_the_plan_when_a_task_fails(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="Plan", contains="What went wrong").reply_json(
        {
            "tasks": [
                {"instruction": "Fix the draft.", "action": "Draft"},
                {"instruction": "Check again.", "action": "Check"},
            ]
        }
    )
    endpoint.on(schema="Plan").reply_json(
        {
            "tasks": [
                {"instruction": "Write it.", "action": "Draft"},
                {"instruction": "Check it.", "action": "Check"},
            ]
        }
    )
    endpoint.on(contains="## Your task: Draft").reply_text("DRAFT")
    endpoint.on(contains="## Your task: Check", times=1).reply_text("FAIL: too short")
    endpoint.on(contains="## Your task: Check").reply_text("PASS")
    role = Role(
        actions=[Draft, Check],
        react_mode=ReactMode.PLAN_AND_ACT,
        max_react_loop=1,
        context=context_for(llm_settings),
    )

    last = await role.run(Message(content="A haiku"))

    steps = [
        "plan" if r.body.get("response_format") else task_of(r.body) for r in endpoint.chat_requests
    ]
    assert steps == ["plan", "Draft", "Check", "plan", "Draft", "Check"]
    replan = endpoint.chat_requests[3].body["messages"][-1]["content"]
    assert "FAIL: too short" in replan
    assert "1. Draft: Write it." in replan
    assert last is not None
    assert last.content == "PASS"
    assert [f.task.instruction for f in role.finished_tasks] == [
        "Write it.",
        "Fix the draft.",
        "Check again.",
    ]


async def test_plan_and_act_gives_up_after_its_replans(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="Plan").reply_json({"tasks": [{"instruction": "Check.", "action": "Check"}]})
    endpoint.on(contains="## Your task: Check").reply_text("FAIL: always")
    role = Role(
        actions=[Check],
        react_mode=ReactMode.PLAN_AND_ACT,
        max_react_loop=2,
        context=context_for(llm_settings),
    )
    with pytest.raises(TaskFailedError, match="FAIL: always"):
        await role.run(Message(content="x"))
    assert len(endpoint.chat_requests) == 6  # plan + (check, replan) x2 + check


def test_role_names_must_be_unique_in_a_team(llm_settings: LLMSettings) -> None:
    team = Team(context_for(llm_settings))
    with pytest.raises(ValueError, match="already in the team"):
        team.hire([Writer(), Writer()])
