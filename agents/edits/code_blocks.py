"""Getting source code out of a model's answer (code is never asked for inside JSON)."""

from __future__ import annotations

import re

from agents.errors import SoplsError

_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)


class NoCodeError(SoplsError):
    """The answer holds no code for the file."""


def extract_code(answer: str, path: str) -> str:
    """The file's code: the fenced block that names `path`, else the longest block, else all."""
    blocks = [(m.group(0).split("\n", 1)[0], m.group(2)) for m in _FENCE.finditer(answer)]
    named = [code for header, code in blocks if path in header]
    if named:
        code = named[0]
    elif blocks:
        code = max((code for _, code in blocks), key=len)
    else:
        code = answer
    code = code.strip("\n")
    if not code.strip():
        raise NoCodeError(f"the answer for {path} contains no code")
    return code + "\n"
