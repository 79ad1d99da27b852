"""A bug report from the user: the short path straight to the Engineer (PRODUCT.md §2.3)."""

from __future__ import annotations

from pydantic import BaseModel


class BugFeedback(BaseModel):
    """What the user says is wrong, and the failing test output when there is any."""

    description: str
    test_output: str = ""
