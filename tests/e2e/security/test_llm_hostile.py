"""An endpoint that ignores `max_tokens`, drips, or echoes the key: the LLM layer holds.

Everything goes over real HTTP to the scripted endpoint, through the product's own client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from pathlib import Path

import pytest
from conftest import SECRET_KEY
from lsp_session import editor_session, execute
from pydantic import BaseModel
from scripted_endpoint import ScriptedEndpoint
from test_startup import sopls

from agents import LLM, BudgetExceededError, CostManager, LLMError, LLMSettings
from agents.config import ModelPrice
from agents.errors import OutputTruncatedError, StructuredOutputError
from agents.llm.client import LLMStatusError
from agents.llm.journal import CallJournal

PRICED = {"metered": ModelPrice(prompt=1000, completion=1000)}
FLOOD = "lorem ipsum dolor sit amet "  # 27 characters, 5 words
TEN_MB = 10 * 1024 * 1024
ECHO_401 = (
    "Incorrect API key provided: {api_key}. You can find your API key at "
    "https://platform.openai.com/account/api-keys."
)
OTHER_KEY = "sk-proj-Zq81kLmN0pQrStUvWx42yZ"


class Book(BaseModel):
    title: str
    pages: int


def leaked(*texts: str, keys: tuple[str, ...] = (SECRET_KEY,)) -> list[int]:
    """Which texts hold a key, by position, so that a failure never prints the key itself."""
    return [i for i, text in enumerate(texts) if any(key in text for key in keys)]


def metered(settings: LLMSettings, **changes: object) -> LLM:
    update = {"model": "metered", "max_tokens": 256, **changes}
    return LLM(settings.model_copy(update=update), pricing=PRICED)


@pytest.mark.parametrize("stream", [True, False])
async def test_ten_concurrent_calls_against_a_flood_never_pass_the_investment(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, stream: bool
) -> None:
    # 1.3 MB answers whose (honest) usage would be 250,000 completion tokens each.
    endpoint.on().reply_text(FLOOD, repeat=50_000, piece_chars=4096)
    cost = CostManager()
    llm = LLM(
        llm_settings.model_copy(
            update={"model": "metered", "max_tokens": 256, "stream": stream, "max_concurrency": 4}
        ),
        pricing=PRICED,
        cost=cost,
    )
    cost.investment = 4.5 * llm.upper_cost([{"role": "user", "content": "q0"}])

    results = await asyncio.gather(*(llm.aask(f"q{i}") for i in range(10)), return_exceptions=True)

    truncated = [r for r in results if isinstance(r, OutputTruncatedError)]
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert len(truncated) + len(refused) == 10, results
    assert truncated
    assert cost.spent <= cost.investment
    assert cost.reserved == pytest.approx(0, abs=1e-12)
    assert all(r.completion_tokens <= llm.reserved_completion_tokens for r in cost.records)
    assert len(endpoint.chat_requests) == len(truncated)


@pytest.mark.parametrize("stream", [True, False])
async def test_a_10_mb_answer_is_cut_and_never_re_sent(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, stream: bool
) -> None:
    endpoint.on(schema="Book").reply_text("x", repeat=TEN_MB, piece_chars=64 * 1024)
    llm = metered(llm_settings, stream=stream)
    llm.cost.investment = 3 * llm.upper_cost([{"role": "user", "content": "Recommend a book."}])

    with pytest.raises(OutputTruncatedError, match="cut off"):
        await llm.aask("Recommend a book.", schema=Book, role="Librarian", action="Recommend")

    assert len(endpoint.chat_requests) == 1
    (record,) = llm.cost.records
    assert record.completion_tokens <= llm.reserved_completion_tokens
    assert llm.cost.spent <= llm.cost.investment


@pytest.mark.parametrize("stream", [True, False])
async def test_a_slow_drip_ends_within_the_timeout(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, stream: bool
) -> None:
    # 10 characters every 0.5 s: each read is quick, the whole answer would take a minute.
    endpoint.on().reply_text("0123456789", repeat=120, piece_chars=10, interval=0.5)
    llm = metered(llm_settings, timeout=2.0, max_retries=1, stream=stream)

    started = time.monotonic()
    with pytest.raises(LLMError) as caught:
        await asyncio.wait_for(llm.aask("drip"), 30)
    elapsed = time.monotonic() - started

    message = str(caught.value)
    assert "within 2s" in message
    assert "\n" not in message
    assert llm.cost.reserved == 0
    if stream:
        # Part of the answer came, so it is paid for and counted, and not asked for again.
        assert elapsed < 2 + 2
        assert len(endpoint.chat_requests) == 1
        (record,) = llm.cost.records
        assert record.usage_estimated
        assert record.completion_tokens > 0
    else:
        # Nothing usable came: retried once, each attempt under its own deadline.
        assert elapsed < 2 * 2 + 2
        assert len(endpoint.chat_requests) == 2
        assert "tried 2 times" in message


async def test_an_echoed_key_appears_in_no_error_log_or_file(
    endpoint: ScriptedEndpoint,
    llm_settings: LLMSettings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint.on(contains="echo-mine").fail(401, message=ECHO_401)
    endpoint.on(contains="echo-other").fail(
        401, message=f"Incorrect API key provided: {OTHER_KEY}."
    )
    endpoint.on(schema="Book").reply_text("Your key is {api_key}, not a book.")
    journal = CallJournal(tmp_path / "calls.jsonl")
    llm = LLM(llm_settings.model_copy(update={"max_retries": 0}), journal=journal)
    logger = logging.getLogger("sopls.run")
    errors: list[LLMError] = []
    with caplog.at_level(logging.DEBUG):
        for ask in (llm.aask("echo-mine"), llm.aask("echo-other"), llm.aask("a book", schema=Book)):
            try:
                await ask
            except LLMError as exc:
                logger.debug("run failed: %s", exc, exc_info=True)
                logger.warning("the endpoint said %s", exc.__context__)
                errors.append(exc)

    assert [type(e) for e in errors] == [LLMStatusError, LLMStatusError, StructuredOutputError]
    assert "HTTP 401" in str(errors[0])
    assert "Check OPENAI_API_KEY" in str(errors[0])
    structured = errors[2]
    assert isinstance(structured, StructuredOutputError)
    assert structured.raw_output_path is not None
    texts = [
        caplog.text,
        *(r.getMessage() for r in caplog.records),
        *("".join(traceback.format_exception(e)) for e in errors),
        (tmp_path / "calls.jsonl").read_text(),
        structured.raw_output_path.read_text(),
    ]
    assert leaked(endpoint.chat_requests[0].headers["authorization"]) == [0]
    assert leaked(*texts, keys=(SECRET_KEY, OTHER_KEY)) == []


def test_the_cli_keeps_an_echoed_key_out_of_stderr_and_run_files(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on().fail(401, message=ECHO_401)
    project = tmp_path / "app"

    done = sopls(
        "-vv", "startup", "a word-frequency CLI", "--project-path", str(project),
        endpoint=endpoint, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode != 0
    assert "HTTP 401" in done.stderr
    assert endpoint.chat_requests
    stored = [p.read_text() for p in project.rglob("*") if p.is_file() and ".git/" not in str(p)]
    assert any('"failed"' in text for text in stored)  # run.json is among them
    assert leaked(done.stdout, done.stderr, *stored) == []


async def test_the_editor_never_sees_an_echoed_key(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on().fail(401, message=ECHO_401)
    options = {"llm": {"baseUrl": endpoint.base_url, "apiKey": SECRET_KEY, "maxRetries": 0}}
    async with editor_session(tmp_path, initialization_options=options) as client:
        result = await execute(client, "sopls.generateProject", {"idea": "a word-frequency CLI"})
        runs = await execute(client, "sopls.listRuns", {})
        stored = await execute(client, "sopls.getRun", {"runId": result["runId"]})

    assert result["status"] == "failed"
    assert "HTTP 401" in result["error"]["message"]
    shown = [m.message for m in client.messages]
    assert any("HTTP 401" in m for m in shown)
    files = [p.read_text() for p in (tmp_path / ".sopls").rglob("*") if p.is_file()]
    logged = [m.message for m in client.log_messages]
    assert leaked(json.dumps([result, runs, stored]), *shown, *logged, *files) == []
