"""WriteTest: pytest tests for one source file, through its interface."""

from __future__ import annotations

from pathlib import PurePosixPath

from agents.edits.code_blocks import extract_code
from agents.framework.action import Action, ActionContext


def test_path_for(source: str) -> str:
    """Where the tests of `source` go: `tests/test_<module>.py`."""
    stem = PurePosixPath(source).with_suffix("").as_posix().replace("/", "_")
    return f"tests/test_{stem}.py"


class WriteTest(Action):
    description = "Write pytest tests for one source file."
    template = "qa/write_test.md"

    async def write(
        self,
        ctx: ActionContext,
        *,
        source_path: str,
        source: str,
        interfaces: str,
        current_test: str = "",
        feedback: str = "",
    ) -> str:
        test_path = test_path_for(source_path)
        output = await self.ask(
            ctx,
            source_path=source_path,
            module=PurePosixPath(source_path).with_suffix("").as_posix().replace("/", "."),
            source=source,
            interfaces=interfaces,
            test_path=test_path,
            current_test=current_test,
            feedback=feedback,
        )
        return extract_code(output.content, test_path)
