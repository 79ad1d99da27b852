"""Tags: the definitions and referenced identifiers of one file, for every supported language."""

from textwrap import dedent

import pytest

from repo_index.languages import (
    CPP,
    SUPPORTED_LANGUAGES,
    get_tags_query,
    index_language_for_path,
)
from repo_index.model import Definition, FileTags
from repo_index.tags import MAX_SIGNATURE_CHARS, extract_tags


def _tags(path: str, source: str) -> FileTags:
    tags = extract_tags(path, dedent(source).encode("utf-8"))
    assert tags is not None
    return tags


def _summary(tags: FileTags) -> list[tuple[str, str, int, str]]:
    return [(d.name, d.kind, d.line, d.scope) for d in tags.definitions]


def _definition(tags: FileTags, name: str, scope: str = "") -> Definition:
    return next(d for d in tags.definitions if d.name == name and d.scope == scope)


PYTHON_SOURCE = '''\
    """Game board."""

    from __future__ import annotations

    from game.config import Settings, load_config as load

    MAX_SIZE = 19
    _cache: dict[str, int] = {}


    @dataclass(frozen=True)
    class Board(BaseBoard, abc.ABC):
        """A square board."""

        width: int = MAX_SIZE

        def place(self, x: int, y: int) -> Point:  # returns the new point
            def check() -> bool:
                return validate(x, y)

            return Point(x, y)

        @property
        def size(self) -> int:
            return self.width


    async def fetch(
        url: str,
        timeout: float = 1.5,
        retries: int = 3,
    ) -> bytes:
        settings: Settings = load()
        return await download(url, settings)
    '''


def test_python() -> None:
    tags = _tags("game/board.py", PYTHON_SOURCE)
    assert tags.path == "game/board.py"
    assert tags.language == "python"
    assert _summary(tags) == [
        ("MAX_SIZE", "constant", 6, ""),
        ("_cache", "constant", 7, ""),
        ("Board", "class", 11, ""),
        ("width", "field", 14, "Board"),
        ("place", "method", 16, "Board"),
        ("check", "function", 17, "Board.place"),
        ("size", "method", 23, "Board"),
        ("fetch", "function", 27, ""),
    ]
    board = _definition(tags, "Board")
    assert (board.end_line, board.signature) == (24, "class Board(BaseBoard, abc.ABC):")
    place = _definition(tags, "place", "Board")
    assert place.signature == "def place(self, x: int, y: int) -> Point:"
    assert place.end_line == 20
    assert _definition(tags, "fetch").signature == (
        "async def fetch(url: str, timeout: float = 1.5, retries: int = 3,) -> bytes:"
    )
    assert _definition(tags, "_cache").signature == "_cache: dict[str, int] = {}"
    assert tags.references == {
        "ABC": 1,
        "BaseBoard": 1,
        "Point": 2,
        "Settings": 2,
        "bool": 1,
        "bytes": 1,
        "dataclass": 1,
        "dict": 1,
        "download": 1,
        "float": 1,
        "int": 6,
        "load": 1,
        "load_config": 1,
        "property": 1,
        "str": 2,
        "validate": 1,
    }


def test_python_syntax_error_keeps_the_other_definitions() -> None:
    tags = _tags(
        "broken.py",
        """\
        def good_one(a: int) -> int:
            return a

        def broken(x:
            return 1

        class Fine:
            def ok(self) -> str:
                return helper("ok")

        def last(y) -> None:
            pass
        """,
    )
    assert _summary(tags) == [
        ("good_one", "function", 0, ""),
        ("Fine", "class", 6, ""),
        ("ok", "method", 7, "Fine"),
        ("last", "function", 10, ""),
    ]
    assert tags.references["helper"] == 1


def test_non_ascii_text_before_definitions_keeps_lines_right() -> None:
    tags = _tags(
        "café.py",
        '''\
        """Café ☕ — naïve 👋."""
        GREETING = "héllo 👋 wörld"


        def crème(brûlée: str = "🍮") -> str:
            return brûlée


        class Über:
            def 走(self, 距離: int) -> None:
                print("🚶" * 距離)
        ''',
    )
    assert _summary(tags) == [
        ("GREETING", "constant", 1, ""),
        ("crème", "function", 4, ""),
        ("Über", "class", 8, ""),
        ("走", "method", 9, "Über"),
    ]
    assert _definition(tags, "crème").signature == 'def crème(brûlée: str = "🍮") -> str:'
    assert _definition(tags, "走", "Über").signature == "def 走(self, 距離: int) -> None:"
    go = _tags(
        "x.go",
        """\
        // héllo wörld 👋
        package main

        // Grüße: „ok“
        func Größe() int { return 1 }
        """,
    )
    assert _summary(go) == [("Größe", "function", 4, "")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    tags = extract_tags("bad.py", b"def \xff\xfeok(): pass\nx\x00 = 1\ndef after(): pass\n")
    assert tags is not None
    assert [d.name for d in tags.definitions][-1] == "after"


def test_javascript() -> None:
    tags = _tags(
        "src/counter.js",
        """\
        import EventEmitter from "events";
        import { formatCount, clamp as limit } from "./format.js";

        /** Counts things. */
        export class Counter extends EventEmitter {
          count = 0;

          constructor(start) {
            super();
            this.count = start;
          }

          increment(by = 1) {
            this.count = limit(this.count + by);
            this.emit("change", formatCount(this.count));
            return new Snapshot(this.count);
          }
        }

        export function makeCounter(start) {
          return new Counter(start);
        }

        export const double = (n) => n * 2;
        const handlers = {
          reset: function () {},
        };
        export const VERSION = "1.0";
        """,
    )
    assert tags.language == "javascript"
    assert _summary(tags) == [
        ("Counter", "class", 4, ""),
        ("count", "field", 5, "Counter"),
        ("increment", "method", 12, "Counter"),
        ("makeCounter", "function", 19, ""),
        ("double", "function", 23, ""),
        ("handlers", "constant", 24, ""),
        ("reset", "function", 25, "handlers"),
        ("VERSION", "constant", 27, ""),
    ]
    assert _definition(tags, "Counter").signature == "class Counter extends EventEmitter"
    assert _definition(tags, "double").signature == "const double = (n) => n * 2"
    assert _definition(tags, "makeCounter").end_line == 21
    assert tags.references == {
        "Counter": 1,
        "EventEmitter": 2,
        "Snapshot": 1,
        "clamp": 1,
        "emit": 1,
        "formatCount": 2,
        "limit": 1,
    }


def test_typescript() -> None:
    tags = _tags(
        "shapes.ts",
        """\
        import { readFile } from "fs/promises";
        import type { Config } from "./config";

        export interface Shape {
          area(): number;
          readonly name: string;
        }

        export type Id = string | number;

        enum Color {
          Red,
          Green,
        }

        export abstract class Base {
          abstract describe(): string;
        }

        export class Square extends Base implements Shape {
          readonly name = "square";

          constructor(private side: number) {
            super();
          }

          area(): number {
            return computeArea(this.side);
          }
        }

        export async function load<T>(path: string, config: Config): Promise<T> {
          const raw = await readFile(path, "utf8");
          return parse<T>(raw);
        }

        namespace Geo {
          export function dist(a: number, b: number): number {
            return Math.abs(a - b);
          }
        }
        """,
    )
    assert tags.language == "typescript"
    assert _summary(tags) == [
        ("Shape", "interface", 3, ""),
        ("area", "method", 4, "Shape"),
        ("name", "field", 5, "Shape"),
        ("Id", "type", 8, ""),
        ("Color", "enum", 10, ""),
        ("Base", "class", 15, ""),
        ("describe", "method", 16, "Base"),
        ("Square", "class", 19, ""),
        ("name", "field", 20, "Square"),
        ("area", "method", 26, "Square"),
        ("load", "function", 31, ""),
        ("Geo", "module", 36, ""),
        ("dist", "function", 37, "Geo"),
    ]
    assert _definition(tags, "load").signature == (
        "async function load<T>(path: string, config: Config): Promise<T>"
    )
    assert _definition(tags, "Id").signature == "type Id = string | number;"
    assert tags.references == {
        "Base": 1,
        "Config": 2,
        "Promise": 1,
        "Shape": 1,
        "T": 3,
        "abs": 1,
        "computeArea": 1,
        "parse": 1,
        "readFile": 2,
    }


def test_tsx() -> None:
    tags = _tags(
        "App.tsx",
        """\
        import React from "react";
        import { Button } from "./Button";

        interface AppProps {
          title: string;
        }

        export const App = ({ title }: AppProps) => {
          const [n, setN] = React.useState(0);
          return (
            <Layout.Page title={title}>
              <Button label="add" onClick={() => setN(n + 1)} />
              <span>{n}</span>
            </Layout.Page>
          );
        };

        export default function Footer(): JSX.Element {
          return <footer>{formatYear(2024)}</footer>;
        }
        """,
    )
    assert tags.language == "tsx"
    assert _summary(tags) == [
        ("AppProps", "interface", 3, ""),
        ("title", "field", 4, "AppProps"),
        ("App", "function", 7, ""),
        ("Footer", "function", 17, ""),
    ]
    assert _definition(tags, "App").signature == "const App = ({ title }: AppProps) =>"
    assert _definition(tags, "App").end_line == 15
    assert tags.references == {
        "AppProps": 1,
        "Button": 2,
        "Element": 1,
        "Page": 1,
        "React": 1,
        "formatYear": 1,
        "setN": 1,
        "useState": 1,
    }


def test_go() -> None:
    tags = _tags(
        "server/server.go",
        """\
        // Package server runs the game.
        package server

        import (
            "context"
            "fmt"

            "example.com/game/board"
        )

        const DefaultPort = 8080

        var started bool

        type Server struct {
            Board *board.Board
            port  int
        }

        type Runner interface {
            Run(ctx context.Context) error
        }

        type Handler func(msg string) error

        func (s *Server) Run(ctx context.Context) error {
            b := board.NewBoard(s.port)
            fmt.Println(b)
            return s.serve(ctx)
        }

        func NewServer(port int) *Server {
            return &Server{port: port}
        }
        """,
    )
    assert _summary(tags) == [
        ("DefaultPort", "constant", 10, ""),
        ("started", "variable", 12, ""),
        ("Server", "class", 14, ""),
        ("Board", "field", 15, "Server"),
        ("port", "field", 16, "Server"),
        ("Runner", "interface", 19, ""),
        ("Run", "method", 20, "Runner"),
        ("Handler", "type", 23, ""),
        ("Run", "method", 25, "Server"),
        ("NewServer", "function", 31, ""),
    ]
    run = _definition(tags, "Run", "Server")
    assert run.signature == "func (s *Server) Run(ctx context.Context) error"
    assert run.end_line == 29
    assert _definition(tags, "Server").signature == "type Server struct"
    assert _definition(tags, "Handler").signature == "type Handler func(msg string) error"
    assert tags.references == {
        "Board": 1,
        "Context": 2,
        "NewBoard": 1,
        "Println": 1,
        "Server": 3,
        "bool": 1,
        "error": 3,
        "int": 2,
        "serve": 1,
        "string": 1,
    }


def test_rust() -> None:
    tags = _tags(
        "src/lib.rs",
        """\
        //! Board logic.
        use std::collections::HashMap;
        use crate::config::{Settings, load_config};

        pub const MAX: usize = 19;

        #[derive(Debug)]
        pub struct Board {
            cells: HashMap<u32, Cell>,
        }

        pub enum Cell { Empty, Stone(u8) }

        pub trait Render {
            fn render(&self) -> String;
        }

        impl Board {
            pub fn parse(&self, s: &str) -> Result<Board, ParseError> {
                let settings = load_config();
                helpers::validate(s)?;
                Ok(Board::new())
            }
        }

        impl Render for Board {
            fn render(&self) -> String { format!("{:?}", self) }
        }

        mod helpers {
            pub fn validate(s: &str) -> Result<(), ParseError> { Ok(()) }
        }

        macro_rules! cell { () => { Cell::Empty }; }
        """,
    )
    assert _summary(tags) == [
        ("MAX", "constant", 4, ""),
        ("Board", "class", 7, ""),
        ("cells", "field", 8, "Board"),
        ("Cell", "enum", 11, ""),
        ("Render", "interface", 13, ""),
        ("render", "method", 14, "Render"),
        ("parse", "method", 18, "Board"),
        ("render", "method", 26, "Board"),
        ("helpers", "module", 29, ""),
        ("validate", "function", 30, "helpers"),
        ("cell", "macro", 33, ""),
    ]
    parse = _definition(tags, "parse", "Board")
    assert parse.signature == "pub fn parse(&self, s: &str) -> Result<Board, ParseError>"
    assert (parse.line, parse.end_line) == (18, 22)
    assert _definition(tags, "Board").signature == "pub struct Board"
    assert _definition(tags, "render", "Render").signature == "fn render(&self) -> String;"
    assert tags.references == {
        "Board": 3,
        "Cell": 1,
        "HashMap": 2,
        "Ok": 2,
        "ParseError": 2,
        "Render": 1,
        "Result": 2,
        "Settings": 1,
        "String": 2,
        "format": 1,
        "load_config": 2,
        "new": 1,
        "validate": 1,
    }


def test_java() -> None:
    tags = _tags(
        "src/game/Board.java",
        """\
        package game;

        import java.util.List;
        import game.config.Settings;

        /** A board. */
        @Entity
        public class Board extends BaseBoard implements Renderable {
            public static final int MAX = 19;
            private List<Cell> cells;

            public Board(Settings settings) {
                this.cells = Loader.loadCells(settings);
            }

            @Override
            public String render(int width) {
                return helper(new Cell(width));
            }

            enum Color { BLACK, WHITE }
        }

        interface Renderable {
            String render(int width);
        }
        """,
    )
    assert _summary(tags) == [
        ("Board", "class", 6, ""),
        ("MAX", "field", 8, "Board"),
        ("cells", "field", 9, "Board"),
        ("Board", "method", 11, "Board"),
        ("render", "method", 15, "Board"),
        ("Color", "enum", 20, "Board"),
        ("BLACK", "constant", 20, "Board.Color"),
        ("WHITE", "constant", 20, "Board.Color"),
        ("Renderable", "interface", 23, ""),
        ("render", "method", 24, "Renderable"),
    ]
    assert _definition(tags, "Board").signature == (
        "@Entity\npublic class Board extends BaseBoard implements Renderable"
    )
    assert _definition(tags, "render", "Board").signature == (
        "@Override\npublic String render(int width)"
    )
    assert tags.references == {
        "BaseBoard": 1,
        "Cell": 2,
        "Entity": 1,
        "List": 2,
        "Override": 1,
        "Renderable": 1,
        "Settings": 2,
        "String": 2,
        "helper": 1,
        "loadCells": 1,
    }


def test_c() -> None:
    tags = _tags(
        "include/board.h",
        """\
        #ifndef BOARD_H
        #define BOARD_H
        #include <stddef.h>

        #define MAX_SIZE 19
        #define CELL(b, x, y) ((b)->cells[(y) * (b)->width + (x)])

        struct board;

        typedef struct {
            int x, y;
        } point;

        struct board {
            size_t width;
            char *cells;
        };

        enum color { BLACK, WHITE };

        struct board *board_new(size_t width);

        static inline int board_size(const struct board *b) {
            return (int)b->width;
        }

        int board_place(struct board *b, point p)
        {
            log_move(p.x, p.y);
            return validate(b->width);
        }
        #endif
        """,
    )
    assert tags.language == "c"
    assert _summary(tags) == [
        ("BOARD_H", "macro", 1, ""),
        ("MAX_SIZE", "macro", 4, ""),
        ("CELL", "macro", 5, ""),
        ("point", "type", 9, ""),
        ("x", "field", 10, "point"),
        ("y", "field", 10, "point"),
        ("board", "class", 13, ""),
        ("width", "field", 14, "board"),
        ("cells", "field", 15, "board"),
        ("color", "enum", 18, ""),
        ("board_new", "function", 20, ""),
        ("board_size", "function", 22, ""),
        ("board_place", "function", 26, ""),
    ]
    assert _definition(tags, "MAX_SIZE").end_line == 4
    assert _definition(tags, "board_new").signature == "struct board *board_new(size_t width);"
    size = _definition(tags, "board_size")
    assert size.signature == "static inline int board_size(const struct board *b)"
    assert size.end_line == 24
    assert _definition(tags, "board_place").signature == "int board_place(struct board *b, point p)"
    assert _definition(tags, "point").signature == "typedef struct {\n    int x, y;\n} point;"
    assert tags.references == {"board": 4, "log_move": 1, "point": 1, "validate": 1}


def test_cpp() -> None:
    tags = _tags(
        "src/board.cpp",
        """\
        #include "board.hpp"

        namespace game {

        template <typename T>
        class Board : public BaseBoard {
        public:
            explicit Board(int width);
            void place(int x, int y) const;
            static Board *create();

        private:
            int width_ = 0;
        };

        void Board::place(int x, int y) const {
            auto cell = std::make_unique<Cell>(x, y);
            log::write(cell->name());
            validate(x);
        }

        }  // namespace game

        int main() {
            game::Board<int> board(3);
            board.place(1, 2);
        }
        """,
    )
    assert tags.language == CPP
    assert _summary(tags) == [
        ("game", "module", 2, ""),
        ("Board", "class", 5, "game"),
        ("Board", "method", 7, "game.Board"),
        ("place", "method", 8, "game.Board"),
        ("create", "method", 9, "game.Board"),
        ("width_", "field", 12, "game.Board"),
        ("place", "method", 15, "game.Board"),
        ("main", "function", 23, ""),
    ]
    place = tags.definitions[6]
    assert place.signature == "void Board::place(int x, int y) const"
    assert (place.line, place.end_line) == (15, 19)
    assert _definition(tags, "create", "game.Board").signature == "static Board *create();"
    assert tags.references == {
        "BaseBoard": 1,
        "Board": 2,
        "Cell": 1,
        "T": 1,
        "make_unique": 1,
        "name": 1,
        "place": 1,
        "validate": 1,
        "write": 1,
    }


def test_long_headers_are_joined_and_cut() -> None:
    params = ", ".join(f"argument_{i}: int" for i in range(20))
    tags = _tags("long.py", f"def wide({params}) -> None:\n    pass\n")
    signature = tags.definitions[0].signature
    assert len(signature) == MAX_SIGNATURE_CHARS
    assert signature.startswith("def wide(argument_0: int, ")
    assert signature.endswith("...")
    three = _tags("three.py", "def f(\n    a: int,\n) -> int:\n    return a\n")
    assert three.definitions[0].signature == "def f(\n    a: int,\n) -> int:"


def test_unknown_extension_gives_none() -> None:
    assert extract_tags("notes.rb", b"def hello; end\n") is None
    assert extract_tags("Makefile", b"all:\n\techo hi\n") is None


@pytest.mark.parametrize(
    "path",
    [
        "a.py",
        "a.js",
        "a.ts",
        "a.tsx",
        "a.go",
        "a.rs",
        "A.java",
        "a.c",
        "a.h",
        "a.cc",
        "a.cpp",
        "a.hpp",
    ],
)
def test_empty_file_has_no_tags(path: str) -> None:
    for source in (b"", b"\n\n", b"   "):
        tags = extract_tags(path, source)
        assert tags is not None
        assert tags.definitions == ()
        assert tags.references == {}


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("board.py", PYTHON_SOURCE),
        ("x.go", "package x\ntype S struct { a int }\nfunc (s *S) F() { g() }\n"),
        ("x.rs", "impl<T> S<T> { fn f(&self) { g::<T>(); } }\nstruct S<T> { a: T }\n"),
        ("X.java", "class X { int a; void f() { g(); } }\n"),
        ("x.c", "struct s { int a; };\nint f(void) { return g(); }\n"),
        ("x.cpp", "namespace n { class C { void f(); }; }\nvoid n::C::f() { g(); }\n"),
        ("x.tsx", "export const A = () => <B>{'é'}</B>;\ninterface P { a: string }\n"),
    ],
)
def test_every_truncation_tags_without_raising(path: str, source: str) -> None:
    data = dedent(source).encode("utf-8")
    for end in range(0, len(data), 3):
        assert extract_tags(path, data[:end]) is not None
    assert extract_tags(path, b'\x00\xff)]}>>> def class fn func {{ \' """ /*') is not None


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a.py", "python"),
        ("b.jsx", "javascript"),
        ("c.mts", "typescript"),
        ("D.tsx", "tsx"),
        ("e.go", "go"),
        ("f.rs", "rust"),
        ("G.java", "java"),
        ("h.c", "c"),
        ("h.h", "c"),
        ("i.cc", "cpp"),
        ("i.CPP", "cpp"),
        ("i.cxx", "cpp"),
        ("i.hpp", "cpp"),
        ("i.hh", "cpp"),
        ("i.hxx", "cpp"),
        ("README", None),
        ("x.rb", None),
    ],
)
def test_index_language_for_path(path: str, language: str | None) -> None:
    assert index_language_for_path(path) == language


def test_every_tags_query_compiles_once() -> None:
    for language in SUPPORTED_LANGUAGES:
        assert get_tags_query(language) is get_tags_query(language)
    with pytest.raises(ValueError, match="cobol"):
        get_tags_query("cobol")
