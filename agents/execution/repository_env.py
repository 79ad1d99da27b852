"""What a Python repository declares it needs to run its tests, read without running any of it.

A repository's own CI installs the project with its test extras and its requirements files,
then runs pytest. QA builds the same environment from the same declarations: the project's
dependencies and test/dev extras (`pyproject.toml`'s `[project]` and `[dependency-groups]`,
`setup.cfg`'s `[options]`), `tox.ini`'s test deps, the requirements files, and the build backend
so the project itself can be installed without network. Only what the package index serves is
taken; a URL, a path or an editable install of another folder is named in `refused`.

The files are parsed as data (TOML, INI, requirement lines); no `setup.py` runs here.
"""

from __future__ import annotations

import asyncio
import configparser
import fnmatch
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from agents.edits.paths import read_inside
from agents.edits.proposal import Proposal
from agents.execution.project_env import ProjectEnv, ensure_project_env

# The extras and dependency groups a project's CI installs to run its tests.
TEST_EXTRAS = frozenset({"test", "tests", "testing", "dev", "develop", "development"})
# What pip builds a project with when it names no build backend.
_DEFAULT_BACKEND = ("setuptools>=40.8.0", "wheel")
_REQUIREMENT_FILES = ("*requirements*.txt", "requirements/*.txt", "requirements/*.in")
_MAX_INCLUDE_DEPTH = 8
_TOX_DIR = "{toxinidir}"

Reader = Callable[[str], str | None]


@dataclass(frozen=True)
class PythonDeclarations:
    """The index packages a repository's tests need, and what could not be taken.

    `installable` is True when the project itself can be installed (it has a `[project]`
    table, a build backend, a `setup.py` or a `setup.cfg`); `sources` are the files read.
    """

    requirements: tuple[str, ...]
    refused: tuple[str, ...]
    sources: tuple[str, ...]
    installable: bool

    @property
    def declared(self) -> bool:
        return bool(self.sources)


@dataclass
class _Collector:
    read: Reader
    requirements: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    extras: set[str] = field(default_factory=set)

    def add(self, text: str, *, project: str | None = None) -> None:
        """Take one PEP 508 requirement; the project's own name only adds its extras."""
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            self.refused.append(text)
            return
        if requirement.url:
            self.refused.append(text)
            return
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            return
        name = canonicalize_name(requirement.name)
        if project is not None and name == project:
            self.extras |= {canonicalize_name(extra) for extra in requirement.extras}
            return
        extras = ",".join(sorted(requirement.extras))
        self.requirements.setdefault(
            name, f"{name}{f'[{extras}]' if extras else ''}{requirement.specifier}"
        )

    def text(self, path: str) -> str | None:
        text = self.read(path)
        if text is not None and path not in self.sources:
            self.sources.append(path)
        return text


def read_python_declarations(read: Reader, files: Iterable[str]) -> PythonDeclarations:
    """The requirements a repository declares, from `read(path)` (None when a file is absent)
    over `files`, the repository's file paths relative to its root."""
    collector = _Collector(read)
    project = _read_pyproject(collector)
    installable = project is not None or any(
        collector.text(name) is not None for name in ("setup.py", "setup.cfg")
    )
    project_name = project.name if project is not None else None
    project_name = _read_setup_cfg(collector) or project_name
    for path in sorted(_requirement_files(files)):
        installable |= _read_requirements(collector, path, project_name, depth=0)
    _read_tox(collector, project_name)
    if project is not None or installable:
        _add_extras(collector, project)
    if installable:
        backend = project.build_requires if project is not None else None
        for text in backend if backend is not None else _DEFAULT_BACKEND:
            collector.add(text)
        if "setuptools" in collector.requirements:
            # setuptools before 70.1 builds wheels only with `wheel` beside it
            collector.add("wheel")
    return PythonDeclarations(
        requirements=tuple(collector.requirements.values()),
        refused=tuple(collector.refused),
        sources=tuple(collector.sources),
        installable=installable,
    )


@dataclass(frozen=True)
class _Pyproject:
    name: str | None
    extras: dict[str, list[str]]
    groups: dict[str, list[Any]]
    build_requires: list[str] | None


def _read_pyproject(collector: _Collector) -> _Pyproject | None:
    """pyproject.toml's dependencies; None when it declares neither a project nor a backend."""
    text = collector.text("pyproject.toml")
    if text is None:
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        collector.refused.append("pyproject.toml (not valid TOML)")
        return None
    table = _table(data.get("project"))
    build = _table(data.get("build-system"))
    if not table and not build:
        return None
    name = table.get("name")
    project_name = canonicalize_name(name) if isinstance(name, str) else None
    for text in _strings(table.get("dependencies")):
        collector.add(text, project=project_name)
    requires = build.get("requires")
    return _Pyproject(
        name=project_name,
        extras={
            key: _strings(value)
            for key, value in _table(table.get("optional-dependencies")).items()
        },
        groups={
            key: list(value)
            for key, value in _table(data.get("dependency-groups")).items()
            if isinstance(value, list)
        },
        build_requires=_strings(requires) if isinstance(requires, list) else None,
    )


def _add_extras(collector: _Collector, project: _Pyproject | None) -> None:
    """The test/dev extras and groups, plus extras a requirements file asked for (`-e .[x]`);
    an extra naming the project itself (`all = ["pkg[test]"]`) adds that extra too."""
    if project is None:
        return
    wanted = {canonicalize_name(extra) for extra in TEST_EXTRAS} | collector.extras
    done: set[str] = set()
    while pending := sorted(wanted - done):
        for extra in pending:
            done.add(extra)
            for key, items in project.extras.items():
                if canonicalize_name(key) == extra:
                    for text in items:
                        collector.add(text, project=project.name)
            wanted |= collector.extras
    for key in project.groups:
        if canonicalize_name(key) in wanted:
            _add_group(collector, project, key, seen=set())


def _add_group(collector: _Collector, project: _Pyproject, key: str, seen: set[str]) -> None:
    """One dependency group (PEP 735), following `{include-group = ...}` once each."""
    if key in seen or key not in project.groups:
        return
    seen.add(key)
    for item in project.groups[key]:
        if isinstance(item, str):
            collector.add(item, project=project.name)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            _add_group(collector, project, item["include-group"], seen)


def _read_setup_cfg(collector: _Collector) -> str | None:
    """setup.cfg's `install_requires` and test extras; returns the project's name if given."""
    text = collector.read("setup.cfg")
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        collector.refused.append("setup.cfg (not a valid INI file)")
        return None
    name = parser.get("metadata", "name", fallback=None)
    project = canonicalize_name(name) if name else None
    for line in _lines(parser.get("options", "install_requires", fallback="")):
        collector.add(line, project=project)
    if parser.has_section("options.extras_require"):
        for key, value in parser.items("options.extras_require"):
            if canonicalize_name(key) in TEST_EXTRAS:
                for line in _lines(value):
                    collector.add(line, project=project)
    return project


def _read_tox(collector: _Collector, project: str | None) -> None:
    """tox.ini's `[testenv] deps`, where `{toxinidir}` is the repository's root."""
    text = collector.read("tox.ini")
    if text is None:
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    for line in _lines(parser.get("testenv", "deps", fallback="")):
        line = line.replace(f"{_TOX_DIR}/", "").replace(_TOX_DIR, ".")
        if "{" not in line:
            _requirement_line(collector, line, "", project, depth=0)


def _requirement_files(files: Iterable[str]) -> set[str]:
    """Requirement files at the root or in `requirements/`; documentation ones are left out."""
    return {
        path
        for path in files
        if any(fnmatch.fnmatch(path, pattern) for pattern in _REQUIREMENT_FILES)
        and "/" not in path.removeprefix("requirements/")
        and "doc" not in posixpath.basename(path).lower()
    }


def _read_requirements(collector: _Collector, path: str, project: str | None, depth: int) -> bool:
    """One requirements file; True when it installs the project itself (`.` or `-e .`)."""
    text = collector.text(path)
    if text is None or depth > _MAX_INCLUDE_DEPTH:
        return False
    folder = posixpath.dirname(path)
    installs_project = False
    for line in _lines(re.sub(r"\\\n", " ", text)):
        installs_project |= _requirement_line(collector, line, folder, project, depth)
    return installs_project


def _requirement_line(
    collector: _Collector, line: str, folder: str, project: str | None, depth: int
) -> bool:
    """One line of a requirements file; True when it names the project's own folder."""
    option = re.match(r"(-r|--requirement|-c|--constraint|-e|--editable)\s*=?\s*(.+)", line)
    if option is not None:
        flag, value = option.groups()
        if flag in ("-r", "--requirement"):
            target = posixpath.normpath(posixpath.join(folder, value.strip()))
            if not target.startswith(("../", "/")):
                return _read_requirements(collector, target, project, depth + 1)
            collector.refused.append(line)
            return False
        if flag in ("-c", "--constraint"):
            return False  # constraints only narrow versions of what is asked elsewhere
        return _project_itself(collector, value.strip(), folder) or _refuse(collector, line)
    if line.startswith("-"):
        return False  # pip options (an index, find-links): the index here is the one sopls uses
    if _project_itself(collector, line, folder):
        return True
    # per-requirement options such as `--hash=...` follow the requirement
    collector.add(re.split(r"\s+--?[a-z]", line, maxsplit=1)[0])
    return False


def _project_itself(collector: _Collector, value: str, folder: str) -> bool:
    """`.` or `.[test]` (relative to the file's folder) is the repository's own project."""
    match = re.fullmatch(r"(\.{1,2}(?:/[^\[\s]*)?)\s*(?:\[([^\]]*)\])?", value)
    if match is None:
        return False
    if posixpath.normpath(posixpath.join(folder, match[1])) != ".":
        return False
    collector.extras |= {canonicalize_name(e) for e in (match[2] or "").split(",") if e.strip()}
    return True


def _refuse(collector: _Collector, line: str) -> bool:
    collector.refused.append(line)
    return False


def _lines(text: str) -> list[str]:
    """Non-blank lines with `#` comments removed, as pip reads them."""
    lines = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


@dataclass(frozen=True)
class RepositoryEnv:
    """The environment a repository's tests run in, and plain sentences on what it lacks.

    `python` is None when no environment could be built at all.
    """

    python: Path | None
    declarations: PythonDeclarations
    notes: tuple[str, ...]


def repository_declarations(root: Path, proposal: Proposal) -> PythonDeclarations:
    """The declarations of the repository as it is and with the proposal, together, so both
    test runs find what either side needs. Blocking: it reads files."""
    files = _listing(root) | set(proposal.paths())

    def proposed(path: str) -> str | None:
        return proposal.text_of(path) if proposal.get(path) is not None else read_inside(root, path)

    sides = [read_python_declarations(partial(read_inside, root), files)]
    sides.append(read_python_declarations(proposed, files))
    return PythonDeclarations(
        requirements=tuple(dict.fromkeys(r for side in sides for r in side.requirements)),
        refused=tuple(dict.fromkeys(r for side in sides for r in side.refused)),
        sources=tuple(dict.fromkeys(s for side in sides for s in side.sources)),
        installable=any(side.installable for side in sides),
    )


def _listing(root: Path) -> set[str]:
    """The files where requirement files can be: the root and its `requirements/` folder."""
    names: set[str] = set()
    for folder in (root, root / "requirements"):
        if folder.is_dir() and not folder.is_symlink():
            prefix = "" if folder == root else "requirements/"
            names |= {f"{prefix}{entry.name}" for entry in folder.iterdir() if entry.is_file()}
    return names


async def ensure_repository_env(
    root: Path,
    proposal: Proposal,
    *,
    envs_root: Path | None = None,
    timeout: float = 300.0,  # noqa: ASYNC109 - one budget for every pip call
) -> RepositoryEnv:
    """Build (or reuse) the environment of the repository's declarations, plus pytest.

    When some packages cannot be had as wheels, the environment is built without them and the
    notes say which and why, so the tests still run and their report names the gap.
    """
    declarations = await asyncio.to_thread(repository_declarations, root, proposal)
    notes = [
        f"{text} was not installed: only packages from the package index are"
        for text in declarations.refused
    ]
    wanted = list(declarations.requirements)
    env = await ensure_project_env(wanted, root=envs_root, timeout=timeout)
    if env.missing:
        notes += [_missing_note(env, name) for name in env.missing]
        rest = [r for r in env.installed if r not in env.missing]
        env = await ensure_project_env(rest, root=envs_root, timeout=timeout)
    if env.missing or env.refused:
        notes.append(
            "the test environment could not be built: " + ", ".join(env.missing or env.refused)
        )
        return RepositoryEnv(python=None, declarations=declarations, notes=tuple(notes))
    return RepositoryEnv(python=env.python, declarations=declarations, notes=tuple(notes))


def _missing_note(env: ProjectEnv, requirement: str) -> str:
    reason = env.missing_reasons.get(requirement, "pip could not download it")
    return f"{requirement} is not installed: {reason}"
