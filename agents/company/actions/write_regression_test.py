"""WriteRegressionTest: a test that reproduces a reported bug, for a repository that has none."""

from __future__ import annotations

import re
from collections.abc import Mapping

from agents.edits.code_blocks import extract_code
from agents.framework.action import Action, ActionContext

_SLUG_WORDS = 6


def regression_test_path(description: str, test_folder: str) -> str:
    """Where the regression test of a bug goes: `<tests>/test_bug_<first words>.py`."""
    words = re.findall(r"[a-z0-9]+", description.lower())[:_SLUG_WORDS]
    slug = "_".join(words) or "report"
    return f"{test_folder}/test_bug_{slug}.py" if test_folder else f"test_bug_{slug}.py"


class WriteRegressionTest(Action):
    description = "Write a test that fails while the reported bug is there."
    template = "qa/write_regression_test.md"

    async def write(
        self,
        ctx: ActionContext,
        *,
        bug: str,
        test_path: str,
        sources: Mapping[str, str],
        legacy_code: str,
        current_test: str = "",
        feedback: str = "",
    ) -> str:
        """The test file; `sources` are the repository's files the bug is in, as they are."""
        output = await self.ask(
            ctx,
            bug=bug,
            test_path=test_path,
            sources=list(sources.items()),
            legacy_code=legacy_code,
            current_test=current_test,
            feedback=feedback,
        )
        return extract_code(output.content, test_path)
