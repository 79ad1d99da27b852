"""RepoIndex over real fixture repositories: tags, freshness, the cache, the map, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from repo_index.index import RepoIndex
from repo_index.outline import interfaces
from repo_index.tokens import estimate_tokens

BOARD = '''"""The game board."""


class Board:
    """A grid of cells."""

    def __init__(self, width: int, height: int) -> None:
        self.cells = [[0] * width for _ in range(height)]

    def place(self, x: int, y: int) -> bool:
        """Place a piece; False when the cell is taken."""
        if self.cells[y][x]:
            return False
        self.cells[y][x] = 1
        return True


def empty_board(size: int = 3) -> Board:
    return Board(size, size)
'''

GAME = """from pkg.board import Board, empty_board


class Game:
    def __init__(self) -> None:
        self.board = empty_board()

    def play(self, x: int, y: int) -> bool:
        return self.board.place(x, y)
"""

SCORE = """export function scoreOf(moves) {
  return moves.length * 10;
}

export class Scoreboard {
  add(name, moves) {
    return scoreOf(moves);
  }
}
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "web").mkdir()
    (root / "pkg" / "board.py").write_text(BOARD)
    (root / "pkg" / "game.py").write_text(GAME)
    (root / "web" / "score.js").write_text(SCORE)
    for i in range(20):
        (root / "pkg" / f"util_{i:02d}.py").write_text(
            f"def helper_{i}(value):\n    return value + {i}\n"
        )
    (root / ".gitignore").write_text("ignored.py\n")
    (root / "ignored.py").write_text("def hidden():\n    pass\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "fixture")
    return root


def test_definitions_and_ignored_files(repo: Path) -> None:
    index = RepoIndex(repo)
    stats = index.refresh()
    assert "ignored.py" not in index.files()
    assert stats.files == 23
    assert stats.languages == {"javascript": 1, "python": 22}
    names = {(d.name, d.kind, d.scope) for d in index.symbols("pkg/board.py")}
    assert {("Board", "class", ""), ("place", "method", "Board")} <= names
    assert {d.name for d in index.symbols("web/score.js")} >= {"scoreOf", "Scoreboard", "add"}


def test_interfaces_show_signatures_without_bodies(repo: Path) -> None:
    text = interfaces([("pkg/board.py", RepoIndex(repo).text("pkg/board.py"))])
    assert "class Board:" in text
    assert "def place(self, x: int, y: int) -> bool:" in text
    assert "def empty_board(size: int = 3) -> Board:" in text
    assert "self.cells[y][x] = 1" not in text


def test_edits_renames_and_deletes_are_seen(repo: Path) -> None:
    index = RepoIndex(repo)
    index.refresh()
    (repo / "pkg" / "board.py").write_text(
        BOARD + "\n\ndef reset(board: Board) -> None:\n    ...\n"
    )
    (repo / "pkg" / "game.py").rename(repo / "pkg" / "match.py")
    (repo / "web" / "score.js").unlink()
    index.refresh()
    assert "reset" in {d.name for d in index.symbols("pkg/board.py")}
    assert "pkg/game.py" not in index.files()
    assert "pkg/match.py" in index.files()
    assert "web/score.js" not in index.files()


def test_update_in_a_long_lived_index_gives_a_fresh_map(repo: Path) -> None:
    index = RepoIndex(repo)
    index.context(budget=400)
    (repo / "pkg" / "board.py").write_text(
        BOARD + "\n\ndef freshly_added_function() -> None:\n    ...\n"
    )
    index.update(["pkg/board.py"])
    assert "freshly_added_function" in index.context("freshly_added_function", budget=400)


def test_cache_sees_a_content_change_with_the_mtime_kept(repo: Path) -> None:
    first = RepoIndex(repo)
    assert first.refresh().parsed == 23
    first.close()
    board = repo / "pkg" / "board.py"
    stat = board.stat()
    board.write_text(BOARD.replace("def place(", "def stack("))  # same length
    os.utime(board, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert board.stat().st_size == stat.st_size

    second = RepoIndex(repo)
    stats = second.refresh()
    assert stats.parsed == 1
    assert stats.cache_hits == 22
    assert "stack" in {d.name for d in second.symbols("pkg/board.py")}


def test_the_map_fits_its_budget_and_shows_focus_files_in_full(repo: Path) -> None:
    index = RepoIndex(repo)
    for budget in (0, 50, 120, 300, 800, 2000):
        assert estimate_tokens(index.context(budget=budget)) <= budget
    text = index.context(focus=["pkg/game.py"], budget=800)
    assert GAME.strip() in text


def test_a_named_identifier_ranks_its_file_in_the_top_three(repo: Path) -> None:
    text = RepoIndex(repo).context("make scoreOf count bonus moves", budget=300)
    files = [line[:-1] for line in text.splitlines() if line.endswith(":") and "/" in line]
    assert "web/score.js" in files[:3]


def test_sopls_index_command(repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server", "index", str(repo), "--budget", "300", "--stats"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "pkg/board.py" in done.stdout
    assert "files 23" in done.stdout
    assert (repo / ".sopls" / "index.db").is_file()
    again = subprocess.run(
        [sys.executable, "-m", "server", "index", str(repo), "--stats"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "cache hits 23" in again.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "server", "index", str(repo / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "not a folder" in missing.stderr


SOURCES = {
    "svc/server.go": (
        "package svc\n\ntype Server struct{ Port int }\n\n"
        "func (s *Server) Start() error {\n\treturn listen(s.Port)\n}\n"
    ),
    "svc/net.go": "package svc\n\nfunc listen(port int) error {\n\treturn nil\n}\n",
    "core/src/lib.rs": (
        "pub struct Parser { depth: usize }\n\nimpl Parser {\n"
        "    pub fn parse(&self, text: &str) -> usize { count_tokens(text) }\n}\n"
    ),
    "core/src/tokens.rs": "pub fn count_tokens(text: &str) -> usize { text.len() }\n",
    "app/Main.java": (
        "public class Main {\n  public static void main(String[] args) {\n"
        "    new Greeter().greet();\n  }\n}\n"
    ),
    "app/Greeter.java": "public class Greeter {\n  public void greet() {}\n}\n",
    "native/util.c": "int add_numbers(int a, int b) { return a + b; }\n",
    "native/main.c": (
        "int add_numbers(int a, int b);\nint main(void) { return add_numbers(1, 2); }\n"
    ),
    "native/shape.cpp": (
        "class Shape {\n public:\n  double area() const { return side * side; }\n"
        "  double side;\n};\n"
    ),
    "web/api.ts": (
        "export interface User { name: string }\n"
        "export function loadUser(id: number): User { return { name: String(id) }; }\n"
    ),
    "web/view.tsx": (
        'import { loadUser } from "./api";\n'
        "export function Profile() { return <div>{loadUser(1).name}</div>; }\n"
    ),
}


def test_every_supported_language_in_one_repository(tmp_path: Path) -> None:
    root = tmp_path / "poly"
    for path, text in SOURCES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "fixture")
    index = RepoIndex(root)
    stats = index.refresh()

    assert stats.files == len(SOURCES)
    assert set(stats.languages) == {"c", "cpp", "go", "java", "rust", "tsx", "typescript"}
    expected = {
        "svc/server.go": {"Server", "Start"},
        "core/src/lib.rs": {"Parser", "parse"},
        "app/Greeter.java": {"Greeter", "greet"},
        "native/util.c": {"add_numbers"},
        "native/shape.cpp": {"Shape", "area"},
        "web/api.ts": {"User", "loadUser"},
        "web/view.tsx": {"Profile"},
    }
    for path, names in expected.items():
        assert names <= {d.name for d in index.symbols(path)}, path
    references = {path: tags.references for path in SOURCES if (tags := index.tags(path))}
    assert "listen" in references["svc/server.go"]
    assert "count_tokens" in references["core/src/lib.rs"]
    assert "greet" in references["app/Main.java"]
    assert "add_numbers" in references["native/main.c"]
    assert "loadUser" in references["web/view.tsx"]
    text = index.context("speed up count_tokens", budget=200)
    files = [line[:-1] for line in text.splitlines() if line.endswith(":") and "/" in line]
    assert "core/src/tokens.rs" in files[:3]


def test_a_focus_file_comes_with_the_definitions_it_uses(repo: Path) -> None:
    text = RepoIndex(repo).context("let players undo a move", focus=["pkg/game.py"], budget=250)
    assert estimate_tokens(text) <= 250
    assert GAME.strip() in text  # the focus file in full
    assert "def empty_board(size: int = 3) -> Board:" in text  # what it uses, as signatures
    assert "def place(self, x: int, y: int) -> bool:" in text
    assert "self.cells[y][x] = 1" not in text  # not their bodies
