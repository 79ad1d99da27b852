"""Running a repository's own tests against a proposed change.

In an existing repository the QA role does not judge a change by tests it wrote itself only: it
runs the repository's test suite twice, in two sandboxed copies — once as the repository is and
once with the proposal applied — so tests that were already failing are reported apart and are
not blamed on the change.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import stat
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal
from xml.parsers import expat

from agents.edits.proposal import Proposal
from agents.errors import ConfigError
from agents.execution.dependency_cache import prepare_cargo, prepare_node_modules
from agents.execution.repository_env import ensure_repository_env
from agents.execution.sandbox import Containment, CopyRun, SandboxLimits, SandboxResult, run_on_copy
from agents.framework.context import TestVerdict

TestKind = Literal["pytest", "npm", "go", "cargo", "custom"]

_NPM_PLACEHOLDER = 'echo "Error: no test specified" && exit 1'
_PYTEST_CONFIGS = (
    ("pyproject.toml", "[tool.pytest"),
    ("setup.cfg", "[tool:pytest]"),
    ("tox.ini", "[pytest]"),
)
_TEST_DIRS = ("tests", "test")
_TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")
_LISTED_AT_MOST = 20
_OUTPUT_TAIL_LINES = 30
_DEFAULT_LIMITS = SandboxLimits()
# pytest writes its per-test results here, inside the copy (the run's working folder).
JUNIT_FILE = ".sopls-junit.xml"
# The project is installed here in each copy; dot folders are not collected by pytest.
SITE_DIR = ".sopls-site"
_INSTALL_PROJECT = (
    "-m",
    "pip",
    "install",
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
    "--no-cache-dir",
    "--disable-pip-version-check",
    "--quiet",
    "--target",
    SITE_DIR,
    ".",
)
_JUNIT_MAX_BYTES = 8 * 1024 * 1024
_REASON_MAX_CHARS = 200
# pytest's exit codes for "interrupted", "internal error", "usage error" and "no tests collected".
_PYTEST_NOT_RUN_CODES = {2: "was interrupted", 3: "hit an internal error", 4: "was misused"}
_PYTEST_NO_TESTS = 5
_COMMAND_NOT_FOUND = 127


class InvalidTestCommandError(ConfigError):
    """The configured test command cannot be turned into an argument list."""


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


@dataclass(frozen=True)
class TestCommand:
    """How to run a repository's tests, and which runner's output format to expect."""

    __test__ = False
    argv: list[str]
    kind: TestKind


@dataclass(frozen=True)
class TestOutcome:
    """One run of the tests; `exit_code` is None when the time limit stopped it.

    `counts` come from the runner's machine-readable results or its closing summary, and
    `passed_tests` only from JUnit XML (`per_test`);
    `not_run_reason` says why no test ran at all (nothing collected, a missing command).
    """

    __test__ = False
    passed: bool
    exit_code: int | None
    timed_out: bool
    failed_tests: frozenset[str]
    output: str
    containment: Containment = "none"
    sandbox_notes: tuple[str, ...] = ()
    passed_tests: frozenset[str] = frozenset()
    counts: TestCounts | None = None
    not_run_reason: str | None = None
    per_test: bool = False  # whether every test's outcome is known by name (JUnit XML)

    def to_json(self) -> dict[str, Any]:
        """The counts for the run result; without machine-readable results only failures are
        known, by name."""
        counts = self.counts
        return {
            "passed": counts.passed if counts else None,
            "failed": counts.failed if counts else len(self.failed_tests),
            "errors": counts.errors if counts else None,
            "exitCode": self.exit_code,
            "timedOut": self.timed_out,
        }


@dataclass(frozen=True)
class ChangeReport:
    """The same tests before and after a change, so only new failures count against it.

    `must_pass` are the tests a bug report quotes as failing: the change is only a fix when
    they no longer fail.
    """

    __test__ = False
    command: TestCommand
    before: TestOutcome
    after: TestOutcome
    must_pass: frozenset[str] = frozenset()
    environment: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def broken_by_change(self) -> frozenset[str]:
        """Tests failing with the change that did not fail without it."""
        return self.after.failed_tests - self.before.failed_tests

    @property
    def already_failing(self) -> frozenset[str]:
        """Tests failing before the change; they are not the change's fault either way."""
        return self.before.failed_tests

    @property
    def still_failing(self) -> frozenset[str]:
        """Tests failing both before and with the change."""
        return self.before.failed_tests & self.after.failed_tests

    @property
    def fixed(self) -> frozenset[str]:
        """Tests failing before the change that ran and did not fail with it."""
        if self.after.timed_out or self.after.not_run_reason is not None:
            return frozenset()
        fixed = self.before.failed_tests - self.after.failed_tests
        return fixed & self.after.passed_tests if self.after.per_test else fixed

    @property
    def not_run_reason(self) -> str | None:
        """Why no test ran with the change, when none ran without it either; a change that stops
        tests from running is a failure instead (its broken files or exit code show it)."""
        if self.before.not_run_reason is None and not self.before.timed_out:
            return None
        reason = self.after.not_run_reason
        if reason is None or not self.environment:
            return reason
        return f"{reason} ({self.environment[0]})"

    @property
    def ok(self) -> bool:
        """True when the change breaks nothing the runs can show.

        A failing run whose output names no test (a build error, a crash, an unknown runner) is
        only accepted when the repository failed the same way before the change; tests that did
        not run at all show nothing.
        """
        if self.after.timed_out or self.broken_by_change or self.not_run_reason is not None:
            return False
        if self.after.passed or self.after.failed_tests:
            return True
        return (
            not self.before.timed_out
            and self.before.exit_code == self.after.exit_code
            and not self.before.failed_tests
        )

    @property
    def unfixed(self) -> frozenset[str]:
        """The tests the change had to make pass that still fail."""
        return self.must_pass & self.after.failed_tests

    @property
    def verdict(self) -> TestVerdict:
        """QA's word: a change passes only when it breaks nothing and fixes what it must."""
        if self.after.timed_out:
            return "timed out"
        if self.not_run_reason is not None:
            return "not run"
        return "passed" if self.ok and not self.unfixed else "failed"

    def line(self) -> str:
        """One line for the terminal, e.g. `tests: 1 failed before → 1 passed after`."""
        return describe_tests(self.to_json())

    def to_json(self) -> dict[str, Any]:
        """The `tests` field of a run's result and the run folder's `test_report.json`."""
        document: dict[str, Any] = {
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "newlyFailing": sorted(self.broken_by_change),
            "stillFailing": sorted(self.still_failing),
            "fixed": sorted(self.fixed),
            "unfixed": sorted(self.unfixed),
            "verdict": self.verdict,
            "changed": list(self.changed),
            "environment": list(self.environment),
        }
        if self.not_run_reason is not None:
            document["reason"] = self.not_run_reason
        document["line"] = describe_tests(document)
        return document

    def summary(self) -> str:
        """A short Markdown report for the QA feedback and the test report document."""
        lines = [
            "### Repository tests",
            "",
            f"Command: {_inline(shlex.join(run_argv(self.command)))}",
            "",
            f"- Before the change: {_describe(self.before)}",
            f"- With the change: {_describe(self.after)}",
            f"- Sandbox: {self.after.containment}. {' '.join(self.after.sandbox_notes)}".rstrip(),
            "",
            f"**Verdict:** {self._verdict()}",
        ]
        if self.broken_by_change:
            lines += ["", "#### Broken by the change", *_bullets(self.broken_by_change)]
        if self.environment:
            lines += ["", "#### Environment", *(f"- {note}" for note in self.environment)]
        if self.already_failing:
            lines += [
                "",
                "#### Failing before the change (not caused by it)",
                *_bullets(self.already_failing),
            ]
        if not self.ok and not self.broken_by_change:
            tail = "\n".join(self.after.output.rstrip().splitlines()[-_OUTPUT_TAIL_LINES:])
            fence = "`" * max(3, _longest_backtick_run(tail) + 1)
            lines += ["", "#### End of the output with the change", fence, tail, fence]
        return "\n".join(lines) + "\n"

    def _verdict(self) -> str:
        if self.after.timed_out:
            return "not OK: the tests did not finish in time with the change."
        if self.not_run_reason is not None:
            return f"not run: {self.not_run_reason}."
        broken = len(self.broken_by_change)
        if broken:
            return f"not OK: the change breaks {broken} test{'s' if broken != 1 else ''}."
        if self.unfixed:
            return f"not OK: these tests still fail: {', '.join(sorted(self.unfixed))}."
        if not self.ok:
            return (
                "not OK: the tests fail with the change in a way that names no test and "
                "differs from the run before it."
            )
        return "OK: the change breaks no test."


@dataclass(frozen=True)
class NoTests:
    """A repository where QA found nothing to run; it is reported, never taken as a pass."""

    __test__ = False
    reason: str
    verdict: TestVerdict = "not run"

    def line(self) -> str:
        return describe_tests(self.to_json())

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "before": None,
            "after": None,
            "newlyFailing": [],
            "stillFailing": [],
            "fixed": [],
            "unfixed": [],
            "verdict": self.verdict,
            "changed": [],
            "environment": [],
            "reason": self.reason,
        }
        document["line"] = describe_tests(document)
        return document

    def summary(self) -> str:
        return f"### Repository tests\n\n**Verdict:** not run: {self.reason}.\n"


def detect_test_command(
    root: Path, override: str | None = None, *, python: Path | None = None
) -> TestCommand | None:
    """Find how the repository at `root` runs its tests, or None when nothing says so.

    `override` (a shell-like string from the configuration) wins over detection; a blank one
    counts as not set. `python` is the interpreter that runs pytest (the project's own
    environment when there is one), by default this process's interpreter.
    """
    if override is not None and override.strip():
        try:
            argv = shlex.split(override)
        except ValueError as exc:
            raise InvalidTestCommandError(
                f"The test command {override!r} cannot be split into arguments ({exc}). "
                "Fix its quoting in the configuration."
            ) from exc
        return TestCommand(argv=argv, kind="custom")
    if _uses_pytest(root):
        interpreter = str(python) if python is not None else sys.executable
        return TestCommand(
            argv=[interpreter, "-m", "pytest", "-q", "-p", "no:cacheprovider"], kind="pytest"
        )
    if _has_npm_test_script(root / "package.json"):
        return TestCommand(argv=["npm", "test", "--silent"], kind="npm")
    if (root / "go.mod").is_file():
        return TestCommand(argv=["go", "test", "./..."], kind="go")
    if (root / "Cargo.toml").is_file():
        return TestCommand(argv=["cargo", "test"], kind="cargo")
    return None


def _uses_pytest(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    for name, marker in _PYTEST_CONFIGS:
        config = root / name
        if config.is_file() and marker in config.read_text(encoding="utf-8", errors="replace"):
            return True
    return any(
        path.is_file()
        for folder in _TEST_DIRS
        if (root / folder).is_dir()
        for pattern in _TEST_FILE_PATTERNS
        for path in (root / folder).rglob(pattern)
    )


def _has_npm_test_script(package_json: Path) -> bool:
    if not package_json.is_file():
        return False
    try:
        package = json.loads(package_json.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError:
        return False
    scripts = package.get("scripts") if isinstance(package, dict) else None
    script = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(script, str) and bool(script.strip()) and script.strip() != _NPM_PLACEHOLDER


def run_argv(command: TestCommand) -> list[str]:
    """The argument list actually run: pytest is asked to print its failure summary lines."""
    if command.kind == "pytest" and not any(arg.startswith("-r") for arg in command.argv[1:]):
        return [*command.argv, "-rfE"]
    return list(command.argv)


@dataclass(frozen=True)
class TestSetup:
    """What both test runs need beyond the copy, and what their environment lacks.

    `python` is the repository's environment (first on PATH); with `install_project` the
    project is installed from each copy into that copy's `SITE_DIR`, as its CI would install
    it, so tests importing the installed package see the copy's code. `links` are cached
    folders linked into each copy (`node_modules`), `env` the variables the runner needs, and
    `notes` plain sentences on what the environment could not get.
    """

    __test__ = False
    python: Path | None = None
    install_project: bool = False
    links: Mapping[str, Path] = field(default_factory=dict)
    read_only: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


async def prepare_test_setup(
    root: Path, proposal: Proposal, command: TestCommand, *, envs_root: Path | None = None
) -> tuple[TestCommand, TestSetup]:
    """What the repository's tests need, built the way its CI would build it, and the command
    to run with it (pytest from the repository's own environment).

    A pytest suite (or a custom command in a repository that declares Python packages) gets an
    environment of the repository's declarations; where none can be built, sopls's own
    interpreter runs pytest and the notes say so.
    """
    if command.kind in ("npm", "cargo"):
        prepare = prepare_node_modules if command.kind == "npm" else prepare_cargo
        fetch = await prepare(root)
        return command, TestSetup(
            links=dict([fetch.link]) if fetch.link is not None else {},
            read_only=fetch.read_only,
            env=fetch.env,
            notes=(fetch.reason,) if fetch.reason else (),
        )
    if command.kind != "pytest" and command.kind != "custom":
        return command, TestSetup()
    env = await ensure_repository_env(root, proposal, envs_root=envs_root)
    if command.kind == "custom" and not env.declarations.declared:
        return command, TestSetup()
    notes = env.notes
    if env.python is None:
        notes += ("the tests ran with sopls's own interpreter instead",)
    elif command.kind == "pytest":
        command = TestCommand(argv=[str(env.python), *command.argv[1:]], kind="pytest")
    setup = TestSetup(python=env.python, install_project=env.declarations.installable, notes=notes)
    return command, setup


async def run_repository_tests(
    root: Path,
    proposal: Proposal,
    command: TestCommand,
    *,
    limits: SandboxLimits = _DEFAULT_LIMITS,
    setup: TestSetup = TestSetup(),
    changed: Iterable[str] = (),
    baseline: Proposal | None = None,
) -> ChangeReport:
    """Run `command` in a sandboxed copy of `root` as it is and in one with `proposal` applied.

    The two runs go concurrently, each under `limits`; `changed` are the source files the
    change is about, for the report's line. `baseline` is what the run "before" the change has
    over the repository (a new regression test, so it shows the bug it checks).
    """
    argv = run_argv(command)
    if command.kind == "pytest":
        # xunit1 names each test's file, so results carry the same node ids as pytest's output.
        argv += [f"--junitxml={JUNIT_FILE}", "-o", "junit_family=xunit1"]
    env = {**_toolchain_env(command), **setup.env}
    steps: list[list[str]] = []
    if setup.install_project and setup.python is not None:
        steps.append([str(setup.python), *_INSTALL_PROJECT])
        # relative, so each copy's interpreter finds its own copy's install (site makes it
        # absolute against the copy's root at start)
        env["PYTHONPATH"] = SITE_DIR
    # The toolchain's folders (rustup's toolchains, the module caches) are seen read-only.
    folders = [Path(value) for value in env.values() if os.path.isabs(value)]
    run = partial(
        run_on_copy,
        limits=limits,
        extra_env=env,
        python=setup.python,
        read_only=[*folders, *setup.read_only],
        setup=steps,
        links=setup.links,
    )
    junit_before, junit_after = JunitReader(), JunitReader()
    before, after = await asyncio.gather(
        run(root, baseline, argv, collect=junit_before),
        run(root, proposal, argv, collect=junit_after),
    )
    notes = [*setup.notes, *_setup_notes(before, "as it is"), *_setup_notes(after, "changed")]
    return ChangeReport(
        command=command,
        before=_outcome(before.result, command.kind, before.root, junit_before.results()),
        after=_outcome(after.result, command.kind, after.root, junit_after.results()),
        environment=tuple(dict.fromkeys(notes)),
        changed=tuple(sorted(changed)),
    )


def _setup_notes(run: CopyRun, side: str) -> list[str]:
    """A sentence for each setup step that failed, with the line its output ends on."""
    notes = []
    for result in run.setup:
        if not result.ok:
            why = "it took too long" if result.timed_out else _last_line(result)
            notes.append(f"the project could not be installed from the repository {side}: {why}")
    return notes


# pip's own closing words around a build's failure, which say nothing of its cause
_PIP_GENERIC = re.compile(r"subprocess-exited-with-error|metadata-generation-failed|failed-wheel")


def _last_line(result: SandboxResult) -> str:
    """The line that says why a build failed: the build's last error, not pip's summary."""
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines()]
    errors = [
        line
        for line in lines
        if re.match(r"(?i)error\b", line) or "Error:" in line
        if not _PIP_GENERIC.search(line)
    ]
    return _one_line((errors or [line for line in lines if line] or ["no output"])[-1])


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


def _one_line(text: str) -> str:
    """Text from a run made safe for one terminal line: printable, collapsed and capped."""
    words = "".join(char if char.isprintable() else " " for char in text).split()
    line = " ".join(words)
    return line if len(line) <= _REASON_MAX_CHARS else line[: _REASON_MAX_CHARS - 1] + "…"


def _toolchain_env(command: TestCommand) -> dict[str, str]:
    """Variables a toolchain needs to work from the sandbox's empty HOME.

    A custom command gets them too when it starts one of these tools directly.
    """
    tool = command.kind if command.kind != "custom" else Path(command.argv[0]).name
    if tool == "npm":
        # npm's update check would only wait for a network the sandbox cannot reach.
        return {"npm_config_update_notifier": "false"}
    if tool == "cargo":
        return _cargo_env()
    if tool == "go":
        return _go_env()
    return {}


def _cargo_env() -> dict[str, str]:
    """rustup's proxies find toolchains through RUSTUP_HOME (default ~/.rustup), and the shared
    CARGO_HOME holds already-fetched crates, so a project can build without network.
    """
    guesses: dict[str, Path] = {}
    cargo = shutil.which("cargo")
    # rustup installs its proxies into <home>/.cargo/bin, next to <home>/.rustup.
    if cargo is not None and Path(cargo).parent.parent.name == ".cargo":
        cargo_home = Path(cargo).parent.parent
        guesses = {"CARGO_HOME": cargo_home, "RUSTUP_HOME": cargo_home.parent / ".rustup"}
    env: dict[str, str] = {}
    for name in ("CARGO_HOME", "RUSTUP_HOME"):
        guess = guesses.get(name)
        if name in os.environ:
            env[name] = os.environ[name]
        elif guess is not None and guess.is_dir():
            env[name] = str(guess)
    return env


def _go_env() -> dict[str, str]:
    """The shared module cache holds already-fetched modules, so a project builds offline."""
    gopath = os.environ.get("GOPATH", "").split(os.pathsep)[0]
    default = Path(gopath) if gopath else Path.home() / "go"
    modcache = Path(os.environ.get("GOMODCACHE") or default / "pkg" / "mod")
    return {"GOMODCACHE": str(modcache)} if modcache.is_dir() else {}


def _outcome(
    result: SandboxResult, kind: TestKind, copy_root: Path, junit: JunitResults | str | None
) -> TestOutcome:
    """Names are made relative to the copy, as runners such as node name a file by its path.

    pytest's JUnit results, when readable, give the per-test outcomes; otherwise the names
    come from the output.
    """
    output = "\n".join(part for part in (result.stdout, result.stderr) if part)
    prefixes = {f"{copy_root}{os.sep}", f"{copy_root.resolve()}{os.sep}"}
    names = frozenset(_strip_prefixes(name, prefixes) for name in parse_failed_tests(output, kind))
    results = junit if isinstance(junit, JunitResults) else None
    return TestOutcome(
        passed=result.ok,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        failed_tests=results.failed | results.errors if results else names,
        output=output,
        containment=result.containment,
        sandbox_notes=result.notes,
        passed_tests=results.passed if results else frozenset(),
        counts=results.counts if results else parse_counts(output, kind),
        per_test=results is not None,
        not_run_reason=None if result.timed_out else _not_run_reason(result, kind, junit),
    )


def _not_run_reason(
    result: SandboxResult, kind: TestKind, junit: JunitResults | str | None
) -> str | None:
    """Why a run that finished ran no test at all, or None when some test ran."""
    if result.exit_code == _COMMAND_NOT_FOUND:
        return f"the test command was not found ({_one_line(shlex.join(result.command[:1]))})"
    if kind != "pytest" or result.ok:
        return None
    if isinstance(junit, str):
        return _one_line(junit)
    if junit is None:
        return f"pytest wrote no results (exit code {result.exit_code})"
    if junit.ran_a_test:
        return None
    if junit.collection_error is not None:
        return _one_line(junit.collection_error)
    if result.exit_code == _PYTEST_NO_TESTS:
        return "pytest collected no tests"
    return f"pytest {_PYTEST_NOT_RUN_CODES.get(result.exit_code or 0, 'ran no test')}"


def _strip_prefixes(name: str, prefixes: Iterable[str]) -> str:
    for prefix in prefixes:
        name = name.replace(prefix, "")
    return name


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


def describe_tests(document: dict[str, Any]) -> str:
    """The terminal line for a `tests` document (see `ChangeReport.to_json`), e.g.
    `tests: 1 failed before → 1 passed after (src/sample/simple.py)`; when the change is not a
    pass it names the tests to blame."""
    if "reason" in document:
        return f"tests: not run — {document['reason']}"
    line = f"tests: {_side(document['before'])} before → {_side(document['after'])} after"
    changed = document.get("changed") or []
    if changed:
        line += f" ({_listed(changed)})"
    for key, label in (("newlyFailing", "newly failing"), ("unfixed", "still failing")):
        if document.get(key):
            line += f"; {label}: {_listed(document[key])}"
    return line


def _listed(names: list[str], at_most: int = 3) -> str:
    more = f" and {len(names) - at_most} more" if len(names) > at_most else ""
    return ", ".join(names[:at_most]) + more


def _side(side: dict[str, Any]) -> str:
    if side["timedOut"]:
        return "timed out"
    if side["passed"] is None:
        # a runner whose output gives no counts: what it names, else its exit code
        if side["failed"]:
            return f"{side['failed']} failed"
        return "passed" if side["exitCode"] == 0 else f"failed (exit code {side['exitCode']})"
    counts = ((side["failed"], "failed"), (side["errors"], "errors"), (side["passed"], "passed"))
    return ", ".join(f"{count} {label}" for count, label in counts if count) or "no tests"


def _describe(outcome: TestOutcome) -> str:
    if outcome.timed_out:
        return "timed out"
    if outcome.passed:
        return "passed"
    count = len(outcome.failed_tests)
    named = f", {count} failing test{'s' if count != 1 else ''}" if count else ""
    return f"failed (exit code {outcome.exit_code}){named}"


def _bullets(names: Iterable[str]) -> list[str]:
    ordered = sorted(names)
    lines = [f"- {_inline(name)}" for name in ordered[:_LISTED_AT_MOST]]
    if len(ordered) > _LISTED_AT_MOST:
        lines.append(f"- … and {len(ordered) - _LISTED_AT_MOST} more")
    return lines


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def _inline(text: str) -> str:
    """Markdown inline code that stays intact when the text holds backticks itself."""
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if "`" in text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
