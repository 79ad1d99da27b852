"""What a test run's results say: pytest's JUnit XML, else the failures and counts that a runner
prints (pytest, node's TAP and spec reporters, Jest, go test, cargo test).

The results are written by code under test, so the XML is size-capped and refuses a DOCTYPE,
and text from a run is made safe for one terminal line before it is shown.
"""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from agents.execution.test_command import TestKind

# pytest writes its per-test results here, inside the copy (the run's working folder).
JUNIT_FILE = ".sopls-junit.xml"
_JUNIT_MAX_BYTES = 8 * 1024 * 1024
_REASON_MAX_CHARS = 200


class JunitXmlError(ValueError):
    """A JUnit XML file that is refused: too large, not well-formed, or declaring a DOCTYPE."""


@dataclass(frozen=True)
class TestCounts:
    """How many tests a run passed, failed, errored and skipped, from the runner's own results."""

    __test__ = False
    passed: int
    failed: int
    errors: int
    skipped: int


@dataclass(frozen=True)
class JunitResults:
    """Per-test results of a JUnit XML file, by pytest node id.

    `errors` include the test files that could not be collected (`uncollected`);
    `collection_error` says which one and why, for the first one.
    """

    passed: frozenset[str]
    failed: frozenset[str]
    errors: frozenset[str]
    skipped: frozenset[str]
    uncollected: frozenset[str]
    collection_error: str | None

    @property
    def ran_a_test(self) -> bool:
        return bool(self.passed or self.failed or self.skipped or self.errors - self.uncollected)

    @property
    def counts(self) -> TestCounts:
        return TestCounts(len(self.passed), len(self.failed), len(self.errors), len(self.skipped))


class JunitReader:
    """Reads pytest's JUnit XML from a copy before the copy is removed.

    The tests may have replaced the file with a link or a device, so only a regular file is
    read, without following links, and no more than the size cap.
    """

    def __init__(self) -> None:
        self.data: bytes | None = None

    def __call__(self, copy_root: Path) -> None:
        try:
            handle = os.open(copy_root / JUNIT_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return
        with os.fdopen(handle, "rb") as file:
            if stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                self.data = file.read(_JUNIT_MAX_BYTES + 1)

    def results(self) -> JunitResults | str | None:
        """The results, the reason they were refused, or None when there was no file."""
        if self.data is None:
            return None
        try:
            return parse_junit_xml(self.data)
        except JunitXmlError as exc:
            return str(exc)


def parse_junit_xml(data: bytes) -> JunitResults:
    """Per-test outcomes from pytest's JUnit XML (family xunit1).

    The file is written by code under test, so it is size-capped and a DOCTYPE is refused
    before any entity it declares can be expanded.
    """
    if len(data) > _JUNIT_MAX_BYTES:
        raise JunitXmlError(f"the JUnit XML is larger than {_JUNIT_MAX_BYTES} bytes")

    def refuse_doctype(*_: object) -> None:
        raise JunitXmlError("the JUnit XML declares a DOCTYPE, which test results never need")

    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise JunitXmlError(f"the JUnit XML is not well-formed ({exc})") from None
    outcomes: dict[str, set[str]] = {
        "passed": set(),
        "failure": set(),
        "error": set(),
        "skipped": set(),
    }
    uncollected: dict[str, str] = {}
    for case in builder.close().iter("testcase"):
        name = _node_id(case)
        found = [child for child in case if child.tag in outcomes]
        outcome = found[0].tag if found else "passed"
        outcomes[outcome].add(name)
        if outcome == "error" and not case.get("classname"):
            uncollected.setdefault(name, _error_line(found[0].text or ""))
    first = next(iter(uncollected.items()), None)
    return JunitResults(
        passed=frozenset(outcomes["passed"]),
        failed=frozenset(outcomes["failure"]),
        errors=frozenset(outcomes["error"]),
        skipped=frozenset(outcomes["skipped"]),
        uncollected=frozenset(uncollected),
        collection_error=f"{first[0]} cannot be collected: {first[1]}" if first else None,
    )


def _node_id(case: ET.Element) -> str:
    """pytest's node id from xunit1's `file`, `classname` (module, then classes) and `name`."""
    file, classname, name = case.get("file"), case.get("classname", ""), case.get("name", "")
    if file is None:
        return f"{classname}::{name}" if classname else name
    if not classname:
        return file  # a test file that could not be collected
    module = file.removesuffix(".py").replace("/", ".")
    classes = classname.removeprefix(module).lstrip(".").replace(".", "::")
    return "::".join(part for part in (file, classes, name) if part)


def _error_line(text: str) -> str:
    """The exception a traceback ends with (pytest marks it `E`), else its last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    marked = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
    return (marked or lines or ["no reason given"])[-1]


def one_line(text: str) -> str:
    """Text from a run made safe for one terminal line: printable, collapsed and capped."""
    words = "".join(char if char.isprintable() else " " for char in text).split()
    line = " ".join(words)
    return line if len(line) <= _REASON_MAX_CHARS else line[: _REASON_MAX_CHARS - 1] + "…"


_PYTEST_SUMMARY = re.compile(r"^=+ short test summary info =+$", re.MULTILINE)
_PYTEST_FAILED = re.compile(r"^(?:FAILED|ERROR) ((?:[^\s\[]|\[[^\]]*\])+)", re.MULTILINE)
_TAP_NOT_OK = re.compile(r"^\s*not ok \d+ - (.+?)\s*$", re.MULTILINE)
_TAP_DIRECTIVE = re.compile(r"(?<!\\)#\s*(?:TODO|SKIP)\b.*$", re.IGNORECASE)
_SPEC_FAILED = re.compile(r"^\s*✖ (.+?)\s*$", re.MULTILINE)
_SPEC_DURATION = re.compile(r"\s*\(\d+(?:\.\d+)?m?s\)$")
_GO_FAILED = re.compile(r"^\s*--- FAIL: (\S+)", re.MULTILINE)
_CARGO_FAILED = re.compile(r"^test (.+) \.\.\. FAILED$", re.MULTILINE)


def _pytest_failures(output: str) -> set[str]:
    """Node ids from the short summary only, so captured output cannot add names."""
    starts = [match.end() for match in _PYTEST_SUMMARY.finditer(output)]
    if not starts:
        return set()
    return set(_PYTEST_FAILED.findall(output, starts[-1]))


def _node_failures(output: str) -> set[str]:
    """Failed tests from node's TAP reporter and from its spec reporter."""
    names: set[str] = set()
    for raw in _TAP_NOT_OK.findall(output):
        if not _TAP_DIRECTIVE.search(raw):
            names.add(raw.replace("\\#", "#").replace("\\\\", "\\"))
    for raw in _SPEC_FAILED.findall(output):
        if raw != "failing tests:" and not _TAP_DIRECTIVE.search(raw):
            names.add(_SPEC_DURATION.sub("", raw))
    return names


def _go_failures(output: str) -> set[str]:
    return set(_GO_FAILED.findall(output))


def _cargo_failures(output: str) -> set[str]:
    return set(_CARGO_FAILED.findall(output))


_PARSERS: dict[str, tuple[Callable[[str], set[str]], ...]] = {
    "pytest": (_pytest_failures,),
    "npm": (_node_failures,),
    "go": (_go_failures,),
    "cargo": (_cargo_failures,),
    "custom": (_pytest_failures, _node_failures, _go_failures, _cargo_failures),
}


_NODE_COUNT = re.compile(r"^(?:#|ℹ) (pass|fail|cancelled|skipped|todo) (\d+)\s*$", re.MULTILINE)
_JEST_TOTALS = re.compile(r"^Tests:\s+(.+?),\s+\d+ total\s*$", re.MULTILINE)
_JEST_PART = re.compile(r"(\d+) (failed|passed|skipped|todo)")
_CARGO_RESULT = re.compile(
    r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", re.MULTILINE
)


def _node_counts(output: str) -> TestCounts | None:
    """node --test's closing summary (TAP `# pass 1` or spec `ℹ pass 1`), else Jest's `Tests:`."""
    found = dict((key, int(value)) for key, value in _NODE_COUNT.findall(output))
    if "pass" in found and "fail" in found:
        skipped = found.get("skipped", 0) + found.get("todo", 0)
        return TestCounts(found["pass"], found["fail"], found.get("cancelled", 0), skipped)
    totals = _JEST_TOTALS.findall(output)
    if not totals:
        return None
    parts = {label: int(count) for count, label in _JEST_PART.findall(totals[-1])}
    skipped = parts.get("skipped", 0) + parts.get("todo", 0)
    return TestCounts(parts.get("passed", 0), parts.get("failed", 0), 0, skipped)


def _cargo_counts(output: str) -> TestCounts | None:
    """The sum of cargo's `test result:` lines, one per test binary."""
    results = _CARGO_RESULT.findall(output)
    if not results:
        return None
    passed, failed, ignored = (sum(int(row[i]) for row in results) for i in range(3))
    return TestCounts(passed, failed, 0, ignored)


_COUNTERS: dict[str, tuple[Callable[[str], TestCounts | None], ...]] = {
    "npm": (_node_counts,),
    "cargo": (_cargo_counts,),
    "custom": (_node_counts, _cargo_counts),
}


def parse_counts(output: str, kind: TestKind) -> TestCounts | None:
    """The counts a runner prints at its end, where it prints them (pytest's come from JUnit)."""
    for count in _COUNTERS.get(kind, ()):
        counts = count(output)
        if counts is not None:
            return counts
    return None


def parse_failed_tests(output: str, kind: TestKind) -> frozenset[str]:
    """The failed tests a runner's output names; a custom command may be any of the runners."""
    return frozenset(name for parse in _PARSERS[kind] for name in parse(output))
