"""The company's SOP in process: reviews, QA's fix loop, summaries, concurrency, the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from company_script import COUNTER, DESIGN, MAIN, TASKS, fenced, script_company
from conftest import SECRET_KEY
from scripted_endpoint import ScriptedEndpoint

from agents.config import LLMSettings, Settings
from agents.framework.context import Context
from agents.runs.run import execute
from agents.runs.run_state import RunFolder, RunOptions, RunRecord

COUNTER_V2 = COUNTER.replace('"""Counting words."""', '"""Counting words, reviewed."""')
COUNTER_BUGGY = COUNTER.replace("text.lower()", "text")


async def run_company(
    llm_settings: LLMSettings, tmp_path: Path, **options: object
) -> tuple[RunRecord, Context]:
    settings = Settings(llm=llm_settings)
    run_options = RunOptions(idea="a word-frequency CLI", **options)
    folder, record = RunFolder.create(tmp_path, run_options)
    return await execute(folder, record, settings)


def requests_containing(endpoint: ScriptedEndpoint, text: str) -> list[dict]:
    return [
        r.body
        for r in endpoint.chat_requests
        if any(text in m["content"] for m in r.body["messages"])
    ]


async def test_lbtm_review_leads_to_a_rewritten_file(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    endpoint.on(schema="CodeReview", contains="The file `wordfreq/counter.py`", times=1).reply_json(
        {"verdict": "LBTM", "issues": ["the module docstring must say it was reviewed"]}
    )
    endpoint.on(contains="## Review comments").reply_text(fenced("wordfreq/counter.py", COUNTER_V2))
    script_company(endpoint)

    record, context = await run_company(llm_settings, tmp_path)

    assert record.status == "completed"
    assert context.proposal.text_of("wordfreq/counter.py") == COUNTER_V2
    (rewrite,) = requests_containing(endpoint, "## Review comments")
    prompt = rewrite["messages"][-1]["content"]
    assert "the module docstring must say it was reviewed" in prompt
    assert '"""Counting words."""' in prompt  # the rewrite sees the current version
    reviews = requests_containing(endpoint, "The file `wordfreq/counter.py`")
    assert len(reviews) == 2  # LBTM, then LGTM on the rewrite


async def test_no_code_review_skips_reviews(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    script_company(endpoint)
    record, _ = await run_company(llm_settings, tmp_path, code_review=False)
    assert record.status == "completed"
    assert not [r for r in endpoint.chat_requests if "CodeReview" in str(r.body)]


async def test_a_failing_test_goes_back_to_the_engineer_and_then_passes(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    endpoint.on(contains="## Debug logs").reply_text(fenced("wordfreq/counter.py", COUNTER))
    endpoint.on(contains="Write the complete file `wordfreq/counter.py`").reply_text(
        fenced("wordfreq/counter.py", COUNTER_BUGGY)
    )
    endpoint.on(schema="DebugVerdict").reply_json(
        {
            "blame": "code",
            "fixes": [{"path": "wordfreq/counter.py", "debug_logs": "count_words must lower-case"}],
        }
    )
    script_company(endpoint)

    record, context = await run_company(llm_settings, tmp_path, run_tests=True, n_round=10)

    assert record.status == "completed"
    assert context.proposal.text_of("wordfreq/counter.py") == COUNTER
    (diagnosis,) = requests_containing(endpoint, "## The test run")
    assert "assert 1 == 2" in diagnosis["messages"][-1]["content"]  # the real pytest output
    (fix,) = requests_containing(endpoint, "## Debug logs")
    assert "count_words must lower-case" in fix["messages"][-1]["content"]
    assert "**Result:** passed" in (context.proposal.text_of("docs/test_report.md") or "")


@pytest.mark.parametrize(("limit", "summaries", "rewrites"), [(0, 1, 0), (1, 2, 1), (-1, 3, 2)])
async def test_summary_rounds_respect_max_auto_summarize_code(
    endpoint: ScriptedEndpoint,
    llm_settings: LLMSettings,
    tmp_path: Path,
    limit: int,
    summaries: int,
    rewrites: int,
) -> None:
    endpoint.on(schema="CodeSummary", times=2).reply_json(
        {"summary": "s", "todos": [{"path": "main.py", "todo": "print a header line"}]}
    )
    endpoint.on(contains="## Summary TODOs").reply_text(fenced("main.py", MAIN))
    script_company(endpoint)

    record, _ = await run_company(
        llm_settings, tmp_path, max_auto_summarize_code=limit, code_review=False
    )

    assert record.status == "completed"
    assert len([r for r in endpoint.chat_requests if "CodeSummary" in str(r.body)]) == summaries
    assert len(requests_containing(endpoint, "## Summary TODOs")) == rewrites


def summaries(endpoint: ScriptedEndpoint) -> list:
    return [r for r in endpoint.chat_requests if "CodeSummary" in str(r.body)]


async def test_the_summary_starts_while_the_last_review_goes_on(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    endpoint.on(schema="CodeReview").reply_json({"verdict": "LGTM", "issues": []}, delay=0.5)
    script_company(endpoint)

    record, _ = await run_company(llm_settings, tmp_path)

    assert record.status == "completed"
    last_review = max(
        (r for r in endpoint.chat_requests if "CodeReview" in str(r.body)),
        key=lambda r: r.finished,
    )
    (summary,) = summaries(endpoint)
    assert summary.started < last_review.finished - 0.3


async def test_a_review_that_rewrites_a_file_makes_the_summary_read_it_again(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    main_v2 = MAIN.replace("def main(", "# reviewed\ndef main(")
    endpoint.on(schema="CodeReview", contains="The file `main.py`", times=1).reply_json(
        {"verdict": "LBTM", "issues": ["mark it reviewed"]}, delay=0.5
    )
    endpoint.on(contains="## Review comments").reply_text(fenced("main.py", main_v2))
    script_company(endpoint)

    record, context = await run_company(llm_settings, tmp_path)

    assert record.status == "completed"
    assert context.proposal.text_of("main.py") == main_v2
    early, final = summaries(endpoint)
    assert "# reviewed" not in str(early.body)
    assert "# reviewed" in str(final.body)


async def test_independent_files_are_written_concurrently_with_interfaces_only(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    design = {**DESIGN, "file_list": ["alpha.py", "beta.py", "main.py"]}
    tasks = {
        **TASKS,
        "logic_analysis": [
            {"path": "alpha.py", "holds": "count_words", "uses": []},
            {"path": "beta.py", "holds": "top_words", "uses": []},
            {"path": "main.py", "holds": "the CLI", "uses": ["alpha.py", "beta.py"]},
        ],
        "task_list": ["alpha.py", "beta.py", "main.py"],
    }
    endpoint.on(schema="SystemDesign").reply_json(design)
    endpoint.on(schema="TaskList").reply_json(tasks)
    for name in ("alpha.py", "beta.py", "main.py"):
        endpoint.on(contains=f"Write the complete file `{name}`").reply_text(
            fenced(name, COUNTER), delay=0.5
        )
    script_company(endpoint)

    record, _ = await run_company(llm_settings, tmp_path, code_review=False)

    assert record.status == "completed"

    def write_of(name: str):
        (found,) = [
            r
            for r in endpoint.chat_requests
            if f"Write the complete file `{name}`" in r.body["messages"][-1]["content"]
        ]
        return found

    alpha, beta, main = write_of("alpha.py"), write_of("beta.py"), write_of("main.py")
    assert alpha.started < beta.finished
    assert beta.started < alpha.finished
    assert main.started >= max(alpha.finished, beta.finished) - 0.05  # after its dependencies
    prompt = main.body["messages"][-1]["content"]
    assert "def count_words(text: str) -> Counter:" in prompt
    assert "### `alpha.py`" in prompt
    assert "### `beta.py`" in prompt
    assert "re.findall" not in prompt  # interfaces, not bodies


async def test_a_test_that_sleeps_forever_is_stopped_and_reported(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    forever = "import time\n\n\ndef test_forever():\n    time.sleep(1000)\n"
    endpoint.on(contains="Write `tests/test_wordfreq_counter.py`").reply_text(
        fenced("tests/test_wordfreq_counter.py", forever)
    )
    script_company(endpoint)

    record, context = await run_company(
        llm_settings, tmp_path, run_tests=True, test_timeout=3, code_review=False
    )

    assert record.status == "completed"
    report = context.proposal.text_of("docs/test_report.md") or ""
    assert "stopped at the time limit" in report
    assert not [r for r in endpoint.chat_requests if "DebugVerdict" in str(r.body)]


async def test_generated_tests_cannot_see_the_api_key(
    endpoint: ScriptedEndpoint,
    llm_settings: LLMSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    spy = (
        "import os\n\n\ndef test_env():\n"
        '    print("KEY=", os.environ.get("OPENAI_API_KEY"))\n'
        "    assert False\n"
    )
    endpoint.on(contains="Write `tests/test_wordfreq_counter.py`").reply_text(
        fenced("tests/test_wordfreq_counter.py", spy)
    )
    script_company(endpoint)

    record, context = await run_company(
        llm_settings, tmp_path, run_tests=True, max_test_rounds=1, code_review=False
    )

    report = context.proposal.text_of("docs/test_report.md") or ""
    assert "KEY= None" in report
    assert SECRET_KEY not in report
    assert record.status == "completed"


async def test_empty_file_list_entries_are_skipped(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings, tmp_path: Path
) -> None:
    endpoint.on(schema="SystemDesign").reply_json(
        {**DESIGN, "file_list": [*DESIGN["file_list"], "", "  "]}
    )
    script_company(endpoint)

    record, context = await run_company(llm_settings, tmp_path, code_review=False)

    assert record.status == "completed"
    assert record.file_errors == {}
    assert context.proposal.text_of("main.py") == MAIN
