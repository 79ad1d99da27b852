"""Search/replace edit blocks: parsing the model's answer and applying it to a file."""

import pytest

import prompts
from agents.edits.block_parser import EditBlock, EditFormatError, parse_blocks
from agents.edits.edit_blocks import BlockFailure, apply_blocks, retry_message
from agents.errors import SoplsError

SOURCE = """\
import os


def greet(name):
    return "hello " + name


def main():
    print(greet(os.getlogin()))
"""


def block(search: str, replace: str, path: str | None = "app/x.py") -> str:
    """An answer's block as the model writes it."""
    head = f"{path}\n" if path is not None else ""
    return f"{head}<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def edit(text: str, answer: str, path: str = "app/x.py"):
    return apply_blocks(text, parse_blocks(answer), path=path)


def test_exact_replace() -> None:
    answer = block('    return "hello " + name\n', '    return f"hello {name}"\n')
    result = edit(SOURCE, answer)
    assert result.applied == 1
    assert result.failures == []
    assert result.text == SOURCE.replace('"hello " + name', 'f"hello {name}"')


def test_parsed_block_keeps_path_search_and_replace() -> None:
    assert parse_blocks(block("a\nb\n", "c\n")) == [EditBlock("app/x.py", "a\nb\n", "c\n")]


def test_two_blocks_apply_in_sequence() -> None:
    first = block("def greet(name):\n", "def greet(name, punctuation):\n")
    # The second quotes a line the first one wrote.
    second = block("def greet(name, punctuation):\n", "def greet(name, punctuation='!'):\n")
    result = edit(SOURCE, first + "\n" + second)
    assert result.applied == 2
    assert "def greet(name, punctuation='!'):\n" in result.text
    assert "def greet(name):" not in result.text


def test_empty_search_appends_to_the_end() -> None:
    result = edit(SOURCE, block("", '\nif __name__ == "__main__":\n    main()\n'))
    assert result.applied == 1
    assert result.text == SOURCE + '\nif __name__ == "__main__":\n    main()\n'


def test_append_to_a_file_without_final_newline() -> None:
    result = edit("a = 1", block("", "b = 2\n"))
    assert result.text == "a = 1\nb = 2\n"


def test_block_inside_a_fence_with_prose_around() -> None:
    change = block('    return "hello " + name\n', '    return "hi " + name\n')
    answer = (
        "I will make the greeting friendlier.\n\n```python\n"
        + change
        + "```\n\nThat is the only change needed.\n"
    )
    [parsed] = parse_blocks(answer)
    assert parsed == EditBlock(
        "app/x.py", '    return "hello " + name\n', '    return "hi " + name\n'
    )
    assert '"hi " + name' in apply_blocks(SOURCE, [parsed], path="app/x.py").text


def test_path_line_before_the_fence() -> None:
    answer = "app/x.py\n```python\n" + block("import os\n", "import sys\n", path=None) + "```\n"
    assert parse_blocks(answer)[0].path == "app/x.py"


@pytest.mark.parametrize("line", ["`app/x.py`", "**app/x.py**", "**`app/x.py`**:", "### app/x.py"])
def test_decorated_path_line(line: str) -> None:
    [parsed] = parse_blocks(f"{line}\n" + block("import os\n", "import sys\n", path=None))
    assert parsed.path == "app/x.py"


def test_no_path_line_applies_to_the_asked_file() -> None:
    answer = "Here is the change:\n" + block("import os\n", "import sys\n", path=None)
    [parsed] = parse_blocks(answer)
    assert parsed.path is None
    result = apply_blocks(SOURCE, [parsed], path="app/x.py")
    assert result.applied == 1
    assert result.text.startswith("import sys\n")


def test_leading_dot_slash_names_the_same_file() -> None:
    result = edit(SOURCE, block("import os\n", "import sys\n", path="./app/x.py"))
    assert result.applied == 1


NESTED = """\
class Greeter:
    def greet(self, name):
        if name:
            return "hello " + name
        return "hello"
"""


def test_search_without_indentation_matches_indented_code_and_replace_is_reindented() -> None:
    search = 'if name:\n    return "hello " + name\n'
    replace = 'if name:\n    name = name.strip()\n    return "hello " + name\n'
    result = edit(NESTED, block(search, replace))
    assert result.failures == []
    assert result.text == NESTED.replace(
        '            return "hello " + name\n',
        '            name = name.strip()\n            return "hello " + name\n',
    )


def test_search_with_too_much_indentation_is_shifted_back() -> None:
    search = "            def greet(self, name):\n"
    replace = "            def greet(self, name: str) -> str:\n"
    result = edit(NESTED, block(search, replace))
    assert "\n    def greet(self, name: str) -> str:\n" in result.text


def test_trailing_whitespace_differences_are_ignored() -> None:
    text = "a = 1   \n\t\nb = 2\n"
    result = edit(text, block("a = 1\n\nb = 2\n", "a = 1\nb = 3\n"))
    assert result.failures == []
    assert result.text == "a = 1\nb = 3\n"


def test_tabs_in_search_match_spaces_in_the_file() -> None:
    search = 'def greet(self, name):\n\tif name:\n\t\treturn "hello " + name\n'
    replace = 'def greet(self, name):\n\tif name:\n\t\treturn "hi " + name\n'
    result = edit(NESTED, block(search, replace))
    assert result.failures == []
    assert result.text == NESTED.replace('"hello " + name', '"hi " + name')


def test_spaces_in_search_match_tabs_in_the_file() -> None:
    text = "def f():\n\tif x:\n\t\treturn 1\n\treturn 0\n"
    result = edit(text, block("if x:\n    return 1\n", "if x:\n    return 2\n"))
    assert result.failures == []
    assert result.text == "def f():\n\tif x:\n\t\treturn 2\n\treturn 0\n"


def test_tabs_take_the_width_of_a_two_space_file() -> None:
    text = "class A:\n  def f(self):\n    pass\n"
    replace = "\tdef f(self):\n\t\treturn 1\n"
    result = edit(text, block("\tdef f(self):\n\t\tpass\n", replace))
    assert result.text == "class A:\n  def f(self):\n    return 1\n"
    result = edit(text, block("\tdef f(self):\n", replace + "\tdef g(self):\n"))
    assert result.text == "class A:\n  def f(self):\n    return 1\n  def g(self):\n    pass\n"


def test_inconsistent_indentation_does_not_match() -> None:
    result = edit(NESTED, block('if name:\nreturn "hello " + name\n', "pass\n"))
    assert result.applied == 0
    assert "matches nowhere" in result.failures[0].reason


def test_block_matching_nowhere_reports_the_closest_lines_and_others_still_apply() -> None:
    wrong = block("def main():\n    print(greet(os.getuser()))\n", "def main():\n    pass\n")
    right = block("import os\n", "import sys\n")
    result = edit(SOURCE, wrong + right)
    assert result.applied == 1
    assert result.text.startswith("import sys\n")
    [failure] = result.failures
    assert failure.block.search.startswith("def main():")
    assert failure.reason == (
        "the SEARCH text matches nowhere in app/x.py; the closest lines are 8-9:\n"
        "def main():\n    print(greet(os.getlogin()))"
    )


def test_block_matching_nowhere_in_an_empty_file() -> None:
    result = edit("", block("x = 1\n", "x = 2\n"))
    assert result.applied == 0
    assert "which is empty" in result.failures[0].reason


def test_block_matching_twice_is_a_failure() -> None:
    text = "x = 1\ny = 2\nx = 1\n"
    result = edit(text, block("x = 1\n", "x = 3\n"))
    assert result.applied == 0
    assert result.text == text
    reason = result.failures[0].reason
    assert "matches 2 places" in reason
    assert "lines 1, 3" in reason
    assert "include more lines" in reason


def test_block_matching_twice_ignoring_whitespace_is_a_failure() -> None:
    text = "if a:\n    x = 1\nif b:\n        x = 1\n"
    result = edit(text, block("  x = 1\n", "  x = 2\n"))
    assert result.applied == 0
    assert "matches 2 places in app/x.py (ignoring whitespace)" in result.failures[0].reason


def test_block_for_another_file_is_a_failure() -> None:
    result = edit(SOURCE, block("import os\n", "import sys\n", path="app/y.py"))
    assert result.applied == 0
    assert result.text == SOURCE
    assert result.failures[0].reason.startswith("this block is for app/y.py")


def test_crlf_file_stays_crlf() -> None:
    text = SOURCE.replace("\n", "\r\n")
    answer = block(
        '    return "hello " + name\n', '    greeting = "hello "\n    return greeting + name\n'
    )
    result = edit(text, answer)
    assert result.applied == 1
    assert '\r\n    greeting = "hello "\r\n    return greeting + name\r\n' in result.text
    assert result.text.count("\n") == result.text.count("\r\n")


def test_lf_file_stays_lf_when_the_answer_is_crlf() -> None:
    answer = block("import os\n", "import sys\n").replace("\n", "\r\n")
    result = edit(SOURCE, answer)
    assert result.text == SOURCE.replace("import os", "import sys")


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("app/x.py\n<<<<<<< SEARCH\nx = 1\n>>>>>>> REPLACE\n", "missing '======='"),
        ("<<<<<<< SEARCH\nx = 1\n", "missing '======='"),
        ("<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n", "unclosed block"),
        (
            "<<<<<<< SEARCH\na\n=======\nb\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n",
            "unclosed block",
        ),
        ("x = 1\n=======\nx = 2\n>>>>>>> REPLACE\n", "never opened"),
        ("I changed the greeting.", "no edit block"),
    ],
)
def test_malformed_answers_name_the_problem(answer: str, problem: str) -> None:
    with pytest.raises(EditFormatError, match=problem):
        parse_blocks(answer)


def test_malformed_block_is_located() -> None:
    answer = block("a\n", "b\n") + "\n<<<<<<< SEARCH\nc\n>>>>>>> REPLACE\n"
    with pytest.raises(EditFormatError, match=r"block 2 \(opened on line 8\)"):
        parse_blocks(answer)


def test_format_error_is_a_sopls_error() -> None:
    assert issubclass(EditFormatError, SoplsError)


def test_divider_inside_replace_is_kept_as_text() -> None:
    [parsed] = parse_blocks(block("Title\n", "Title\n=======\n"))
    assert parsed.replace == "Title\n=======\n"


def test_retry_message_lists_each_failure() -> None:
    failures = [
        BlockFailure(
            EditBlock("app/x.py", "x = 1\n", "x = 2\n"), "the SEARCH text matches nowhere"
        ),
        BlockFailure(EditBlock(None, "y = 1\n", "y = 2\n"), "the SEARCH text matches 2 places"),
    ]
    message = retry_message(failures)
    assert "## Block 1\napp/x.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE" in (
        message
    )
    assert "Why: the SEARCH text matches nowhere" in message
    assert "## Block 2\n<<<<<<< SEARCH\ny = 1\n" in message
    assert "Why: the SEARCH text matches 2 places" in message
    assert "for the blocks above only" in message


def test_retry_message_from_a_real_failure_parses_back() -> None:
    result = edit(SOURCE, block("import sys\n", "import re\n"))
    message = retry_message(result.failures)
    assert parse_blocks(message) == [result.failures[0].block]


def test_edit_format_template_renders_with_the_markers() -> None:
    text = prompts.render("engineer/edit_format.md", path="app/x.py")
    for marker in ("<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE", "app/x.py"):
        assert marker in text
    assert "{{" not in text
    shown = parse_blocks(text)
    assert [b.path for b in shown] == ["app/x.py", "app/x.py"]
    assert shown[-1].search == "def connect(host):\n    return open_socket(host, 80)\n"
