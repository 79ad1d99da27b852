"""Prompt templates, one Jinja2 file per action, each declaring its variables in a header.

A template starts with a comment whose `Variables:` line lists exactly what it needs, e.g.
`{# Variables: requirement, schema_json #}`. Rendering checks the given context against that list
before anything is sent, so a wrong name fails at once instead of producing a quiet bad prompt.
Short messages that belong together (the reasons an edit failed) are macros of one template,
rendered one at a time with `macro`, which checks the arguments against the macro's signature.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2
from jinja2.runtime import Macro

_HEADER = re.compile(r"\A\{#.*?^\s*Variables:(?P<names>[^\n]*)$.*?#\}\n?", re.DOTALL | re.MULTILINE)


class PromptError(Exception):
    """A template is missing, malformed, or rendered with the wrong variables."""


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("prompts", ""),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def declared_variables(name: str) -> frozenset[str]:
    """The variables a template's header says it needs."""
    source = _source(name)
    match = _HEADER.match(source)
    if match is None:
        raise PromptError(f"prompts/{name} has no header comment with a 'Variables:' line")
    return frozenset(v.strip() for v in match["names"].split(",") if v.strip())


def _source(name: str) -> str:
    try:
        source, _, _ = _environment().loader.get_source(_environment(), name)
    except jinja2.TemplateNotFound as exc:
        raise PromptError(f"no prompt template prompts/{name}") from exc
    return source


def render(name: str, /, **context: Any) -> str:
    """Render `prompts/<name>` with exactly its declared variables."""
    declared = declared_variables(name)
    missing = declared - context.keys()
    extra = context.keys() - declared
    if missing or extra:
        raise PromptError(
            f"prompts/{name} needs {sorted(declared)}; "
            f"missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    try:
        text = _environment().get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise PromptError(f"prompts/{name}: {exc}") from exc
    return text.strip() + "\n"


def macro(name: str, macro_name: str, /, **arguments: Any) -> str:
    """Render one macro of `prompts/<name>`; arguments that have defaults may be left out.

    Jinja refuses a missing argument that has no default; an unknown one is refused here. The
    text is returned as the macro writes it, with no newline added, so it can be part of a
    sentence or end with the user's own text unchanged.
    """
    try:
        found = getattr(_environment().get_template(name).module, macro_name, None)
    except jinja2.TemplateError as exc:
        raise PromptError(f"prompts/{name}: {exc}") from exc
    if not isinstance(found, Macro):
        raise PromptError(f"prompts/{name} has no macro {macro_name!r}")
    extra = arguments.keys() - set(found.arguments)
    if extra:
        raise PromptError(
            f"prompts/{name}: {macro_name} takes {sorted(found.arguments)}; "
            f"unexpected {sorted(extra)}"
        )
    try:
        return str(found(**arguments))
    except jinja2.TemplateError as exc:
        raise PromptError(f"prompts/{name}: {macro_name}: {exc}") from exc
