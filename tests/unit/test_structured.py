"""Extracting, repairing and validating JSON answers (pure functions, no endpoint)."""

import pytest
from pydantic import BaseModel, ValidationError

from agents.llm.structured import UnreadableOutputError, extract_json, parse_output


class Point(BaseModel):
    x: int
    y: int


@pytest.mark.parametrize(
    "answer",
    [
        '{"x": 1, "y": 2}',
        'Here you go: {"x": 1, "y": 2} -- hope it helps',
        '```json\n{"x": 1, "y": 2}\n```',
        'Thinking...\n```\n{"x": 1, "y": 2,}\n```\nDone.',
        "{'x': 1, 'y': 2}",
        '{"x": 1, "y": 2',
    ],
)
def test_near_json_is_read(answer: str) -> None:
    assert parse_output(answer, Point) == Point(x=1, y=2)


def test_a_fenced_block_that_is_not_json_is_skipped() -> None:
    answer = '```python\nprint("hi")\n```\n```json\n{"x": 3, "y": 4}\n```'
    assert extract_json(answer) == '{"x": 3, "y": 4}'


def test_no_json_at_all_is_unreadable() -> None:
    with pytest.raises(UnreadableOutputError, match="no JSON object"):
        parse_output("I cannot do that.", Point)


def test_wrong_fields_fail_validation() -> None:
    with pytest.raises(ValidationError, match="y"):
        parse_output('{"x": 1}', Point)
