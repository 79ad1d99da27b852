"""The Engineer in a repository: planning a change, and editing files with search/replace blocks.

Every test goes through the real LLM client over HTTP to the scripted endpoint, so what is
asserted about prompts is what a model would actually receive.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from scripted_endpoint import ScriptedEndpoint

import prompts
from agents.company.actions.edit_code import EditCode, EditOutcome
from agents.company.actions.plan_change import PlanChange
from agents.config import LLMSettings
from agents.edits.block_parser import EditFormatError
from agents.framework.action import ActionContext
from agents.framework.documents import DocumentStore
from agents.llm.client import LLM
from repo_index.index import RepoIndex
from repo_index.tokens import estimate_tokens

PATH = "greet/core.py"
CURRENT = '''"""Greetings."""


def greet(name):
    return "Hello, " + name


class Greeter:
    def __init__(self, prefix):
        self.prefix = prefix

    def say(self, name):
        return self.prefix + name
'''
LEGACY = "```greet/core.py\n(the legacy map of the repository)\n```"
RETRY_REASON = "could not be applied"


def block(search: str, replace: str, path: str = PATH) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


GREET_BLOCK = block(
    '    return "Hello, " + name\n',
    '    return f"Hello, {name}"\n',
)
GREETED = CURRENT.replace('"Hello, " + name', 'f"Hello, {name}"')
MISQUOTED = block("def greet(person):\n    return person\n", "def greet(person):\n    pass\n")


@pytest.fixture
def ctx(llm_settings: LLMSettings) -> ActionContext:
    return ActionContext(
        llm=LLM(llm_settings),
        role_name="Engineer",
        system_prompt="You are an Engineer.",
        history="",
        documents=DocumentStore(),
        requirement=REQUIREMENT,
    )


REQUIREMENT = "Use f-strings in greetings."
WHAT = "format greetings with an f-string"


async def edit(ctx: ActionContext, legacy_code: str = LEGACY) -> EditOutcome:
    return await EditCode().edit(
        ctx,
        path=PATH,
        current=CURRENT,
        what=WHAT,
        design="",
        legacy_code=legacy_code,
    )


def sent(endpoint: ScriptedEndpoint) -> list[list[dict]]:
    return [r.body["messages"] for r in endpoint.chat_requests if r.body is not None]


async def test_a_plan_is_parsed(endpoint: ScriptedEndpoint, ctx: ActionContext) -> None:
    endpoint.on(schema="ChangePlan").reply_json(
        {
            "summary": "Greetings get an exclamation mark.",
            "files": [
                {"path": PATH, "change": "modify", "what": "add '!' in say"},
                {
                    "path": "greet/cli.py",
                    "change": "create",
                    "what": "a CLI calling Greeter.say",
                    "uses": [PATH],
                },
            ],
        }
    )

    shout = replace(ctx, requirement="Shout greetings.")
    plan = await PlanChange().plan(shout, design="", legacy_code=LEGACY)

    assert [(f.path, f.change) for f in plan.files] == [
        (PATH, "modify"),
        ("greet/cli.py", "create"),
    ]
    assert plan.files[0].uses == []
    assert plan.files[1].uses == [PATH]
    (messages,) = sent(endpoint)
    assert LEGACY in messages[-1]["content"]
    assert "Shout greetings." in messages[-1]["content"]


async def test_an_exact_block_applies(endpoint: ScriptedEndpoint, ctx: ActionContext) -> None:
    endpoint.on().reply_text(f"```\n{GREET_BLOCK}```\n")

    outcome = await edit(ctx)

    assert (outcome.text, outcome.applied, outcome.failures) == (GREETED, 1, [])
    (messages,) = sent(endpoint)
    prompt = messages[-1]["content"]
    assert LEGACY in prompt
    assert CURRENT.strip() in prompt
    assert "<<<<<<< SEARCH" in prompt  # the edit format is part of the prompt
    assert [(r.role, r.action) for r in ctx.llm.cost.records] == [("Engineer", "EditCode")]


async def test_an_indentation_shifted_block_applies(
    endpoint: ScriptedEndpoint, ctx: ActionContext
) -> None:
    shifted = block(
        "def say(self, name):\n    return self.prefix + name\n",
        "def say(self, name):\n    return self.prefix + name + '!'\n",
    )
    endpoint.on().reply_text(shifted)

    outcome = await edit(ctx)

    assert outcome.applied == 1
    assert outcome.failures == []
    assert "    def say(self, name):\n        return self.prefix + name + '!'\n" in outcome.text
    assert len(sent(endpoint)) == 1


async def test_a_block_matching_nowhere_is_retried_and_the_fix_applies(
    endpoint: ScriptedEndpoint, ctx: ActionContext
) -> None:
    first = MISQUOTED
    endpoint.on(contains=RETRY_REASON).reply_text(GREET_BLOCK)
    endpoint.on().reply_text(first)

    outcome = await edit(ctx)

    assert (outcome.text, outcome.applied, outcome.failures) == (GREETED, 1, [])
    initial, retry = sent(endpoint)
    assert retry[: len(initial)] == initial
    assert retry[-2] == {"role": "assistant", "content": first}
    assert "matches nowhere in greet/core.py" in retry[-1]["content"]
    assert 'return "Hello, " + name' in retry[-1]["content"]  # the closest lines are shown
    records = ctx.llm.cost.records
    assert [(r.role, r.action) for r in records] == [("Engineer", "EditCode")] * 2


async def test_a_retry_that_still_fails_is_reported_and_applied_blocks_are_kept(
    endpoint: ScriptedEndpoint, ctx: ActionContext
) -> None:
    endpoint.on(contains=RETRY_REASON).reply_text(MISQUOTED)
    endpoint.on().reply_text(GREET_BLOCK + "\n" + MISQUOTED)

    outcome = await edit(ctx)

    assert outcome.text == GREETED
    assert outcome.applied == 1
    (failure,) = outcome.failures
    assert "def greet(person):" in failure.block.search
    assert "matches nowhere" in failure.reason
    assert len(sent(endpoint)) == 2


async def test_a_malformed_answer_is_retried_with_the_format_error(
    endpoint: ScriptedEndpoint, ctx: ActionContext
) -> None:
    malformed = f"{PATH}\n<<<<<<< SEARCH\n    return 'x'\n>>>>>>> REPLACE\n"
    endpoint.on(contains="could not be used").reply_text(GREET_BLOCK)
    endpoint.on().reply_text(malformed)

    outcome = await edit(ctx)

    assert (outcome.text, outcome.applied, outcome.failures) == (GREETED, 1, [])
    _, retry = sent(endpoint)
    assert retry[-2] == {"role": "assistant", "content": malformed}
    assert "missing '=======' between" in retry[-1]["content"]


async def test_two_malformed_answers_raise(endpoint: ScriptedEndpoint, ctx: ActionContext) -> None:
    endpoint.on().reply_text("Here is the whole file instead.")

    with pytest.raises(EditFormatError, match="holds no edit block"):
        await edit(ctx)
    assert len(sent(endpoint)) == 2


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


async def test_legacy_code_from_a_repository_index(
    endpoint: ScriptedEndpoint, ctx: ActionContext, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    (root / "greet").mkdir(parents=True)
    (root / PATH).write_text(CURRENT)
    (root / "greet" / "cli.py").write_text(
        "from greet.core import Greeter\n\n\ndef main():\n    print(Greeter('Hi ').say('you'))\n"
    )
    for i in range(40):
        (root / "greet" / f"extra_{i:02d}.py").write_text(
            f"def extra_{i}(value):\n    '''Helper number {i}.'''\n    return value * {i}\n"
        )
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "fixture")
    legacy = RepoIndex(root).context(REQUIREMENT, focus=[PATH], budget=600)
    endpoint.on().reply_text(GREET_BLOCK)

    outcome = await edit(ctx, legacy_code=legacy)

    assert outcome.text == GREETED
    assert f"```{PATH}\n{CURRENT.rstrip()}\n```" in legacy
    assert estimate_tokens(legacy) <= 600
    (messages,) = sent(endpoint)
    prompt = messages[-1]["content"]
    assert legacy in prompt
    template_only = prompts.render(
        "engineer/edit_code.md",
        path=PATH,
        current=CURRENT,
        what=WHAT,
        requirement=REQUIREMENT,
        design="",
        legacy_code="",
        bug_feedback="",
        edit_format=prompts.render("engineer/edit_format.md", path=PATH),
    )
    assert estimate_tokens(prompt) <= estimate_tokens(template_only) + 600
