"""Which words of a requirement name code, so that they, and not its prose, steer the ranking."""

from __future__ import annotations

import re

SHORT_NAME_CHARS = 3

STOP_WORDS = frozenset(
    {
        "about", "above", "after", "again", "against", "also", "and", "any", "are", "because",
        "been", "before", "being", "below", "between", "both", "but", "can", "could", "did",
        "does", "doing", "down", "during", "each", "either", "every", "few", "for", "from",
        "further", "had", "has", "have", "having", "her", "here", "hers", "him", "his", "how",
        "into", "its", "itself", "just", "let", "may", "might", "more", "most", "must", "neither",
        "nor", "not", "now", "off", "once", "only", "onto", "other", "ought", "our", "ours",
        "out", "over", "own", "please", "same", "shall", "she", "should", "some", "such", "than",
        "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this",
        "those", "through", "too", "under", "until", "upon", "very", "want", "was", "were",
        "what", "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with",
        "within", "without", "would", "yet", "you", "your", "yours",
    }
)  # fmt: skip

_CHAIN = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def identifiers_in(text: str) -> set[str]:
    """Words of a requirement that look like code names, so plain prose does not steer ranking.

    A word counts if it is written like code (snake_case, CamelCase, ALLCAPS, with digits), is
    part of a dotted name (split into its parts) or in backticks, or is capitalized in the
    middle of a sentence (a class name, most likely). Short words and stop words never count.
    """
    found: set[str] = set()
    for match in _CHAIN.finditer(text):
        parts = match.group().split(".")
        before = _previous_character(text, match.start())
        marked = len(parts) > 1 or before == "`"
        mid_sentence = before not in ("", ".", "!", "?", ":")
        found.update(
            part
            for part in parts
            if len(part) >= SHORT_NAME_CHARS
            and part.lower() not in STOP_WORDS
            and (marked or _looks_like_code(part) or (mid_sentence and part[0].isupper()))
        )
    return found


def _previous_character(text: str, position: int) -> str:
    """The last non-blank character before `position`, or "" at the start."""
    while position > 0 and text[position - 1].isspace():
        position -= 1
    return text[position - 1] if position else ""


def _looks_like_code(word: str) -> bool:
    """snake_case, _private, with digits, CamelCase, camelCase or ALLCAPS."""
    return "_" in word or any(c.isdigit() or c.isupper() for c in word[1:])
