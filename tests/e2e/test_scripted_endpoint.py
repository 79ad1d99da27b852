"""The scripted endpoint must look like a real OpenAI-compatible server to the SDK."""

import asyncio
import base64
import json
import signal
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from scripted_endpoint import (
    NO_RULE_MESSAGE,
    Hang,
    Json,
    Match,
    Rule,
    ScriptedEndpoint,
    Text,
    Usage,
)

TESTS_DIR = Path(__file__).resolve().parents[1]
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "say hello to me"}]


@pytest.fixture
async def client(endpoint: ScriptedEndpoint) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=endpoint.base_url, api_key="test", max_retries=0) as sdk:
        yield sdk


async def collect_stream(client: AsyncOpenAI) -> tuple[str, str | None, Any]:
    """Content, finish reason and usage as an SDK user would assemble them."""
    stream = await client.chat.completions.create(
        model="m", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    content, finish_reason, usage = "", None, None
    async for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            finish_reason = choice.finish_reason or finish_reason
        usage = chunk.usage or usage
    return content, finish_reason, usage


def post(url: str, payload: dict[str, Any], timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_text_reply_without_stream_reports_estimated_usage(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    rule = endpoint.on(contains="hello").reply_text("hi there friend")

    completion = await client.chat.completions.create(model="my-model", messages=USER)

    assert completion.object == "chat.completion"
    assert completion.model == "my-model"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "hi there friend"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4 + 4, 3)
    assert completion.usage.total_tokens == 11
    [record] = endpoint.chat_requests
    assert record.rule is rule
    assert record.status == 200
    assert record.body is not None
    assert record.body["model"] == "my-model"
    assert record.headers["authorization"] == "Bearer test"
    assert record.finished is not None
    assert record.finished >= record.started


async def test_text_reply_streams_in_pieces_with_usage_chunk(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    content = "a fairly long answer that needs several stream chunks to arrive"
    endpoint.on(stream=True).reply_text(content, usage=Usage(prompt_tokens=7, completion_tokens=9))

    stream = await client.chat.completions.create(
        model="m", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) == 4
    assert "".join(pieces) == content
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (7, 9)


async def test_stream_without_include_usage_sends_no_usage_chunk(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on().reply_text("short")

    stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]

    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)


async def test_omit_usage_drops_usage_in_both_modes(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on().reply_text("no usage here", omit_usage=True)

    completion = await client.chat.completions.create(model="m", messages=USER)
    content, finish_reason, usage = await collect_stream(client)

    assert completion.choices[0].message.content == "no usage here"
    status, raw = post(f"{endpoint.base_url}/chat/completions", {"model": "m", "messages": USER})

    assert completion.usage is None
    assert (status, "usage" in raw) == (200, False)
    assert (content, finish_reason, usage) == ("no usage here", "stop", None)


async def test_json_reply_matched_by_json_schema_name(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on(schema="Other").reply_json({"wrong": True})
    endpoint.on(schema="Prd").reply_json({"title": "PRD", "goals": ["a", "b"]})

    completion = await client.chat.completions.create(
        model="m",
        messages=USER,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Prd", "schema": {"type": "object"}},
        },
    )

    assert json.loads(completion.choices[0].message.content or "") == {
        "title": "PRD",
        "goals": ["a", "b"],
    }


async def test_json_reply_matched_by_json_object_schema_title(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on(schema="Design").reply_json({"components": []})

    response_format = {"type": "json_object", "schema": {"title": "Design", "type": "object"}}

    completion = await client.chat.completions.create(
        model="m", messages=USER, extra_body={"response_format": response_format}
    )

    assert json.loads(completion.choices[0].message.content or "") == {"components": []}


async def test_json_reply_matched_by_schema_title_in_prompt(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on(schema="TaskList").reply_json({"tasks": ["write code"]})
    schema_text = json.dumps({"title": "TaskList", "type": "object"}, indent=2)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": f"Answer with JSON matching this schema:\n{schema_text}"},
        *USER,
    ]

    completion = await client.chat.completions.create(model="m", messages=messages)

    assert json.loads(completion.choices[0].message.content or "") == {"tasks": ["write code"]}
    assert Match(schema="tasklist").matches({"messages": messages}) is False


async def test_a_rule_can_ask_for_the_api_key_the_request_presents(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on(api_key="the-right-key").reply_text("welcome")
    endpoint.on().fail(401, message="key {api_key} is not known")

    with pytest.raises(openai.AuthenticationError, match="key test is not known"):
        await client.chat.completions.create(model="m", messages=USER)
    async with AsyncOpenAI(
        base_url=endpoint.base_url, api_key="the-right-key", max_retries=0
    ) as right:
        completion = await right.chat.completions.create(model="m", messages=USER)

    assert completion.choices[0].message.content == "welcome"


async def test_exhausted_rule_falls_through_to_next(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    first = endpoint.on(times=2).reply_text("first")
    second = endpoint.on().reply_text("second")

    answers = [
        (await client.chat.completions.create(model="m", messages=USER)).choices[0].message.content
        for _ in range(4)
    ]

    assert answers == ["first", "first", "second", "second"]
    assert (first.used, second.used) == (2, 2)
    assert [r.rule for r in endpoint.chat_requests] == [first, first, second, second]


async def test_other_match_conditions(endpoint: ScriptedEndpoint, client: AsyncOpenAI) -> None:
    endpoint.on(model="big").reply_text("by model")
    endpoint.on(system_contains="architect").reply_text("by system")
    endpoint.on(predicate=lambda body: body.get("temperature") == 0.5).reply_text("by predicate")
    endpoint.on().reply_text("fallback")

    async def ask(
        model: str = "small",
        messages: list[ChatCompletionMessageParam] = USER,
        temperature: float = 1.0,
    ) -> str | None:
        completion = await client.chat.completions.create(
            model=model, messages=messages, temperature=temperature
        )
        return completion.choices[0].message.content

    system: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are an architect."},
        *USER,
    ]
    assert await ask(model="big") == "by model"
    assert await ask(messages=system) == "by system"
    assert await ask(temperature=0.5) == "by predicate"
    assert await ask() == "fallback"
    models = await client.models.list()
    assert {m.id for m in models.data} == {"scripted-model", "big"}


async def test_fault_429_exposes_retry_after(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on(times=1).fail(429, retry_after=0.2, message="slow down")

    with pytest.raises(openai.RateLimitError) as raised:
        await client.chat.completions.create(model="m", messages=USER)

    assert raised.value.response.headers["retry-after"] == "0.2"
    assert raised.value.status_code == 429
    assert "slow down" in raised.value.message
    assert endpoint.chat_requests[0].status == 429


async def test_refuse_json_schema_answers_400_before_rules(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.refuse_json_schema = True
    rule = endpoint.on().reply_json({"ok": True})

    with pytest.raises(openai.BadRequestError) as raised:
        await client.chat.completions.create(
            model="m",
            messages=USER,
            response_format={"type": "json_schema", "json_schema": {"name": "X", "schema": {}}},
        )
    completion = await client.chat.completions.create(
        model="m", messages=USER, response_format={"type": "json_object"}
    )

    assert raised.value.body == {
        "code": 400,
        "message": "response_format type json_schema is not supported",
        "type": "invalid_request_error",
    }
    assert completion.choices[0].message.content == '{"ok": true}'
    refused, answered = endpoint.chat_requests
    assert (refused.status, refused.rule) == (400, None)
    assert answered.rule is rule
    assert endpoint.unmatched == []


async def test_unmatched_request_gets_400_and_is_recorded(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on(contains="something else").reply_text("never")

    with pytest.raises(openai.BadRequestError) as raised:
        await client.chat.completions.create(model="m", messages=USER)

    assert NO_RULE_MESSAGE in raised.value.message
    [record] = endpoint.unmatched
    assert record.status == 400
    assert record.rule is None
    assert record.body is not None
    assert record.body["messages"] == USER
    assert endpoint.requests == [record]


async def test_truncated_reply_finishes_with_length(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on().truncate('{"partial": ')

    completion = await client.chat.completions.create(model="m", messages=USER)
    content, finish_reason, usage = await collect_stream(client)

    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == '{"partial": '
    assert (content, finish_reason) == ('{"partial": ', "length")
    assert usage is not None


async def test_a_repeated_answer_streams_in_pieces_of_the_chosen_size(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on().reply_text("ab", repeat=5_000, piece_chars=1_000, omit_usage=True)

    stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
    pieces = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
    completion = await client.chat.completions.create(model="m", messages=USER)

    assert [len(p) for p in pieces] == [1_000] * 10
    assert "".join(pieces) == completion.choices[0].message.content == "ab" * 5_000


@pytest.mark.parametrize("stream", [True, False])
async def test_a_drip_sends_its_pieces_an_interval_apart(
    endpoint: ScriptedEndpoint, stream: bool
) -> None:
    piece = 10 if stream else 100  # characters of content, or bytes of the JSON body
    endpoint.on().reply_text("0123456789", repeat=4, piece_chars=piece, interval=0.3)
    url = f"{endpoint.base_url}/chat/completions"
    body = json.dumps({"model": "m", "messages": USER, "stream": stream}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})

    def arrivals() -> tuple[list[float], bytes]:
        began = time.monotonic()
        times, data = [], b""
        with urllib.request.urlopen(request, timeout=5) as response:
            for chunk in iter(lambda: response.read1(), b""):
                times.append(time.monotonic() - began)
                data += chunk
        return times, data

    times, data = await asyncio.to_thread(arrivals)

    # A busy reader may take two pieces in one read, so the pieces are counted from what was
    # sent: the events when streaming, the body's length in 100-byte pieces otherwise.
    pieces = data.count(b"data: {") if stream else -(-len(data) // piece)
    assert pieces >= 3
    assert len(times) >= 2
    assert times[-1] >= 0.3 * (pieces - 1) - 0.05  # the pieces came 0.3 s apart


async def test_a_fault_and_an_answer_can_echo_the_presented_key(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.on(times=1).fail(401, message="Incorrect API key provided: {api_key}.")
    endpoint.on().reply_text("you sent {api_key}")

    with pytest.raises(openai.AuthenticationError) as raised:
        await client.chat.completions.create(model="m", messages=USER)
    completion = await client.chat.completions.create(model="m", messages=USER)

    assert raised.value.body == {
        "message": "Incorrect API key provided: test.",
        "type": "authentication_error",
        "code": 401,
    }
    assert completion.choices[0].message.content == "you sent test"


async def test_hang_times_out_client_and_stop_is_quick() -> None:
    endpoint = ScriptedEndpoint([Rule(reply=Hang(30.0))]).start()
    try:
        async with AsyncOpenAI(
            base_url=endpoint.base_url, api_key="test", timeout=0.5, max_retries=0
        ) as client:
            began = time.monotonic()
            with pytest.raises(openai.APITimeoutError):
                await client.chat.completions.create(model="m", messages=USER)
            assert time.monotonic() - began < 3.0
    finally:
        began = time.monotonic()
        endpoint.stop()
        assert time.monotonic() - began < 1.0
    [record] = endpoint.requests
    assert record.status == 0


async def test_max_in_flight_counts_concurrent_requests(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    endpoint.add(Rule(reply=Text("slow", delay=0.4)))

    await asyncio.gather(
        *(client.chat.completions.create(model="m", messages=USER) for _ in range(3))
    )
    await client.chat.completions.create(model="m", messages=USER)

    assert endpoint.max_in_flight == 3
    assert len(endpoint.chat_requests) == 4


async def test_embeddings_are_deterministic_and_honour_dimensions(
    endpoint: ScriptedEndpoint, client: AsyncOpenAI
) -> None:
    first = await client.embeddings.create(model="e", input=["alpha", "beta"])
    again = await client.embeddings.create(model="e", input="alpha", encoding_format="float")
    wide = await client.embeddings.create(model="e", input="alpha", dimensions=40)

    alpha, beta = first.data[0].embedding, first.data[1].embedding
    assert len(alpha) == 8
    assert again.data[0].embedding == pytest.approx(alpha, abs=1e-6)
    assert alpha != beta
    assert len(wide.data[0].embedding) == 40
    assert sum(v * v for v in wide.data[0].embedding) == pytest.approx(1.0, abs=1e-4)
    assert first.usage.prompt_tokens == 2
    status, raw = post(f"{endpoint.base_url}/embeddings", {"input": "alpha", "dimensions": 3})
    assert status == 200
    assert len(raw["data"][0]["embedding"]) == 3
    packed = base64.b64decode(
        post(f"{endpoint.base_url}/embeddings", {"input": "x", "encoding_format": "base64"})[1][
            "data"
        ][0]["embedding"]
    )
    assert len(struct.unpack("<8f", packed)) == 8


def test_sync_use_and_json_script_loading(tmp_path: Path) -> None:
    script = tmp_path / "rules.json"
    rule = Rule(match=Match(schema="Plan"), reply=Json({"steps": 1}), times=1)
    script.write_text(json.dumps({"rules": [rule.model_dump(mode="json")]}))
    body = {"model": "m", "messages": [{"role": "user", "content": '{"title": "Plan"}'}]}
    with ScriptedEndpoint() as endpoint:
        [loaded] = endpoint.load_script(script)

        first = post(f"{endpoint.base_url}/chat/completions", body)
        second = post(f"{endpoint.base_url}/chat/completions", body)

        assert loaded.match.schema_ == "Plan"
        assert first[0] == 200
        assert json.loads(first[1]["choices"][0]["message"]["content"]) == {"steps": 1}
        assert second[0] == 400
        endpoint.reset()
        assert endpoint.requests == []
        assert endpoint.rules == []


def test_main_entry_point_serves_script_until_sigterm(tmp_path: Path) -> None:
    script = tmp_path / "rules.json"
    rules = [
        {"match": {"contains": "ping"}, "reply": {"kind": "text", "content": "pong"}},
        {"match": {"contains": "wait"}, "reply": {"kind": "hang", "seconds": 30}},
    ]
    script.write_text(json.dumps(rules))
    with subprocess.Popen(
        [sys.executable, str(TESTS_DIR / "scripted_endpoint"), "--script", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:")
            assert base_url.endswith("/v1")

            status, reply = post(
                f"{base_url}/chat/completions",
                {"model": "m", "messages": [{"role": "user", "content": "ping"}]},
            )

            assert status == 200
            assert reply["choices"][0]["message"]["content"] == "pong"
            with pytest.raises(TimeoutError):
                post(
                    f"{base_url}/chat/completions",
                    {"model": "m", "messages": [{"role": "user", "content": "wait"}]},
                    timeout=0.3,
                )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
            assert process.stdout.read() == ""
            assert process.stderr is not None
            assert process.stderr.read() == ""
        finally:
            if process.poll() is None:
                process.kill()
