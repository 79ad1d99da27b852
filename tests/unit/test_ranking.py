"""Ranking of files and definitions by personalized PageRank over the reference graph."""

import math
import random

import pytest

from repo_index.mentions import identifiers_in
from repo_index.model import Definition, FileTags
from repo_index.ranking import UNREFERENCED_SHARE, Ranking, rank


def file(path: str, defines: list[str], references: dict[str, int] | None = None) -> FileTags:
    """A file defining top-level functions named `defines`, one per line."""
    definitions = tuple(
        Definition(name, "function", line, line, f"def {name}():")
        for line, name in enumerate(defines)
    )
    return FileTags(path, "python", definitions, dict(references or {}))


def corpus(*files: FileTags) -> dict[str, FileTags]:
    return {tags.path: tags for tags in files}


def file_ranks(ranking: Ranking) -> dict[str, float]:
    return dict(ranking.files)


def position(ranking: Ranking, path: str) -> int:
    return [name for name, _ in ranking.files].index(path)


def thirty_files() -> dict[str, FileTags]:
    """A core module everyone uses, helpers, and leaves; `parse_config` sits in a leaf."""
    files = [file("core/base.py", ["Base", "register"])]
    files += [
        file(f"lib/helper_{k:02d}.py", [f"helper_{k}"], {"Base": 3, "register": 2})
        for k in range(8)
    ]
    files.append(file("app/settings.py", ["parse_config", "Settings"], {"Base": 1}))
    files += [
        file(
            f"app/view_{k:02d}.py",
            [f"view_{k}"],
            {"Base": 2, f"helper_{k % 8}": 2, f"helper_{(k + 3) % 8}": 1},
        )
        for k in range(20)
    ]
    return corpus(*files)


def test_requirement_naming_an_identifier_puts_its_definer_in_the_top_three() -> None:
    tags = thirty_files()
    assert len(tags) == 30
    assert position(rank(tags), "app/settings.py") > 3

    requirement = "Fix parse_config so that an empty file gives the default Settings"
    ranking = rank(tags, mentioned=identifiers_in(requirement))

    assert position(ranking, "app/settings.py") < 3
    assert "parse_config" in {d.name for _, d, _ in ranking.definitions[:3]}


def test_focus_files_rank_first() -> None:
    tags = thirty_files()
    focus = ["app/view_07.py", "app/view_03.py"]
    ranks = file_ranks(rank(tags))
    assert ranks["app/view_07.py"] < ranks["core/base.py"]

    ranking = rank(tags, focus=focus)

    assert {path for path, _ in ranking.files[:2]} == set(focus)
    assert ranking.files[2][0] == "core/base.py"


def test_focus_file_not_in_the_corpus_is_ignored() -> None:
    tags = thirty_files()
    assert rank(tags, focus=["new/file.py"]) == rank(tags)


def test_a_file_referenced_by_many_outranks_a_leaf() -> None:
    ranks = file_ranks(rank(thirty_files()))

    assert ranks["core/base.py"] > ranks["lib/helper_00.py"] > ranks["app/view_00.py"]
    assert max(ranks, key=ranks.__getitem__) == "core/base.py"


def test_a_name_defined_in_twenty_files_weighs_less_than_a_unique_one() -> None:
    widely = [file(f"impl/backend_{k:02d}.py", ["connect"]) for k in range(20)]
    tags = corpus(
        *widely,
        file("impl/pool.py", ["acquire_slot"]),
        file("app/service.py", ["serve"], {"connect": 4, "acquire_slot": 4}),
    )
    ranks = file_ranks(rank(tags, focus=["app/service.py"]))

    assert ranks["impl/pool.py"] > 5 * ranks["impl/backend_00.py"]
    assert ranks["impl/backend_00.py"] == pytest.approx(ranks["impl/backend_19.py"])


@pytest.mark.parametrize("weak", ["run", "get", "max", "_load_board", "__init__", "go"])
def test_common_short_and_private_names_weigh_less(weak: str) -> None:
    tags = corpus(
        file("a.py", [weak]),
        file("b.py", ["load_board"]),
        file("main.py", ["start_game"], {weak: 3, "load_board": 3}),
    )
    ranks = file_ranks(rank(tags, focus=["main.py"]))

    assert ranks["b.py"] > ranks["a.py"]


def test_more_references_weigh_more_but_sublinearly() -> None:
    tags = corpus(
        file("a.py", ["alpha_step"]),
        file("b.py", ["beta_step"]),
        file("main.py", ["start_game"], {"alpha_step": 16, "beta_step": 1}),
    )
    ranks = file_ranks(rank(tags, focus=["main.py"]))

    assert ranks["a.py"] == pytest.approx(4 * ranks["b.py"], rel=0.05)


def test_same_input_gives_the_same_ranking() -> None:
    tags = thirty_files()
    reordered = dict(reversed(list(tags.items())))
    mentioned = {"helper_3", "parse_config"}

    first = rank(tags, focus=["app/view_01.py"], mentioned=mentioned)

    assert rank(tags, focus=["app/view_01.py"], mentioned=mentioned) == first
    assert rank(reordered, focus=("app/view_01.py",), mentioned=sorted(mentioned)) == first


def test_ties_are_broken_by_path_then_line() -> None:
    late_first = (
        Definition("late_one", "function", 9, 9, "def late_one():"),
        Definition("early_one", "function", 2, 2, "def early_one():"),
    )
    tags = {
        "b.py": FileTags("b.py", "python", late_first),
        "a.py": FileTags("a.py", "python", late_first),
    }
    ranking = rank(tags)

    assert [path for path, _ in ranking.files] == ["a.py", "b.py"]
    assert [(path, d.line) for path, d, _ in ranking.definitions] == [
        ("a.py", 2),
        ("a.py", 9),
        ("b.py", 2),
        ("b.py", 9),
    ]


def test_empty_corpus() -> None:
    assert rank({}) == Ranking([], [])
    assert rank({}, focus=["a.py"], mentioned=["thing"]) == Ranking([], [])


def test_files_without_references_share_rank_uniformly() -> None:
    tags = corpus(file("a.py", ["one_thing"]), file("b.py", []), file("c.py", ["other"]))
    ranks = file_ranks(rank(tags))

    assert ranks == pytest.approx(dict.fromkeys(tags, 1 / 3))


def reference_pagerank(
    tags: dict[str, FileTags], personal: dict[str, float], damping: float = 0.85
) -> dict[str, float]:
    """The specification, written plainly: explicit edges, dense iteration to 1e-14.

    Valid for corpora whose names are all plain (specificity 1): an edge referencer ->
    definer per referenced name, weighted sqrt(uses) / number of definers.
    """
    paths = sorted(tags)
    definers: dict[str, list[str]] = {}
    for path in paths:
        for name in {d.name for d in tags[path].definitions}:
            definers.setdefault(name, []).append(path)
    edges: dict[str, dict[str, float]] = {path: {} for path in paths}
    for path in paths:
        for name, uses in tags[path].references.items():
            for target in definers.get(name, []):
                if target != path:
                    weight = math.sqrt(uses) / len(definers[name])
                    edges[path][target] = edges[path].get(target, 0.0) + weight
    ranks = dict(personal)
    for _ in range(1000):
        updated = {path: (1 - damping) * personal[path] for path in paths}
        dangling = sum(ranks[path] for path in paths if not edges[path])
        for path in paths:
            updated[path] += damping * dangling * personal[path]
            total = sum(edges[path].values())
            for target, weight in edges[path].items():
                updated[target] += damping * ranks[path] * weight / total
        change = sum(abs(updated[path] - ranks[path]) for path in paths)
        ranks = updated
        if change < 1e-14:
            break
    return ranks


def tangled_corpus(seed: int, files: int = 40) -> dict[str, FileTags]:
    """Plain names with one or several definers, self-references, and dangling files."""
    rnd = random.Random(seed)
    names = [f"name_{k}" for k in range(80)]
    defined = {f"mod_{i:02d}.py": rnd.sample(names, rnd.randint(0, 6)) for i in range(files)}
    result = {}
    for path, own in defined.items():
        referenced = rnd.sample(names, rnd.randint(0, 10)) + own[:1]
        references = {name: rnd.randint(1, 9) for name in referenced}
        if rnd.random() < 0.15:
            references = {}
        result[path] = file(path, own, references)
    return result


@pytest.mark.parametrize("seed", range(6))
def test_pagerank_matches_the_plain_specification(seed: int) -> None:
    tags = tangled_corpus(seed)
    focus = sorted(tags)[seed]
    personal = {path: 1.0 if path == focus else 0.0 for path in tags}

    ours = file_ranks(rank(tags, focus=[focus]))
    expected = reference_pagerank(tags, personal)

    assert sum(ours.values()) == pytest.approx(1.0, abs=1e-9)
    assert sum(abs(ours[path] - expected[path]) for path in tags) < 1e-5


def test_uniform_personalization_matches_the_specification() -> None:
    tags = tangled_corpus(11)
    uniform = dict.fromkeys(tags, 1 / len(tags))

    ours = file_ranks(rank(tags))

    assert max(ours.values()) > 1.5 / len(tags)
    expected = reference_pagerank(tags, uniform)
    assert sum(abs(ours[path] - expected[path]) for path in tags) < 1e-5


def test_each_definition_appears_once_and_shares_its_file_rank() -> None:
    tags = thirty_files()
    ranking = rank(tags, focus=["app/view_02.py"])
    ranks = file_ranks(ranking)

    listed = [(path, d) for path, d, _ in ranking.definitions]
    assert len(listed) == len(set(listed)) == sum(len(t.definitions) for t in tags.values())
    shares: dict[str, float] = {}
    for path, _, value in ranking.definitions:
        assert value > 0 or ranks[path] == 0
        shares[path] = shares.get(path, 0.0) + value
    referenced = {name for t in tags.values() for name in t.references}
    expected = {
        path: rank_
        if path == "app/view_02.py" or any(d.name in referenced for d in tags[path].definitions)
        else UNREFERENCED_SHARE * rank_
        for path, rank_ in ranks.items()
    }
    assert shares == pytest.approx(expected)
    values = [value for _, _, value in ranking.definitions]
    assert values == sorted(values, reverse=True)


def test_referenced_definitions_outrank_unreferenced_ones_of_the_same_file() -> None:
    tags = corpus(
        file("lib.py", ["used_often", "never_used", "used_once"]),
        file("main.py", ["start_game"], {"used_often": 9, "used_once": 1}),
    )
    ranking = rank(tags, focus=["main.py"])
    order = [d.name for path, d, _ in ranking.definitions if path == "lib.py"]

    assert order == ["used_often", "used_once", "never_used"]


def test_definitions_used_by_the_focus_file_come_first_within_a_file() -> None:
    """The users of `popular_call` are not reached from the focus file: no rank, no weight."""
    tags = corpus(
        file("lib.py", ["popular_call", "focus_needs"]),
        *[file(f"user_{k}.py", [f"user_{k}"], {"popular_call": 5}) for k in range(6)],
        file("main.py", ["start_game"], {"focus_needs": 1}),
    )
    ranking = rank(tags, focus=["main.py"])
    order = [d.name for path, d, _ in ranking.definitions if path == "lib.py"]

    assert order == ["focus_needs", "popular_call"]


def test_mentioned_definition_ranks_first_in_its_file() -> None:
    tags = corpus(
        file("lib.py", ["used_often", "asked_about"]),
        file("main.py", ["start_game"], {"used_often": 9}),
    )
    ranking = rank(tags, mentioned=["asked_about"])

    assert ranking.definitions[0][1].name == "asked_about"


def test_methods_named_alike_in_one_file_split_the_references() -> None:
    definitions = (
        Definition("Left", "class", 0, 5, "class Left:"),
        Definition("render_view", "method", 1, 2, "def render_view(self):", "Left"),
        Definition("Right", "class", 6, 9, "class Right:"),
        Definition("render_view", "method", 7, 8, "def render_view(self):", "Right"),
        Definition("only_once", "function", 10, 11, "def only_once():"),
    )
    tags = {
        "views.py": FileTags("views.py", "python", definitions),
        "main.py": file("main.py", ["start_game"], {"render_view": 4, "only_once": 4}),
    }
    ranking = rank(tags, focus=["main.py"])
    values = {(d.scope, d.name): value for path, d, value in ranking.definitions}

    assert values["Left", "render_view"] == pytest.approx(values["Right", "render_view"])
    assert values["", "only_once"] == pytest.approx(2 * values["Left", "render_view"], rel=0.1)


def synthetic_corpus(files: int, seed: int = 7) -> dict[str, FileTags]:
    """A repository-shaped corpus: 60 definitions and 400 reference entries per file.

    Each file has 3 classes of 12 methods (40% of method names shared through a skewed pool
    of 157 common names), 18 functions (20% from a pool of names defined in a few files) and
    3 constants. It references about 12 other modules (skewed toward core ones), 50 common
    names, 20 shared helpers, and fills up to 400 entries with names defined nowhere.
    """
    rnd = random.Random(seed)
    common = ["__init__", "get", "run", "name", "to_dict", "close", "update"]
    common += [f"method_{k}" for k in range(150)]
    common_weights = [1.0 / (k + 1) for k in range(len(common))]
    shared = [f"helper_{k}" for k in range(1500)]
    unknown = [f"local_{k}" for k in range(20000)]
    paths = [f"pkg{i // 50:02d}/mod{i:04d}.py" for i in range(files)]
    definitions: list[list[Definition]] = []
    exported: list[list[str]] = []
    for i in range(files):
        own: list[Definition] = []
        line = 0
        for c in range(3):
            cls = f"Widget{i}N{c}"
            own.append(Definition(cls, "class", line, line + 60, f"class {cls}:"))
            line += 1
            for m in range(12):
                pooled = rnd.random() < 0.4
                name = rnd.choices(common, common_weights)[0] if pooled else f"op_{i}_{c}_{m}"
                own.append(Definition(name, "method", line, line + 4, f"def {name}(self):", cls))
                line += 5
        for f in range(18):
            name = rnd.choice(shared) if rnd.random() < 0.2 else f"func_{i}_{f}"
            own.append(Definition(name, "function", line, line + 5, f"def {name}(x: int):"))
            line += 6
        for k in range(3):
            own.append(Definition(f"CONST_{i}_{k}", "constant", line, line, f"CONST_{i}_{k} = 1"))
            line += 1
        definitions.append(own)
        exported.append([d.name for d in own if d.name.startswith(("Widget", "op_", "func_"))])
    result = {}
    for i, path in enumerate(paths):
        references: dict[str, int] = {}
        for _ in range(12):
            other = int(files * rnd.random() ** 2)
            if other != i:
                for name in rnd.sample(exported[other], 6):
                    references[name] = 1 + int(rnd.expovariate(0.5))
        for name in rnd.choices(common, common_weights, k=50):
            references[name] = 1 + int(rnd.expovariate(0.5))
        for name in rnd.sample(shared, 20):
            references[name] = 1 + int(rnd.expovariate(0.5))
        while len(references) < 400:
            references[rnd.choice(unknown)] = 1 + int(rnd.expovariate(0.5))
        result[path] = FileTags(path, "python", tuple(definitions[i]), references)
    return result


def test_synthetic_corpus_ranks_consistently() -> None:
    tags = synthetic_corpus(200)
    focus = "pkg01/mod0060.py"

    ranking = rank(tags, focus=[focus], mentioned=["func_5_3"])

    assert ranking.files[0][0] == focus
    assert sum(value for _, value in ranking.files) == pytest.approx(1.0, abs=1e-9)
    assert len(ranking.definitions) == 200 * 60
    assert ranking.definitions[0][1].name == "func_5_3"
    assert rank(tags, focus=[focus], mentioned=["func_5_3"]) == ranking


def test_identifiers_in_a_requirement() -> None:
    text = "Make parse_config work with the GameBoard and call utils.load for it"

    assert identifiers_in(text) == {"parse_config", "GameBoard", "utils", "load"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the with The WITH a to of", set()),
        (
            "x9 _private __dunder__ snake_case_2 base64",
            {"_private", "__dunder__", "snake_case_2", "base64"},
        ),
        ("Cache the HTTP_TIMEOUT and URL in getValue", {"HTTP_TIMEOUT", "URL", "getValue"}),
        ("Board moves. Undo should restore the Board", {"Board"}),
        ("Rename `render` in views.render_page", {"render", "views", "render_page"}),
        ("add undo to the game board", set()),
        ("Fix json.dumps for Decimal values", {"json", "dumps", "Decimal"}),
    ],
)
def test_only_words_written_like_code_count(text: str, expected: set[str]) -> None:
    assert identifiers_in(text) == expected
