"""Every prompt template declares exactly the variables it uses, and rendering checks them."""

from importlib import resources

import jinja2
import pytest
from jinja2 import meta

import prompts


def all_templates() -> list[str]:
    root = resources.files("prompts")
    found: list[str] = []

    def walk(folder, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif entry.name.endswith(".md"):
                found.append(prefix + entry.name)

    walk(root, "")
    return sorted(found)


def test_there_are_templates() -> None:
    assert "action/default.md" in all_templates()
    assert "role/react.md" in all_templates()


@pytest.mark.parametrize("name", all_templates())
def test_header_matches_the_variables_used(name: str) -> None:
    source = (resources.files("prompts") / name).read_text(encoding="utf-8")
    used = meta.find_undeclared_variables(jinja2.Environment().parse(source))
    assert prompts.declared_variables(name) == used


def test_missing_and_unexpected_variables_are_named() -> None:
    with pytest.raises(prompts.PromptError) as caught:
        prompts.render("llm/fix_output.md", schema_name="X", mistake="y")
    message = str(caught.value)
    assert "missing ['error']" in message
    assert "unexpected ['mistake']" in message


def test_unknown_template_is_named() -> None:
    with pytest.raises(prompts.PromptError, match=r"prompts/nope\.md"):
        prompts.render("nope.md")


def test_rendering_fills_the_variables() -> None:
    text = prompts.render("llm/fix_output.md", schema_name="Book", error="pages: Field required")
    assert '"Book"' in text
    assert "pages: Field required" in text
