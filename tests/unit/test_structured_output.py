"""Reading a JSON document out of a model's answer: the answer is hostile input, so what looks
like a fence, a brace or a control character is only structure where JSON says it is."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import BaseModel

from agents.company.documents import PRD
from agents.llm.structured import UnreadableOutputError, extract_json, parse_output


class Note(BaseModel):
    x: int
    note: str


def prd_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "language": "en_us",
        "programming_language": "Python",
        "original_requirement": "a command line tool that converts temperatures",
        "project_name": "temperature_converter",
        "product_goals": ["Convert between Celsius and Fahrenheit"],
        "user_stories": ["As a user I convert 100C", "As a user I convert 212F", "As a user I"],
        "competitive_analysis": ["A: good", "B: bad", "C: slow", "D: fast", "E: old"],
        "competitive_quadrant_chart": "quadrantChart\n    title Reach",
        "requirement_analysis": "Two formulas.",
        "requirement_pool": [{"priority": "P0", "description": "convert"}],
        "ui_design_draft": "one command",
    }
    return fields | changes


def test_a_fence_inside_a_string_of_a_whole_json_answer_is_content() -> None:
    draft = 'Run it like this:\n```json\n{"celsius": 100}\n```\nand it prints 212.'
    # As llama.cpp's grammar-constrained answers come: raw line breaks inside the strings.
    answer = json.dumps(prd_fields(ui_design_draft="@"), indent=2).replace('"@"', f'"{draft}"')
    assert "\n```json\n" in answer

    prd = parse_output(answer, PRD)

    assert prd.ui_design_draft == draft
    assert prd.project_name == "temperature_converter"


def test_raw_control_characters_inside_strings_are_kept() -> None:
    note = "first line\n\tindented {brace} [bracket]\n"
    answer = '{\n  "x": 1,\n  "note": "' + note + '"\n}'

    assert extract_json(answer) == answer.strip()
    assert parse_output(answer, Note) == Note(x=1, note=note)


def test_prose_around_a_fenced_block_whose_string_holds_a_fence_marker() -> None:
    answer = 'Here:\n```json\n{"x": 1, "note": "wrap code in ``` fences"}\n```\nAnything else?'

    assert parse_output(answer, Note) == Note(x=1, note="wrap code in ``` fences")


def test_a_fence_after_an_object_counts_only_outside_its_strings() -> None:
    draft = '{"x": 0, "note": "draft:\n```json\n{\\"x\\": 9}\n```"}'
    answer = f'I first wrote {draft}, then:\n```json\n{{"x": 2, "note": "ok"}}\n```\nDone.'

    assert extract_json(answer) == '{"x": 2, "note": "ok"}'


def test_prose_before_bare_json_that_holds_brackets() -> None:
    answer = 'Step [1] is done, so: {"x": 1, "note": "see [2]"}'

    assert parse_output(answer, Note) == Note(x=1, note="see [2]")


def test_trailing_prose_with_braces_is_not_part_of_the_json() -> None:
    answer = '{"x": 1, "note": "ok"}\nIn Python a set looks like {1, 2} and a list like [1].'

    assert extract_json(answer) == '{"x": 1, "note": "ok"}'
    assert parse_output(answer, Note) == Note(x=1, note="ok")


def test_an_answer_cut_off_inside_a_string_is_repaired_from_its_start() -> None:
    answer = 'Sure: {"x": 1, "note": "a } and ``` inside'

    assert parse_output(answer, Note) == Note(x=1, note="a } and ``` inside")


def test_an_array_answer_is_no_object_even_when_a_string_holds_one() -> None:
    answer = '[{"x": 1, "note": "an example:\n```json\n{\\"x\\": 2, \\"note\\": \\"y\\"}\n```"}]'

    with pytest.raises(UnreadableOutputError, match="no JSON object"):
        parse_output(answer, Note)


@pytest.mark.parametrize(
    "answer",
    [
        "[" * 200_000,
        '{"x": ' * 200_000,
        '{"x": 1, "note": "", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["open-arrays", "open-objects", "closed-but-deep"],
)
def test_huge_or_deeply_nested_answers_give_a_clear_error(answer: str) -> None:
    started = time.monotonic()

    with pytest.raises(UnreadableOutputError, match="nested too deeply"):
        parse_output(answer, Note)

    assert time.monotonic() - started < 10


def test_a_huge_answer_is_read_in_time() -> None:
    note = "[{ ```json\n" * 200_000
    answer = '{"x": 1, "note": "' + note + '"}' + "]}" * 100_000
    started = time.monotonic()

    assert parse_output(answer, Note).note == note
    assert time.monotonic() - started < 10
