"""The Legacy Code map: focus files in full, then ranked signatures, within a token budget."""

import random
from collections.abc import Callable
from textwrap import dedent

import pytest

from repo_index.model import Definition, FileTags
from repo_index.ranking import Ranking, rank
from repo_index.render import ELISION, render_map
from repo_index.tokens import estimate_tokens

BOARD = (
    Definition("SIZE", "constant", 2, 2, "SIZE = 19"),
    Definition("Board", "class", 5, 40, "class Board:"),
    Definition("__init__", "method", 8, 10, "def __init__(self, size: int) -> None:", "Board"),
    Definition("place", "method", 12, 20, "def place(self, x: int, y: int) -> bool:", "Board"),
    Definition("clear", "method", 21, 25, "def clear(self) -> None:", "Board"),
    Definition("Cell", "class", 27, 35, "class Cell:", "Board"),
    Definition(
        "mark",
        "method",
        28,
        31,
        "def mark(\n            self,\n            who: str,\n        ) -> None:",
        "Board.Cell",
    ),
    Definition("empty_board", "function", 42, 44, "def empty_board() -> Board:"),
)
GAME = (
    Definition("Game", "class", 3, 30, "class Game:"),
    Definition("play", "method", 4, 12, "async def play(self, moves: list[str]) -> int:", "Game"),
)
MAIN_TEXT = dedent(
    """\
    from pkg.game import Game


    def run_app() -> None:
        Game().play([])
    """
)


def board_corpus() -> dict[str, FileTags]:
    return {
        "pkg/board.py": FileTags("pkg/board.py", "python", BOARD, {"Board": 1}),
        "pkg/game.py": FileTags(
            "pkg/game.py", "python", GAME, {"Board": 3, "place": 4, "mark": 1, "SIZE": 1}
        ),
        "main.py": FileTags(
            "main.py",
            "python",
            (Definition("run_app", "function", 3, 4, "def run_app() -> None:"),),
            {"Game": 1, "play": 1},
        ),
    }


def sources_of(texts: dict[str, str]) -> Callable[[str], str | None]:
    return texts.get


def test_focus_file_in_full_then_signatures_with_scopes_and_elisions() -> None:
    ranking = rank(board_corpus(), focus=["main.py"], mentioned=["place"])

    text = render_map(ranking, sources_of({"main.py": MAIN_TEXT}), focus=["main.py"], budget=10_000)

    assert text == dedent(
        """\
        ```main.py
        from pkg.game import Game


        def run_app() -> None:
            Game().play([])
        ```

        pkg/board.py:
        ⋮
        SIZE = 19
        ⋮
        class Board:
        ⋮
            def __init__(self, size: int) -> None:
        ⋮
            def place(self, x: int, y: int) -> bool:
        ⋮
            def clear(self) -> None:
        ⋮
            class Cell:
                def mark(
                    self,
                    who: str,
                ) -> None:
        ⋮
        def empty_board() -> Board:
        ⋮

        pkg/game.py:
        ⋮
        class Game:
            async def play(self, moves: list[str]) -> int:
        ⋮"""
    )


def test_small_budget_keeps_the_best_definitions_with_their_scopes() -> None:
    ranking = rank(board_corpus(), focus=["main.py"], mentioned=["place"])
    full = render_map(ranking, sources_of({"main.py": MAIN_TEXT}), focus=["main.py"], budget=10_000)
    header = (
        "\n\npkg/board.py:\n⋮\nclass Board:\n⋮\n    def place(self, x: int, y: int) -> bool:\n⋮"
    )
    wanted = full.split("\n\npkg/")[0] + header

    text = render_map(
        ranking,
        sources_of({"main.py": MAIN_TEXT}),
        focus=["main.py"],
        budget=estimate_tokens(wanted),
    )

    assert text.endswith(header)
    assert "clear" not in text
    assert "pkg/game.py" not in text


def test_focus_file_too_large_falls_back_to_its_outline() -> None:
    big = "\n".join(f"# line {n} of a long board module" for n in range(400))
    ranking = rank(board_corpus(), focus=["pkg/board.py"])

    text = render_map(
        ranking, sources_of({"pkg/board.py": big}), focus=["pkg/board.py"], budget=150
    )

    assert text.startswith("pkg/board.py (too large for the budget; showing its outline)\n")
    assert "# line" not in text
    assert "class Board:" in text
    assert estimate_tokens(text) <= 150


def test_focus_file_that_fits_alone_but_not_after_another_is_outlined() -> None:
    ranking = rank(board_corpus(), focus=["main.py", "pkg/game.py"])
    game = "class Game:\n" + "".join(f"    step_{n} = {n}\n" for n in range(30))
    texts = {"main.py": MAIN_TEXT, "pkg/game.py": game}
    budget = estimate_tokens(f"```pkg/game.py\n{game}```") + 5

    text = render_map(ranking, sources_of(texts), focus=["main.py", "pkg/game.py"], budget=budget)

    assert text.startswith("```main.py\n")
    assert "pkg/game.py (too large for the budget; showing its outline)" in text
    assert estimate_tokens(text) <= budget


def test_focus_file_without_text_is_left_out() -> None:
    ranking = rank(board_corpus(), focus=["new.py"])

    text = render_map(ranking, sources_of({}), focus=["new.py"], budget=10_000)

    assert text.startswith("pkg/board.py:\n")
    assert "new.py" not in text


def test_blank_signature_falls_back_to_the_source_line() -> None:
    definitions = (Definition("helper_fn", "function", 1, 3, ""),)
    tags = {"util.py": FileTags("util.py", "python", definitions)}
    source = "import os\ndef helper_fn(a, b):\n    return a\n"

    text = render_map(rank(tags), sources_of({"util.py": source}), budget=1_000)

    assert text == "util.py:\n⋮\ndef helper_fn(a, b):\n⋮"
    assert render_map(rank(tags), sources_of({}), budget=1_000) == (
        "util.py:\n⋮\nfunction helper_fn\n⋮"
    )


def test_nothing_fits_gives_an_empty_map() -> None:
    ranking = rank(board_corpus())
    sources = sources_of({"main.py": MAIN_TEXT})

    assert render_map(ranking, sources, budget=0) == ""
    assert render_map(ranking, sources, budget=-5) == ""
    assert render_map(ranking, sources, budget=3) == ""
    assert render_map(Ranking([], []), sources, focus=["main.py"], budget=3) == ""
    assert render_map(Ranking([], []), sources, budget=1_000) == ""


def test_same_input_gives_the_same_map() -> None:
    ranking = rank(board_corpus(), focus=["main.py"])
    sources = sources_of({"main.py": MAIN_TEXT})

    first = render_map(ranking, sources, focus=["main.py"], budget=80)

    assert first == render_map(ranking, sources, focus=["main.py"], budget=80)
    assert first


def test_sources_are_read_once_per_map() -> None:
    reads: list[str] = []

    def sources(path: str) -> str | None:
        reads.append(path)
        return MAIN_TEXT if path == "main.py" else None

    ranking = rank(board_corpus(), focus=["main.py"])
    render_map(ranking, sources, focus=["main.py", "main.py"], budget=60)

    assert reads == ["main.py"]


def generated_corpus(seed: int, files: int = 25) -> tuple[dict[str, FileTags], dict[str, str]]:
    """Random classes, methods and functions, with some long and multi-line signatures."""
    rnd = random.Random(seed)
    tags: dict[str, FileTags] = {}
    texts: dict[str, str] = {}
    names = [f"name_{k}" for k in range(60)]
    for i in range(files):
        path = f"src/part_{i:02d}.py"
        definitions: list[Definition] = []
        line = rnd.randint(0, 3)
        for c in range(rnd.randint(0, 3)):
            cls = f"Thing{i}x{c}"
            start = line
            line += 1 + rnd.randint(0, 2)
            methods: list[Definition] = []
            for _ in range(rnd.randint(0, 4)):
                name = rnd.choice(names)
                arguments = ", ".join(f"arg_{n}: int" for n in range(rnd.randint(0, 12)))
                signature = f"def {name}(self, {arguments}) -> None:"
                if rnd.random() < 0.2:
                    signature = f"def {name}(\n        self,\n        value: int,\n    ) -> None:"
                methods.append(Definition(name, "method", line, line + 3, signature, cls))
                line += 4 + rnd.randint(0, 3)
            definitions.append(Definition(cls, "class", start, line - 1, f"class {cls}(Base):"))
            definitions.extend(methods)
        for _ in range(rnd.randint(0, 5)):
            name = rnd.choice(names)
            definitions.append(Definition(name, "function", line, line + 2, f"def {name}():"))
            line += 3 + rnd.randint(0, 4)
        references = {rnd.choice(names): rnd.randint(1, 5) for _ in range(rnd.randint(0, 8))}
        tags[path] = FileTags(path, "python", tuple(definitions), references)
        texts[path] = "\n".join(f"line {n} of {path}" for n in range(line + rnd.randint(0, 50)))
    return tags, texts


@pytest.mark.parametrize("seed", range(4))
def test_map_never_exceeds_the_budget(seed: int) -> None:
    tags, texts = generated_corpus(seed)
    paths = sorted(tags)
    cases = [((), rank(tags)), ((paths[seed],), rank(tags, focus=[paths[seed]]))]
    cases.append(((paths[1], paths[2]), rank(tags, focus=[paths[1], paths[2]])))
    for focus, ranking in cases:
        previous_definitions = -1
        for budget in range(0, 2_001, 13):
            text = render_map(ranking, texts.get, focus=focus, budget=budget)
            assert estimate_tokens(text) <= budget
            shown = text.count("def ") + text.count("class ")
            if not focus:
                assert shown >= previous_definitions
                previous_definitions = shown


def test_map_grows_to_use_the_budget() -> None:
    tags, texts = generated_corpus(9)
    ranking = rank(tags)
    everything = render_map(ranking, texts.get, budget=1_000_000)
    largest_step = max(
        estimate_tokens(f"\n\n{path}:\n⋮\n{definition.signature}\n⋮\n") * 2
        for path, definition, _ in ranking.definitions
    )
    for budget in (50, 200, 700):
        text = render_map(ranking, texts.get, budget=budget)
        assert budget - estimate_tokens(text) < largest_step
    assert everything.count(ELISION) > 10
    for _, definition, _ in ranking.definitions:
        assert definition.signature.splitlines()[0].strip() in everything


def test_focus_file_appears_in_full_exactly_when_it_fits() -> None:
    tags, texts = generated_corpus(3)
    focus = max(sorted(tags), key=lambda path: len(tags[path].definitions))
    ranking = rank(tags, focus=[focus])
    block = f"```{focus}\n{texts[focus]}\n```"
    needed = estimate_tokens(block)

    assert render_map(ranking, texts.get, focus=[focus], budget=needed).startswith(block)
    outlined = render_map(ranking, texts.get, focus=[focus], budget=needed - 1)
    assert block not in outlined
    assert outlined.startswith(f"{focus} (too large for the budget; showing its outline)\n")
