"""Every template under prompts/ renders with the variables its header declares, and only those.

Templates render with StrictUndefined, so a template that uses a variable (or a macro argument)
it does not declare fails here rather than sending a prompt with a hole in it. Each template is
rendered twice: with every variable filled, so every conditional section is shown, and with every
variable empty, so the sections that stand in for missing text are shown.
"""

from __future__ import annotations

import re
from importlib import resources
from itertools import product
from typing import Any, get_args

import jinja2
import pytest
from jinja2.runtime import Macro

import prompts
from agents.company.actions.write_code import FeedbackKind

# Variables whose values are not plain text, by name, as the actions pass them.
_PAIRS = {"actions", "available", "finished", "files", "pairs", "sources", "tests"}
_WORDS = {"issues", "places", "taken"}
_FLAGS = {"ignoring_whitespace", "more"}
# Variables that take one of a few keys rather than free text: every key is tried.
_KEYS: dict[str, tuple[Any, ...]] = {"feedback_kind": get_args(FeedbackKind)}
_MARKUP = re.compile(r"\{\{|\{%|%\}|\}\}")  # Jinja syntax that was printed instead of run


def _templates() -> list[str]:
    found: list[str] = []

    def walk(folder: Any, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif entry.name.endswith(".md"):
                found.append(prefix + entry.name)

    walk(resources.files("prompts"), "")
    return sorted(found)


def _sample(name: str, filled: bool) -> Any:
    """A value of the shape the code passes for `name`: filled, or empty."""
    if name in _PAIRS:
        return [(f"<{name} 1>", f"{name}\n  text 1"), (f"<{name} 2>", f"{name} text 2")] * filled
    if name in _WORDS:
        return [f"<{name} 1>", f"<{name} 2>"] * filled
    if name in _FLAGS:
        return filled
    if name == "failures":
        blocks = [("a.py", "x = 1\n", "x = 2\n", "<reason 1>"), (None, "y\n", "", "<reason 2>")]
        return blocks * filled
    if name == "messages":
        said = [("", None, "<requirement>"), ("Alice", "WritePRD", "<prd>"), ("Bob", None, "<run>")]
        return said * filled
    return f"<{name}>" if filled else ""


def _contexts(declared: frozenset[str]) -> list[dict[str, Any]]:
    """The filled and the empty context, once for every combination of keyed variables."""
    keyed = sorted(declared & _KEYS.keys())
    contexts = []
    for keys in product(*(_KEYS[k] for k in keyed)):
        for filled in (True, False):
            context = {v: _sample(v, filled) for v in declared - set(keyed)}
            contexts.append(context | dict(zip(keyed, keys, strict=True)))
    return contexts


def _macros(name: str) -> dict[str, Macro]:
    module = jinja2.Environment(loader=jinja2.PackageLoader("prompts", "")).get_template(name)
    return {k: v for k, v in vars(module.module).items() if isinstance(v, Macro)}


PROMPTS = [name for name in _templates() if prompts.declared_variables(name) or not _macros(name)]
MACROS = [
    (name, macro)
    for name in _templates()
    if name not in PROMPTS
    for macro, found in _macros(name).items()
    if not found.caller  # a call-block section is rendered by the prompts that use it
]


def test_every_template_is_checked() -> None:
    assert "engineer/write_code.md" in PROMPTS
    assert ("engineer/edit_reasons.md", "nowhere") in MACROS
    assert ("shared/sections.md", "repository") in MACROS


@pytest.mark.parametrize("name", PROMPTS)
def test_prompt_renders_with_its_declared_variables(name: str) -> None:
    for context in _contexts(prompts.declared_variables(name)):
        text = prompts.render(name, **context)
        assert not _MARKUP.search(text)
        for variable, value in context.items():
            if isinstance(value, str) and value.startswith("<"):
                listed = "".join(f"- {c}\n" for c in value) in text or "\n".join(value) in text
                assert value in text or listed, f"{name} never shows {variable}"


@pytest.mark.parametrize(("name", "macro"), MACROS)
def test_macro_renders_with_its_arguments(name: str, macro: str) -> None:
    arguments = _macros(name)[macro].arguments
    for filled in (True, False):
        text = prompts.macro(name, macro, **{a: _sample(a, filled) for a in arguments})
        assert not _MARKUP.search(text)
        # a macro renders like a variable: its last line is the text it was given, if any
        assert not (filled and text.endswith("\n"))


def test_a_declared_variable_left_out_is_refused() -> None:
    with pytest.raises(prompts.PromptError, match=r"missing \['path'\]"):
        prompts.render("engineer/edit_format.md")


def test_a_macro_argument_left_out_is_refused() -> None:
    with pytest.raises(prompts.PromptError, match="parameter 'path' was not provided"):
        prompts.macro("engineer/edit_reasons.md", "nowhere_in_empty")


def test_an_unknown_macro_argument_is_refused() -> None:
    with pytest.raises(prompts.PromptError, match=r"unexpected \['file'\]"):
        prompts.macro("engineer/edit_reasons.md", "nowhere_in_empty", path="a.py", file="a.py")
