"""The transport alone: one OpenAI-compatible exchange over real HTTP with the scripted endpoint."""

import time

import pytest
from scripted_endpoint import ScriptedEndpoint, Usage

from agents.config import LLMSettings
from agents.errors import LLMError
from agents.llm.failures import LLMStatusError
from agents.llm.transport import Transport

QUESTION = [{"role": "user", "content": "hello"}]


def transport(settings: LLMSettings, **changes: object) -> Transport:
    return Transport(settings.model_copy(update=changes))


@pytest.mark.parametrize("stream", [True, False])
async def test_the_answer_comes_with_the_usage_the_endpoint_reported(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, stream: bool
) -> None:
    endpoint.on().reply_text("Hi there.", usage=Usage(prompt_tokens=11, completion_tokens=3))
    sender = transport(llm_settings, stream=stream, temperature=0.3, max_tokens=50)

    answer = await sender.request(sender.prepare(QUESTION, {"type": "json_object"}))

    assert (answer.content, answer.finish_reason, answer.usage) == ("Hi there.", "stop", (11, 3))
    assert answer.record is None  # measuring the cost is not the transport's concern
    body = endpoint.chat_requests[0].body
    assert body["messages"] == QUESTION
    assert (body["max_tokens"], body["temperature"]) == (50, 0.3)
    assert body["response_format"] == {"type": "json_object"}
    assert body.get("stream", False) is stream


@pytest.mark.parametrize("stream", [True, False])
async def test_an_answer_past_its_bytes_is_cut_and_ends_as_truncated(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, stream: bool
) -> None:
    endpoint.on().reply_text("abcd", repeat=200, omit_usage=True)
    sender = transport(llm_settings, stream=stream, max_tokens=16)
    call = sender.prepare(QUESTION, None)

    answer = await sender.request(call)

    assert sender.answer_bytes == 64
    assert answer.finish_reason == "length"
    assert len(answer.content.encode()) <= 64
    assert answer.estimated_completion <= sender.answer_tokens


async def test_a_server_error_is_retried_after_the_wait_it_asks_for(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on(times=1).fail(503, retry_after=1.5)
    endpoint.on().reply_text("finally")
    sender = transport(llm_settings)

    started = time.monotonic()
    answer = await sender.request(sender.prepare(QUESTION, None))

    assert answer.content == "finally"
    assert len(endpoint.chat_requests) == 2
    assert time.monotonic() - started >= 1.5  # the usual first backoff is at most 0.5s


async def test_a_client_error_is_not_retried_and_reads_as_one_line(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().fail(401, message="bad key\n\n  <html>go away</html>.")
    sender = transport(llm_settings)

    with pytest.raises(LLMStatusError) as raised:
        await sender.request(sender.prepare(QUESTION, None))

    assert raised.value.status == 401
    assert len(endpoint.chat_requests) == 1
    assert str(raised.value) == (
        f"{llm_settings.endpoint} answered HTTP 401 for model 'gpt-4o-mini': "
        "bad key <html>go away</html>. Check OPENAI_API_KEY / llm.api_key."
    )


async def test_the_transport_gives_up_after_its_retries(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().fail(500, retry_after=0)
    sender = transport(llm_settings, max_retries=1)

    with pytest.raises(LLMStatusError, match=r"HTTP 500 .*\(tried 2 times\)"):
        await sender.request(sender.prepare(QUESTION, None))

    assert len(endpoint.chat_requests) == 2


async def test_one_deadline_covers_an_attempt_that_never_answers(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().hang(10)
    sender = transport(llm_settings, timeout=0.5, max_retries=0)

    started = time.monotonic()
    with pytest.raises(LLMError, match=r"did not answer model 'gpt-4o-mini' within 0.5s"):
        await sender.request(sender.prepare(QUESTION, None))

    assert time.monotonic() - started < 3


async def test_an_answer_that_stops_half_way_is_not_sent_again(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    endpoint.on().reply_text("word ", repeat=40, piece_chars=5, interval=0.1)
    sender = transport(llm_settings, timeout=0.6)
    call = sender.prepare(QUESTION, None)

    with pytest.raises(LLMError, match="did not finish the answer"):
        await sender.request(call)

    assert call.received.text.startswith("word ")  # the part that came stays for the bill
    assert len(endpoint.chat_requests) == 1
