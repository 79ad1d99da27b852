"""Outlines: the interface of a file as the Engineer's prompt shows it, compared exactly."""

import threading
from textwrap import dedent

import pytest

from repo_index.languages import (
    JAVASCRIPT,
    PYTHON,
    TSX,
    TYPESCRIPT,
    get_language,
    get_parser,
    language_for_path,
)
from repo_index.outline import outline

PYTHON_MODULE = dedent(
    '''\
    """Game board model.

    The rest of the module docstring is left out.
    """

    from __future__ import annotations

    import asyncio
    from dataclasses import dataclass, field

    from pydantic import BaseModel, Field

    MAX_SIZE = 19
    NAMES: list[str] = ["black", "white"]
    LONG_TABLE = {"alpha": 1, "beta": 2, "gamma": 3, "delta": 4, "epsilon": 5, "zeta": 6, "eta": 7}
    _cache: dict[str, int] = {
        "x": 1,
    }


    @dataclass(frozen=True)
    class Point:
        """A cell on the board."""

        x: int
        y: int = 0
        tags: list[str] = field(default_factory=list)

        def moved(self, dx: int, dy: int) -> Point:
            return Point(self.x + dx, self.y + dy)


    class Settings(BaseModel):
        name: str = Field(..., description="Display name")
        size: int = 9

        class Config:
            frozen = True


    class Board:
        width: int

        def __init__(self, width: int, height: int) -> None:
            self.width = width
            self.height = height

        def place(self, x: int, y: int) -> bool:
            """Place a piece; False when the cell is taken.

            Details that the outline leaves out.
            """

            def helper() -> None:
                pass

            helper()
            return True

        @property
        def size(self) -> int:
            return self.width

        @classmethod
        def empty(cls, *, size: int = 9, **options: object) -> Board:  # a comment
            return cls(size, size)


    async def fetch(url: str, timeout: float = 1.5, retries: int = 3) -> bytes:
        """Download a page."""

        async def attempt() -> bytes:
            return b""

        return await attempt()


    def configure(
        name: str,
        verbose: bool = False,
    ) -> None:
        print(name, verbose)


    if __name__ == "__main__":
        asyncio.run(fetch("https://example.com"))
    '''
)

PYTHON_OUTLINE = dedent(
    '''\
    """Game board model."""
    MAX_SIZE = 19
    NAMES: list[str] = ["black", "white"]
    LONG_TABLE = ...
    _cache: dict[str, int] = ...
    @dataclass(frozen=True)
    class Point:
        """A cell on the board."""
        x: int
        y: int = 0
        tags: list[str] = field(default_factory=list)
        def moved(self, dx: int, dy: int) -> Point: ...
    class Settings(BaseModel):
        name: str = Field(..., description="Display name")
        size: int = 9
        class Config:
            frozen = True
    class Board:
        width: int
        def __init__(self, width: int, height: int) -> None: ...
        def place(self, x: int, y: int) -> bool:
            """Place a piece; False when the cell is taken."""
            ...
        @property
        def size(self) -> int: ...
        @classmethod
        def empty(cls, *, size: int = 9, **options: object) -> Board: ...
    async def fetch(url: str, timeout: float = 1.5, retries: int = 3) -> bytes:
        """Download a page."""
        ...
    def configure(
        name: str,
        verbose: bool = False,
    ) -> None: ...'''
)


def test_python_module() -> None:
    assert outline("board.py", PYTHON_MODULE) == PYTHON_OUTLINE


def test_python_non_ascii_text_before_definitions() -> None:
    source = dedent(
        '''\
        """Café ☕ utilities — naïve."""

        GREETING = "héllo 👋 wörld"


        def crème(brûlée: str = "🍮") -> str:
            """Return the dessert 🍰, accents é à ü."""
            return brûlée


        class Über:
            émoji: str = "😀"

            def 走(self, 距離: int) -> None:
                print("🚶" * 距離)
        '''
    )
    assert outline("café.py", source) == dedent(
        '''\
        """Café ☕ utilities — naïve."""
        GREETING = "héllo 👋 wörld"
        def crème(brûlée: str = "🍮") -> str:
            """Return the dessert 🍰, accents é à ü."""
            ...
        class Über:
            émoji: str = "😀"
            def 走(self, 距離: int) -> None: ...'''
    )


def test_python_syntax_error_keeps_the_good_definitions() -> None:
    source = dedent(
        """\
        def good_one(a: int) -> int:
            return a

        def broken(x:
            return 1

        class Fine:
            def ok(self) -> str:
                return "ok"

        def last(y) -> None:
            pass
        """
    )
    assert outline("broken.py", source) == dedent(
        """\
        def good_one(a: int) -> int: ...
        class Fine:
            def ok(self) -> str: ...
        def last(y) -> None: ..."""
    )


def test_javascript_module() -> None:
    source = dedent(
        """\
        const path = require("path");
        const { join } = require("path");
        import fs from "fs";

        /**
         * Greets someone.
         * @param {string} name
         */
        export function greet(name, greeting = "Hello") {
          return `${greeting}, ${name}`;
        }

        export default class Counter extends EventTarget {
          count = 0;
          #secret = 42;
          static instances = [];

          constructor(start) {
            super();
            this.count = start;
          }

          /** Adds `by` and returns the new count. */
          increment(by = 1) {
            this.count += by;
            return this.count;
          }

          async *ticks() {}

          onClick = (event) => {
            this.increment();
          };
        }

        export const add = (a, b) => a + b;
        export const fetchJson = async (url) => {
          const res = await fetch(url);
          return res.json();
        };
        const config = {
          debug: false,
        };
        let counter = 0;
        var legacy = function (x) { return x; };
        console.log(join(path.sep, "x"));
        module.exports = { greet, add };
        exports.helper = function helper(a) { return a; };
        """
    )
    assert outline("counter.mjs", source) == dedent(
        """\
        /** Greets someone. */
        export function greet(name, greeting = "Hello") { ... }
        export default class Counter extends EventTarget {
          count = 0;
          #secret = 42;
          static instances = [];
          constructor(start) { ... }
          /** Adds `by` and returns the new count. */
          increment(by = 1) { ... }
          async *ticks() { ... }
          onClick = (event) => { ... }
        }
        export const add = (a, b) => ...
        export const fetchJson = async (url) => { ... }
        const config = ...;
        let counter = 0;
        var legacy = function (x) { ... }
        module.exports = { greet, add };
        exports.helper = function helper(a) { ... }"""
    )


def test_typescript_module() -> None:
    source = dedent(
        """\
        import { readFile } from "fs/promises";

        /**
         * A shape that can be drawn.
         */
        export interface Shape {
          area(): number;
          readonly name: string;
        }

        export type Id = string | number;

        enum Color {
          Red,
          Green,
        }

        export class Square implements Shape {
          readonly name = "square";
          private side: number;

          constructor(side: number) {
            this.side = side;
          }

          area(): number {
            return this.side ** 2;
          }

          static unit(): Square {
            return new Square(1);
          }
        }

        export async function load<T>(
          path: string,
          parse: (raw: string) => T,
        ): Promise<T> {
          const raw = await readFile(path, "utf8");
          return parse(raw);
        }

        export const double = (n: number): number => n * 2;
        declare const BUILD: string;
        export function over(a: string): void;
        export * from "./util";
        namespace Geo {
          export function dist(a: number, b: number): number {
            return Math.abs(a - b);
          }
        }
        """
    )
    assert outline("shapes.ts", source) == dedent(
        """\
        /** A shape that can be drawn. */
        export interface Shape {
          area(): number;
          readonly name: string;
        }
        export type Id = string | number;
        enum Color {
          Red,
          Green,
        }
        export class Square implements Shape {
          readonly name = "square";
          private side: number;
          constructor(side: number) { ... }
          area(): number { ... }
          static unit(): Square { ... }
        }
        export async function load<T>(
          path: string,
          parse: (raw: string) => T,
        ): Promise<T> { ... }
        export const double = (n: number): number => ...
        declare const BUILD: string;
        export function over(a: string): void;
        export * from "./util";
        namespace Geo {
          export function dist(a: number, b: number): number { ... }
        }"""
    )


def test_typescript_long_interface_is_one_line_per_member() -> None:
    fields = "".join(f"  field{i}: number;\n" for i in range(20))
    source = f"export interface Big {{\n{fields}  nested: {{\n    a: string;\n  }};\n}}\n"
    expected_fields = "".join(f"  field{i}: number;\n" for i in range(20))
    assert outline("big.ts", source) == (
        f"export interface Big {{\n{expected_fields}  nested: {{ ... }};\n}}"
    )


def test_tsx_component_file() -> None:
    source = dedent(
        """\
        import React from "react";

        interface ButtonProps {
          label: string;
          onClick?: () => void;
        }

        export const Button = ({ label, onClick }: ButtonProps) => (
          <button onClick={onClick}>{label}</button>
        );

        export default function App({ title }: { title: string }): JSX.Element {
          const [n, setN] = React.useState(0);
          return <div title={title} onClick={() => setN(n + 1)}>{n}</div>;
        }
        """
    )
    assert outline("App.tsx", source) == dedent(
        """\
        interface ButtonProps {
          label: string;
          onClick?: () => void;
        }
        export const Button = ({ label, onClick }: ButtonProps) => ...
        export default function App({ title }: { title: string }): JSX.Element { ... }"""
    )


def test_unknown_extension_gives_the_first_30_lines() -> None:
    source = "".join(f"line {i}\n" for i in range(1, 41))
    assert outline("notes.rb", source) == "\n".join(f"line {i}" for i in range(1, 31))
    assert outline("Makefile", "all:\n\techo hi\n") == "all:\n\techo hi"


@pytest.mark.parametrize("path", ["empty.py", "empty.js", "empty.ts", "empty.tsx", "empty.txt"])
def test_empty_file(path: str) -> None:
    assert outline(path, "") == ""


def test_outline_of_a_long_python_file_is_under_a_quarter_of_it() -> None:
    chunks = []
    for i in range(20):
        body = "".join(f"    total += {j} * value  # step {j} of function {i}\n" for j in range(15))
        chunks.append(
            f"def compute_{i}(value: int, scale: float = 1.0) -> float:\n"
            f'    """Compute the {i}th figure."""\n'
            "    total = 0\n"
            f"{body}"
            "    return total * scale\n\n"
        )
    source = "".join(chunks)
    assert len(source.splitlines()) == 400
    result = outline("figures.py", source)
    assert result.startswith(
        "def compute_0(value: int, scale: float = 1.0) -> float:\n"
        '    """Compute the 0th figure."""\n'
        "    ...\n"
    )
    assert len(result) < 0.25 * len(source)


@pytest.mark.parametrize(
    ("path", "source"),
    [("board.py", PYTHON_MODULE), ("app.tsx", "export const A = () => <div>{'é'}</div>;\n")],
)
def test_every_truncation_outlines_without_raising(path: str, source: str) -> None:
    for end in range(0, len(source), 7):
        assert isinstance(outline(path, source[:end]), str)
    assert isinstance(outline(path, '\x00\udcff)]}>>> def class {{ \' """ /*'), str)


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a.py", PYTHON),
        ("pkg/b.js", JAVASCRIPT),
        ("c.mjs", JAVASCRIPT),
        ("d.cjs", JAVASCRIPT),
        ("E.jsx", JAVASCRIPT),
        ("f.ts", TYPESCRIPT),
        ("G.tsx", TSX),
        ("h.rs", None),
        ("README", None),
    ],
)
def test_language_for_path(path: str, language: str | None) -> None:
    assert language_for_path(path) == language


def test_languages_load_once_and_parsers_are_per_thread() -> None:
    assert get_language(TSX) is get_language(TSX)
    assert get_parser(PYTHON) is get_parser(PYTHON)
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(get_parser(PYTHON)))
    thread.start()
    thread.join()
    assert other[0] is not get_parser(PYTHON)
    with pytest.raises(ValueError, match="cobol"):
        get_language("cobol")


def test_other_indexed_languages_outline_their_signatures_by_scope() -> None:
    go = (
        "package svc\n\ntype Server struct{ Port int }\n\n"
        "func (s *Server) Start() error {\n\treturn listen(s.Port)\n}\n"
    )
    assert outline("svc/server.go", go) == (
        "type Server struct\n    Port int\n    func (s *Server) Start() error"
    )
    rust = (
        "pub struct Parser { depth: usize }\n\nimpl Parser {\n"
        "    pub fn parse(&self, text: &str) -> usize { count_tokens(text) }\n}\n"
    )
    assert outline("src/lib.rs", rust) == (
        "pub struct Parser\n    depth: usize\n    pub fn parse(&self, text: &str) -> usize"
    )
    java = (
        "public class Greeter {\n  public void greet(String who) { System.out.println(who); }\n}\n"
    )
    assert outline("app/Greeter.java", java) == (
        "public class Greeter\n    public void greet(String who)"
    )
    assert "printf" not in outline("util.c", 'int add(int a, int b) { printf("x"); return a; }\n')
