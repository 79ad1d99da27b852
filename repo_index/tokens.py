"""One token estimator for every budget in sopls.

No tokenizer tables are downloaded at run time, so counts are estimated from bytes.
Typical BPE vocabularies average about four bytes per token on English and code; dividing
by three keeps the estimate on the high side, which is what budgets need.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

BYTES_PER_TOKEN = 3
PER_MESSAGE_OVERHEAD = 4
PER_REQUEST_OVERHEAD = 3


def estimate_tokens(text: str) -> int:
    """Upper-leaning token count of one piece of text."""
    if not text:
        return 0
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_message_tokens(contents: Iterable[str]) -> int:
    """Token count of a chat request made of these message contents."""
    return PER_REQUEST_OVERHEAD + sum(PER_MESSAGE_OVERHEAD + estimate_tokens(c) for c in contents)
