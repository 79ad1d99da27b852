"""The interfaces shown to a file's author: outlines of the files it uses, under their paths."""

from __future__ import annotations

from repo_index.outline import interfaces

BOARD = "class Board:\n    def place(self, x: int) -> bool:\n        return self.cells[x] == 0\n"


def test_each_file_is_outlined_under_its_path_without_bodies() -> None:
    text = interfaces(
        [("board.py", BOARD), ("missing.py", None), ("util.js", "export const a = 1")]
    )

    assert text.startswith("### `board.py`\n```\nclass Board:\n")
    assert "def place(self, x: int) -> bool:" in text
    assert "self.cells[x] == 0" not in text
    assert "missing.py" not in text
    assert text.endswith("\n\n### `util.js`\n```\nexport const a = 1;\n```")


def test_no_files_give_no_text() -> None:
    assert interfaces([]) == ""
