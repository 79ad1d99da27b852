"""Scripted answers that play every role of the company for a small word-frequency CLI."""

from __future__ import annotations

from typing import Any

from scripted_endpoint import ScriptedEndpoint

PRD = {
    "language": "en_us",
    "programming_language": "Python",
    "original_requirement": "a word-frequency CLI",
    "project_name": "word_freq",
    "product_goals": ["Count words fast", "Readable output"],
    "user_stories": [
        "As a writer, I want word counts so that I can spot repetition",
        "As a student, I want the top words so that I can summarise a text",
        "As a developer, I want a CLI so that I can script it",
    ],
    "competitive_analysis": [
        "wc: fast; no per-word counts",
        "awk one-liners: flexible; cryptic",
        "Python Counter: simple; needs code",
        "Online counters: easy; upload text",
        "Voyant: rich; heavy",
    ],
    "competitive_quadrant_chart": 'title Reach\nquadrant-1 Leaders\n"wc": [0.3, 0.6]',
    "requirement_analysis": "Read a file, count words case-insensitively, print the top N.",
    "requirement_pool": [
        {"priority": "P0", "description": "count words"},
        {"priority": "P1", "description": "top N option"},
    ],
    "ui_design_draft": "`word_freq FILE --top 3` prints `word count` lines.",
    "anything_unclear": "",
}

DESIGN = {
    "implementation_approach": "Standard library only: collections.Counter and argparse.",
    "file_list": ["wordfreq/counter.py", "main.py"],
    "entry_point": "main.py",
    "data_structures_and_interfaces": "classDiagram\n  class Counter",
    "program_call_flow": "sequenceDiagram\n  main->>counter: top_words(text, n)",
    "anything_unclear": "",
}

TASKS = {
    "required_packages": [],
    "logic_analysis": [
        {"path": "wordfreq/counter.py", "holds": "count_words and top_words", "uses": []},
        {"path": "main.py", "holds": "the CLI", "uses": ["wordfreq/counter.py"]},
    ],
    "task_list": ["wordfreq/counter.py", "main.py"],
    "shared_knowledge": "Words are lower-cased runs of letters.",
}

COUNTER = '''"""Counting words."""

import re
from collections import Counter


def count_words(text: str) -> Counter:
    """Lower-cased word counts of `text`."""
    return Counter(re.findall(r"[a-z]+", text.lower()))


def top_words(text: str, n: int) -> list[tuple[str, int]]:
    """The `n` most common words, most common first."""
    return count_words(text).most_common(n)
'''

MAIN = '''"""The word-frequency command line."""

import argparse
from pathlib import Path

from wordfreq.counter import top_words


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    for word, count in top_words(Path(args.file).read_text(), args.top):
        print(word, count)


if __name__ == "__main__":
    main()
'''

COUNTER_TEST = """from wordfreq.counter import count_words, top_words


def test_counts_ignore_case():
    assert count_words("A a b")["a"] == 2


def test_top_words_order():
    assert top_words("b a b c b a", 2) == [("b", 3), ("a", 2)]
"""

MAIN_TEST = """from main import main


def test_prints_top_words(tmp_path, capsys):
    path = tmp_path / "t.txt"
    path.write_text("x y x")
    main([str(path), "--top", "1"])
    assert capsys.readouterr().out == "x 2\\n"
"""


def fenced(path: str, code: str) -> str:
    return f"Here is the file.\n```python {path}\n{code}```\n"


def script_company(endpoint: ScriptedEndpoint, **reply: Any) -> None:
    """Rules for the whole SOP; tests add rules before these to change one step.

    `reply` (e.g. `delay`, `usage`) applies to every answer.
    """
    endpoint.on(schema="PRD").reply_json(PRD, **reply)
    endpoint.on(schema="SystemDesign").reply_json(DESIGN, **reply)
    endpoint.on(schema="TaskList").reply_json(TASKS, **reply)
    endpoint.on(schema="CodeReview").reply_json({"verdict": "LGTM", "issues": []}, **reply)
    endpoint.on(schema="CodeSummary").reply_json(
        {"summary": "A CLI over a counter module.", "todos": []}, **reply
    )
    endpoint.on(contains="Write the complete file `wordfreq/counter.py`").reply_text(
        fenced("wordfreq/counter.py", COUNTER), **reply
    )
    endpoint.on(contains="Write the complete file `main.py`").reply_text(
        fenced("main.py", MAIN), **reply
    )
    endpoint.on(contains="Write `tests/test_wordfreq_counter.py`").reply_text(
        fenced("tests/test_wordfreq_counter.py", COUNTER_TEST), **reply
    )
    endpoint.on(contains="Write `tests/test_main.py`").reply_text(
        fenced("tests/test_main.py", MAIN_TEST), **reply
    )
