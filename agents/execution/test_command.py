"""How a repository runs its tests: a configured command, else what its files declare."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agents.errors import ConfigError

TestKind = Literal["pytest", "npm", "go", "cargo", "custom"]

_NPM_PLACEHOLDER = 'echo "Error: no test specified" && exit 1'
_PYTEST_CONFIGS = (
    ("pyproject.toml", "[tool.pytest"),
    ("setup.cfg", "[tool:pytest]"),
    ("tox.ini", "[pytest]"),
)
_TEST_DIRS = ("tests", "test")
_TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")


class InvalidTestCommandError(ConfigError):
    """The configured test command cannot be turned into an argument list."""


@dataclass(frozen=True)
class TestCommand:
    """How to run a repository's tests, and which runner's output format to expect."""

    __test__ = False
    argv: list[str]
    kind: TestKind


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
