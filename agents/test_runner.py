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
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from agents.errors import ConfigError
from agents.proposal import Proposal
from agents.sandbox import Containment, SandboxLimits, SandboxResult, run_on_copy

TestKind = Literal["pytest", "npm", "go", "cargo", "custom"]

_NPM_PLACEHOLDER = 'echo "Error: no test specified" && exit 1'
_PYTEST_CONFIGS = (("pyproject.toml", "[tool.pytest"), ("setup.cfg", "[tool:pytest]"))
_TEST_DIRS = ("tests", "test")
_TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")
_LISTED_AT_MOST = 20
_OUTPUT_TAIL_LINES = 30
_DEFAULT_LIMITS = SandboxLimits()


class InvalidTestCommandError(ConfigError):
    """The configured test command cannot be turned into an argument list."""


@dataclass(frozen=True)
class TestCommand:
    """How to run a repository's tests, and which runner's output format to expect."""

    __test__ = False
    argv: list[str]
    kind: TestKind


@dataclass(frozen=True)
class TestOutcome:
    """One run of the tests; `exit_code` is None when the time limit stopped it."""

    __test__ = False
    passed: bool
    exit_code: int | None
    timed_out: bool
    failed_tests: frozenset[str]
    output: str
    containment: Containment = "none"
    sandbox_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeReport:
    """The same tests before and after a change, so only new failures count against it."""

    __test__ = False
    command: TestCommand
    before: TestOutcome
    after: TestOutcome

    @property
    def broken_by_change(self) -> frozenset[str]:
        """Tests failing with the change that did not fail without it."""
        return self.after.failed_tests - self.before.failed_tests

    @property
    def already_failing(self) -> frozenset[str]:
        """Tests failing before the change; they are not the change's fault either way."""
        return self.before.failed_tests

    @property
    def ok(self) -> bool:
        """True when the change breaks nothing the runs can show.

        A failing run whose output names no test (a build error, a crash, an unknown runner) is
        only accepted when the repository failed the same way before the change.
        """
        if self.after.timed_out or self.broken_by_change:
            return False
        if self.after.passed or self.after.failed_tests:
            return True
        return (
            not self.before.timed_out
            and self.before.exit_code == self.after.exit_code
            and not self.before.failed_tests
        )

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
        broken = len(self.broken_by_change)
        if broken:
            return f"not OK: the change breaks {broken} test{'s' if broken != 1 else ''}."
        if not self.ok:
            return (
                "not OK: the tests fail with the change in a way that names no test and "
                "differs from the run before it."
            )
        return "OK: the change breaks no test."


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


async def run_repository_tests(
    root: Path,
    proposal: Proposal,
    command: TestCommand,
    *,
    limits: SandboxLimits = _DEFAULT_LIMITS,
    python: Path | None = None,
) -> ChangeReport:
    """Run `command` in a sandboxed copy of `root` as it is and in one with `proposal` applied.

    The two runs go concurrently, each under `limits`. `python` (a project environment's
    interpreter) is put first on PATH in both.
    """
    argv = run_argv(command)
    toolchain = _toolchain_env(command)
    # The toolchain's folders (rustup's toolchains, the module caches) are seen read-only.
    folders = [Path(value) for value in toolchain.values() if os.path.isabs(value)]
    run = partial(run_on_copy, limits=limits, extra_env=toolchain, python=python, read_only=folders)
    before, after = await asyncio.gather(run(root, None, argv), run(root, proposal, argv))
    return ChangeReport(
        command=command,
        before=_outcome(before.result, command.kind, before.root),
        after=_outcome(after.result, command.kind, after.root),
    )


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


def _outcome(result: SandboxResult, kind: TestKind, copy_root: Path) -> TestOutcome:
    """Names are made relative to the copy, as runners such as node name a file by its path."""
    output = "\n".join(part for part in (result.stdout, result.stderr) if part)
    prefixes = {f"{copy_root}{os.sep}", f"{copy_root.resolve()}{os.sep}"}
    names = frozenset(_strip_prefixes(name, prefixes) for name in parse_failed_tests(output, kind))
    return TestOutcome(
        passed=result.ok,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        failed_tests=names,
        output=output,
        containment=result.containment,
        sandbox_notes=result.notes,
    )


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


def parse_failed_tests(output: str, kind: TestKind) -> frozenset[str]:
    """The failed tests a runner's output names; a custom command may be any of the runners."""
    return frozenset(name for parse in _PARSERS[kind] for name in parse(output))


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
