"""The LLM layer end to end: the real openai client over HTTP against the scripted endpoint."""

import asyncio
import json
import logging
import time
import uuid
from pathlib import Path

import pytest
from conftest import SECRET_KEY
from pydantic import BaseModel
from scripted_endpoint import ScriptedEndpoint, Usage

from agents import (
    LLM,
    BudgetExceededError,
    CostManager,
    LLMError,
    LLMSettings,
    OutputTruncatedError,
    StructuredOutputError,
)
from agents.config import ModelPrice
from agents.llm.journal import CallJournal


class Book(BaseModel):
    title: str
    pages: int


BOOK = {"title": "Dune", "pages": 412}


def make_llm(settings: LLMSettings, **changes: object) -> LLM:
    return LLM(settings.model_copy(update=changes))


async def test_aask_returns_streamed_text_with_usage(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(contains="hello").reply_text("Hi there, how can I help today?")
    llm = make_llm(llm_settings)

    assert await llm.aask("hello") == "Hi there, how can I help today?"

    body = endpoint.chat_requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    record = llm.cost.records[0]
    assert not record.usage_estimated
    assert record.completion_tokens == 7  # the endpoint counts words


async def test_aask_without_streaming_and_with_a_system_prompt(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(system_contains="terse").reply_text("Yes.")
    llm = make_llm(llm_settings, stream=False)

    assert await llm.aask("Is water wet?", system="Be terse.") == "Yes."
    body = endpoint.chat_requests[0].body
    assert "stream" not in body or body["stream"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


async def test_acompletion_takes_a_message_list(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(contains="second").reply_text("answer")
    llm = make_llm(llm_settings)
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second"},
    ]
    completion = await llm.acompletion(messages)
    assert completion.content == "answer"
    assert completion.finish_reason == "stop"
    assert endpoint.chat_requests[0].body["messages"] == messages


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("strategy", ["json_schema", "json_object", "prompt"])
async def test_structured_output_with_each_strategy(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, strategy: str, stream: bool
) -> None:
    endpoint.on(schema="Book").reply_json(BOOK)
    llm = make_llm(llm_settings, structured_output=strategy, stream=stream)

    book = await llm.aask("Recommend a book.", schema=Book)

    assert book == Book(**BOOK)
    body = endpoint.chat_requests[0].body
    prompt = body["messages"][-1]["content"]
    if strategy == "json_schema":
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == "Book"
    elif strategy == "json_object":
        assert body["response_format"]["type"] == "json_object"
        assert body["response_format"]["schema"]["title"] == "Book"
        assert '"pages"' in prompt
    else:
        assert "response_format" not in body
        assert '"pages"' in prompt


async def test_auto_falls_back_when_the_endpoint_refuses_json_schema(
    llm_settings: LLMSettings,
) -> None:
    with ScriptedEndpoint(refuse_json_schema=True) as refusing:
        refusing.on(schema="Book").reply_json(BOOK)
        llm = make_llm(llm_settings, base_url=refusing.base_url, structured_output="auto")

        assert await llm.aask("Recommend a book.", schema=Book) == Book(**BOOK)
        kinds = [r.body["response_format"]["type"] for r in refusing.chat_requests]
        assert kinds == ["json_schema", "json_object"]
        assert [r.status for r in refusing.chat_requests] == [400, 200]

        # The endpoint's answer is remembered: the next ask goes straight to json_object.
        assert await llm.aask("Another one.", schema=Book) == Book(**BOOK)
        assert refusing.chat_requests[-1].body["response_format"]["type"] == "json_object"
        assert len(refusing.chat_requests) == 3


async def test_prose_and_fenced_json_with_trailing_commas_is_repaired(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="Book").reply_text(
        'Sure! Here it is:\n```json\n{"title": "Dune", "pages": 412,}\n```\nEnjoy the read.'
    )
    llm = make_llm(llm_settings, structured_output="prompt")
    assert await llm.aask("Recommend a book.", schema=Book) == Book(**BOOK)
    assert len(endpoint.chat_requests) == 1


async def test_invalid_answer_is_retried_quoting_the_validation_error(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="Book", times=1).reply_json({"title": "Dune"})
    endpoint.on(schema="Book").reply_json(BOOK)
    llm = make_llm(llm_settings)

    assert await llm.aask("Recommend a book.", schema=Book) == Book(**BOOK)

    assert len(endpoint.chat_requests) == 2
    retry = endpoint.chat_requests[1].body["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"title": "Dune"}'}
    assert "pages" in retry[-1]["content"]
    assert "Field required" in retry[-1]["content"]


async def test_answers_that_never_validate_give_a_clear_error_and_keep_the_output(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(schema="Book").reply_text("I would rather not answer in JSON.")
    llm = make_llm(llm_settings)

    with pytest.raises(StructuredOutputError) as caught:
        await llm.aask("Recommend a book.", schema=Book, role="Librarian", action="Recommend")

    assert len(endpoint.chat_requests) == 3  # the first try and two retries
    # One plain sentence; the role and step are the run's to say, the details go to the log.
    assert str(caught.value) == "the model's book did not match the expected shape after 3 tries"
    saved = caught.value.raw_output_path
    assert saved is not None
    assert "Librarian-Recommend" in saved.name
    assert saved.read_text().count("I would rather not answer in JSON.") == 3


@pytest.mark.parametrize("stream", [True, False])
async def test_truncated_output_is_an_error_not_a_repair(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, stream: bool
) -> None:
    endpoint.on(schema="Book").truncate('{"title": "Dune", "pa')
    llm = make_llm(llm_settings, stream=stream)

    with pytest.raises(OutputTruncatedError) as caught:
        await llm.aask("Recommend a book.", schema=Book, role="Librarian", action="Recommend")

    message = str(caught.value)
    assert "Librarian/Recommend" in message
    assert "gpt-4o-mini" in message
    assert "cut off" in message
    assert len(endpoint.chat_requests) == 1
    assert llm.cost.totals.calls == 1  # the tokens were spent and are counted


async def test_rate_limit_twice_then_success_honours_retry_after(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(times=2).fail(429, retry_after=1.0, message="slow down")
    endpoint.on().reply_text("finally")
    llm = make_llm(llm_settings)

    started = time.monotonic()
    assert await llm.aask("hello") == "finally"
    elapsed = time.monotonic() - started

    assert [r.status for r in endpoint.chat_requests] == [429, 429, 200]
    assert elapsed >= 1.9  # waited the Retry-After twice


async def test_server_error_forever_fails_clearly_in_bounded_time(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().fail(500, message="the model crashed")
    llm = make_llm(llm_settings, max_retries=2)

    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        await llm.aask("hello")
    elapsed = time.monotonic() - started

    assert len(endpoint.chat_requests) == 3
    assert elapsed < 15
    message = str(caught.value)
    assert "HTTP 500" in message
    assert "tried 3 times" in message
    assert "the model crashed" in message
    assert llm.cost.reserved == 0
    assert llm.cost.totals.calls == 0


async def test_a_hanging_endpoint_times_out_in_bounded_time(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().hang(30)
    llm = make_llm(llm_settings, timeout=0.5, max_retries=1)

    started = time.monotonic()
    with pytest.raises(LLMError, match=r"did not answer .* within 0\.5s"):
        await llm.aask("hello")
    assert time.monotonic() - started < 8
    assert len(endpoint.chat_requests) == 2


async def test_cancellation_propagates_and_frees_the_reservation(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().hang(30)
    llm = make_llm(llm_settings, timeout=20)
    task = asyncio.create_task(llm.aask("hello"))
    for _ in range(250):
        if endpoint.chat_requests:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert llm.cost.reserved == 0


async def test_costs_per_call_and_in_total_for_a_priced_model(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(contains="one").reply_text(
        "a", usage=Usage(prompt_tokens=1000, completion_tokens=500)
    )
    endpoint.on(contains="two").reply_text(
        "b", usage=Usage(prompt_tokens=3000, completion_tokens=2000)
    )
    settings = llm_settings.model_copy(update={"model": "house-model"})
    llm = LLM(settings, pricing={"house-model": ModelPrice(prompt=2.0, completion=8.0)})

    await llm.aask("one")
    await llm.aask("two")

    first, second = llm.cost.records
    assert first.usd == pytest.approx((1000 * 2.0 + 500 * 8.0) / 1e6)
    assert second.usd == pytest.approx((3000 * 2.0 + 2000 * 8.0) / 1e6)
    totals = llm.cost.totals
    assert totals.calls == 2
    assert (totals.prompt_tokens, totals.completion_tokens) == (4000, 2500)
    assert totals.usd == pytest.approx(first.usd + second.usd)


async def test_unknown_model_costs_nothing_warns_once_and_counts_tokens(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, caplog: pytest.LogCaptureFixture
) -> None:
    model = f"mystery-{uuid.uuid4().hex[:8]}"
    endpoint.on().reply_text("x", usage=Usage(prompt_tokens=10, completion_tokens=5))
    cost = CostManager()
    with caplog.at_level(logging.WARNING, logger="sopls.llm"):
        for _ in range(2):
            llm = LLM(llm_settings.model_copy(update={"model": model}), cost=cost)
            await llm.aask("hi")

    warnings = [r for r in caplog.records if model in r.getMessage()]
    assert len(warnings) == 1
    assert cost.totals.usd == 0
    assert (cost.totals.prompt_tokens, cost.totals.completion_tokens) == (20, 10)


async def test_missing_usage_is_estimated(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("a reasonably long answer without usage", omit_usage=True)
    llm = make_llm(llm_settings)
    await llm.aask("hi")
    record = llm.cost.records[0]
    assert record.usage_estimated
    assert record.prompt_tokens > 0
    assert record.completion_tokens > 0


async def test_third_call_is_refused_before_it_is_sent(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    settings = llm_settings.model_copy(update={"model": "metered", "max_tokens": 100})
    cost = CostManager()
    llm = LLM(settings, pricing={"metered": ModelPrice(prompt=0, completion=1000)}, cost=cost)
    # Answers use the whole reservation, so each call costs exactly its upper estimate.
    reserved = llm.reserved_completion_tokens
    endpoint.on().reply_text("x", usage=Usage(prompt_tokens=50, completion_tokens=reserved))
    upper = llm.upper_cost([{"role": "user", "content": "hi"}])
    cost.investment = 2 * upper

    await llm.aask("hi")
    await llm.aask("hi")
    with pytest.raises(BudgetExceededError) as caught:
        await llm.aask("hi")

    assert len(endpoint.chat_requests) == 2
    message = str(caught.value)
    assert "budget is spent" in message
    assert f"${2 * upper:.4f}" in message
    assert cost.spent <= cost.investment


async def test_the_prompt_counts_in_the_upper_estimate(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("x")
    settings = llm_settings.model_copy(update={"model": "metered", "max_tokens": 1})
    llm = LLM(settings, pricing={"metered": ModelPrice(prompt=1000, completion=0)})
    llm.cost.investment = 1.0  # a thousand prompt tokens

    await llm.aask("short question")
    with pytest.raises(BudgetExceededError):
        await llm.aask("word " * 20_000)
    assert len(endpoint.chat_requests) == 1


async def test_concurrent_calls_respect_the_endpoint_limit(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("ok", delay=0.3)
    llm = make_llm(llm_settings, max_concurrency=2)
    answers = await asyncio.gather(*(llm.aask(f"q{i}") for i in range(5)))
    assert answers == ["ok"] * 5
    assert endpoint.max_in_flight == 2


async def test_concurrent_calls_never_overspend(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("x", usage=Usage(prompt_tokens=1, completion_tokens=100), delay=0.2)
    settings = llm_settings.model_copy(update={"model": "metered", "max_tokens": 100})
    llm = LLM(settings, pricing={"metered": ModelPrice(prompt=0, completion=1000)})
    llm.cost.investment = 3 * llm.upper_cost([{"role": "user", "content": "q"}])

    results = await asyncio.gather(*(llm.aask("q") for _ in range(6)), return_exceptions=True)

    assert sum(isinstance(r, BudgetExceededError) for r in results) == 3
    assert len(endpoint.chat_requests) == 3
    assert llm.cost.spent <= llm.cost.investment


async def test_the_key_never_appears_in_logs_errors_or_saved_output(
    endpoint: ScriptedEndpoint,
    llm_settings: LLMSettings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint.on(contains="fail").fail(500)
    endpoint.on(schema="Book").reply_text("not json")
    endpoint.on().reply_text("fine")
    llm = make_llm(llm_settings, max_retries=0)
    errors: list[str] = []
    with caplog.at_level(logging.DEBUG):
        await llm.aask("hello")
        for ask in (llm.aask("fail"), llm.aask("a book", schema=Book)):
            try:
                await ask
            except LLMError as exc:
                errors.append(repr(exc) + str(exc))
                if isinstance(exc, StructuredOutputError) and exc.raw_output_path:
                    errors.append(exc.raw_output_path.read_text())

    assert len(errors) == 3
    assert endpoint.chat_requests[0].headers["authorization"] == f"Bearer {SECRET_KEY}"
    captured = capsys.readouterr()
    for text in (caplog.text, captured.out, captured.err, *errors, repr(llm.settings)):
        assert SECRET_KEY not in text


async def test_stored_answers_lose_only_the_configured_key_while_logs_lose_any_key_shape(
    endpoint: ScriptedEndpoint,
    llm_settings: LLMSettings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    code = 'TOKEN = "sk-example-0123456789abcdef"  # the key is {api_key}'
    endpoint.on().reply_text(code)
    llm = LLM(llm_settings, journal=CallJournal(tmp_path / "calls.jsonl"))

    answer = await llm.aask("write the config module")
    with caplog.at_level(logging.INFO):
        logging.getLogger("sopls.test").info("answer: %s", answer)

    kept = 'TOKEN = "sk-example-0123456789abcdef"  # the key is [REDACTED]'
    (line,) = (tmp_path / "calls.jsonl").read_text().splitlines()
    assert json.loads(line)["content"] == kept
    logged = caplog.records[-1].getMessage()
    assert logged == 'answer: TOKEN = "[REDACTED]"  # the key is [REDACTED]'


@pytest.mark.parametrize("stream", [True, False])
async def test_an_answer_is_cut_just_past_the_tokens_reserved_for_it(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, stream: bool
) -> None:
    # max_tokens real tokens are about four bytes each; the estimate reserves that much.
    endpoint.on(contains="fits").reply_text("abcd", repeat=64, omit_usage=True)
    endpoint.on(contains="over").reply_text("abcd" * 64 + "e", omit_usage=True)
    llm = make_llm(llm_settings, max_tokens=64, stream=stream)

    assert await llm.aask("fits") == "abcd" * 64
    with pytest.raises(OutputTruncatedError):
        await llm.aask("over")

    assert llm.reserved_completion_tokens == 86
    assert [r.completion_tokens for r in llm.cost.records] == [86, 86]
