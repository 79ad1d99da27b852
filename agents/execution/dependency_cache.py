"""Fetching a repository's JavaScript and Rust dependencies before its tests run offline.

The tests run in the sandbox without network, so their packages are fetched beforehand in a
step of its own that may use the network but runs none of the repository's code: only the
manifests and lock files are taken from the repository, `npm ci` runs with `--ignore-scripts`,
and `cargo fetch` never builds anything (build scripts and proc macros only run when a crate is
compiled). That step runs in the sandbox too, with the network shared and only its cache folder
writable.

npm's result is `~/.sopls/deps/npm-<hash>/node_modules`, keyed by the exact package.json, lock
file and node version, which a test copy links to. Cargo's crates go to one sopls-owned
CARGO_HOME, `~/.sopls/deps/cargo-home`, which the test run sees read-only. Each build holds a
lock, so two runs never build the same thing at once, and leaves a record once it ended, so a
finished build is reused without running npm or cargo again.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import platform
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agents.execution.build_cache import locked, read_record, write_record
from agents.execution.dependency_host import (
    cargo_inputs,
    certificate_env,
    read_regular,
    rustup_env,
    version,
    write_cargo_copy,
)
from agents.execution.resource_limits import SandboxLimits
from agents.execution.sandbox import SandboxResult, run_sandboxed

DependencyKind = Literal["npm", "cargo"]

_LOG_TAIL = 4_000
_NPM_CI = ("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
# npm-shrinkwrap.json wins over package-lock.json, as in npm itself.
_NPM_LOCKS = ("npm-shrinkwrap.json", "package-lock.json")
_NPM_DEPENDENCY_FIELDS = (
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
)
# npm's lines that only frame the error: its code, the call, the log's place, bare codes.
_NPM_FRAME = re.compile(r"^(?:code|syscall|errno|path)\b|^A complete log|^\S+$")
_FETCHED_RECORDS = ".sopls-fetched"


@dataclass(frozen=True)
class DependencyFetch:
    """What fetching a repository's dependencies gave, for its test run and its report.

    `ok` says the dependencies are there for an offline test run; `reason` says in one plain
    sentence why not, or why nothing was fetched. The test run sees `read_only` without write
    access, gets `env`, and for npm has `link` (a name in the copy's root and the cached folder
    it links to). `fetched` is False when nothing ran because the cache held the result.
    """

    kind: DependencyKind
    ok: bool
    reason: str | None = None
    log: str = ""
    read_only: tuple[Path, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    link: tuple[str, Path] | None = None
    fetched: bool = False


def default_deps_root() -> Path:
    return Path.home() / ".sopls" / "deps"


async def prepare_node_modules(
    root: Path,
    *,
    cache_root: Path | None = None,
    timeout: float = 300.0,  # noqa: ASYNC109 - the sandbox's own time limit bounds npm
) -> DependencyFetch:
    """Fetch the npm packages that `root`'s lock file names into a cached `node_modules`.

    Only package.json and the lock file are copied into the cache folder, where `npm ci` runs
    with network and without lifecycle scripts. Nothing is fetched without a lock file (npm ci
    needs one) or when package.json declares no dependencies.
    """
    package_json = read_regular(root / "package.json")
    if package_json is None:
        return _nothing("npm", "There is no package.json, so there is nothing for npm to fetch.")
    try:
        package = json.loads(package_json)
    except ValueError as exc:
        return _failed("npm", f"package.json is not valid JSON ({exc}), so npm cannot read it.")
    if not isinstance(package, dict) or not any(
        package.get(name) for name in _NPM_DEPENDENCY_FIELDS
    ):
        return _nothing(
            "npm", "package.json declares no dependencies, so there is nothing to fetch."
        )
    if package.get("workspaces"):
        return _failed(
            "npm",
            "package.json declares npm workspaces, whose packages live in the repository's "
            "other folders, so its dependencies were not fetched.",
        )
    found = [(name, read_regular(root / name)) for name in _NPM_LOCKS]
    lock_name, lock = next(((n, data) for n, data in found if data is not None), ("", None))
    if lock is None:
        return _failed(
            "npm",
            "npm ci needs package-lock.json (or npm-shrinkwrap.json), which the repository does "
            "not have, so no dependencies were fetched.",
        )
    node = await version("node")
    if node is None:
        return _failed("npm", "node is not installed, so the npm packages cannot be fetched.")
    key = _key(
        {
            "lock": lock_name,
            "lock_sha256": _sha256(lock),
            "package_sha256": _sha256(package_json),
            "node": node,
        }
    )
    cache_root = cache_root if cache_root is not None else default_deps_root()
    folder = cache_root / f"npm-{key}"
    modules = folder / "node_modules"
    record = cache_root / f"npm-{key}.json"
    wanted = {"key": key, "lock": lock_name, "node": node}
    await asyncio.to_thread(cache_root.mkdir, parents=True, exist_ok=True)
    async with locked(cache_root / f"npm-{key}.lock"):
        if modules.is_dir() and await asyncio.to_thread(read_record, record, wanted):
            return _npm_result(modules, f"reused {folder}; npm not run", fetched=False)
        if shutil.which("npm") is None:
            return _failed("npm", "npm is not installed, so the npm packages cannot be fetched.")
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
        await asyncio.to_thread(folder.mkdir)
        await asyncio.to_thread((folder / "package.json").write_bytes, package_json)
        await asyncio.to_thread((folder / lock_name).write_bytes, lock)
        env, certificates = certificate_env()
        result = await run_sandboxed(
            folder,
            _NPM_CI,
            limits=_fetch_limits(timeout),
            extra_env={**env, "npm_config_update_notifier": "false"},
            read_only=certificates,
            network=True,
        )
        log = _log(result)
        if not result.ok:
            await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
            return _failed("npm", _failure("npm ci", "the dependencies", result, timeout), log)
        await asyncio.to_thread(modules.mkdir, exist_ok=True)
        await asyncio.to_thread(write_record, record, wanted)
    return _npm_result(modules, log, fetched=True)


async def prepare_cargo(
    root: Path,
    *,
    cache_root: Path | None = None,
    timeout: float = 300.0,  # noqa: ASYNC109 - the sandbox's own time limit bounds cargo
) -> DependencyFetch:
    """Fetch the crates `root`'s workspace needs into sopls's shared CARGO_HOME.

    `cargo fetch` (`--locked` when there is a Cargo.lock) runs with network on a copy holding
    only the repository's Cargo.toml and Cargo.lock files and empty stand-ins for its `.rs`
    files, which cargo needs only to find the targets; it builds nothing, so no build script
    runs. The repository's `.cargo` configuration is left out, as it could name a program for
    cargo to run. Without a Cargo.lock, cargo resolves the versions here and the offline test
    run resolves them again from what was fetched.
    """
    manifests, sources = await asyncio.to_thread(cargo_inputs, root)
    if "Cargo.toml" not in manifests:
        return _nothing("cargo", "There is no Cargo.toml, so there is nothing for cargo to fetch.")
    key = _key({path: _sha256(data) for path, data in sorted(manifests.items())})
    cache_root = cache_root if cache_root is not None else default_deps_root()
    cargo_home = cache_root / "cargo-home"
    record = cargo_home / _FETCHED_RECORDS / f"{key}.json"
    wanted = {"key": key}
    toolchain = rustup_env()
    test_env = {**toolchain, "CARGO_HOME": str(cargo_home), "CARGO_NET_OFFLINE": "true"}
    seen = tuple(Path(value) for value in toolchain.values())
    await asyncio.to_thread(cargo_home.mkdir, parents=True, exist_ok=True)
    async with locked(cache_root / "cargo-home.lock"):
        if await asyncio.to_thread(read_record, record, wanted):
            return DependencyFetch(
                kind="cargo",
                ok=True,
                log=f"already fetched into {cargo_home}; cargo not run",
                read_only=(cargo_home, *seen),
                env=test_env,
            )
        if shutil.which("cargo") is None:
            return _failed("cargo", "cargo is not installed, so the crates cannot be fetched.")
        # The copy lies inside CARGO_HOME, as the sandbox's only writable folder is both's.
        area = Path(await asyncio.to_thread(tempfile.mkdtemp, dir=cargo_home, prefix=".fetch-"))
        try:
            copy = area / "project"
            await asyncio.to_thread(write_cargo_copy, copy, manifests, sources)
            env, certificates = certificate_env()
            # cargo fetch downloads and unpacks only: build scripts (build.rs) and proc macros
            # run when a crate is compiled, which this step never does.
            command = ["cargo", "fetch", "--manifest-path", str(copy / "Cargo.toml")]
            if "Cargo.lock" in manifests:
                command.append("--locked")
            result = await run_sandboxed(
                cargo_home,
                command,
                limits=_fetch_limits(timeout),
                extra_env={
                    **env,
                    **toolchain,
                    "CARGO_HOME": str(cargo_home),
                    "CARGO_TERM_COLOR": "never",
                },
                read_only=(*seen, *certificates),
                network=True,
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, area, ignore_errors=True)
        log = _log(result)
        if not result.ok:
            return _failed("cargo", _failure("cargo fetch", "the crates", result, timeout), log)
        await asyncio.to_thread(record.parent.mkdir, exist_ok=True)
        await asyncio.to_thread(write_record, record, wanted)
    return DependencyFetch(
        kind="cargo",
        ok=True,
        log=log,
        read_only=(cargo_home, *seen),
        env=test_env,
        fetched=True,
    )


def _nothing(kind: DependencyKind, reason: str) -> DependencyFetch:
    return DependencyFetch(kind=kind, ok=True, reason=reason)


def _failed(kind: DependencyKind, reason: str, log: str = "") -> DependencyFetch:
    return DependencyFetch(kind=kind, ok=False, reason=reason, log=log)


def _npm_result(modules: Path, log: str, *, fetched: bool) -> DependencyFetch:
    return DependencyFetch(
        kind="npm",
        ok=True,
        log=log,
        read_only=(modules,),
        link=("node_modules", modules),
        fetched=fetched,
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key(identity: Mapping[str, str]) -> str:
    """A cache folder's name: a hash of what it was built from and of the machine's kind."""
    whole = {**identity, "machine": f"{platform.system()}-{platform.machine()}"}
    return hashlib.sha256(json.dumps(whole, sort_keys=True).encode()).hexdigest()[:24]


def _fetch_limits(timeout: float) -> SandboxLimits:
    return SandboxLimits(timeout=max(timeout, 1.0), output_limit=_LOG_TAIL)


def _log(result: SandboxResult) -> str:
    text = "\n".join(part for part in (result.stdout.strip(), result.stderr.strip()) if part)
    return text if len(text) <= _LOG_TAIL else text[-_LOG_TAIL:]


def _failure(step: str, what: str, result: SandboxResult, timeout: float) -> str:
    """One plain sentence on why `step` failed, naming the line of its output that says so."""
    if result.timed_out:
        return f"{step} did not finish within {timeout:.0f} s, so {what} were not fetched."
    line = _error_line(result.stdout + "\n" + result.stderr)
    return f"{step} could not fetch {what}: {line or f'it exited with code {result.exit_code}'}"


def _error_line(output: str) -> str:
    """The line that says what went wrong: npm's first error line past its frame, or cargo's
    `error:` line with the last cause it gives."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    npm = [
        text
        for line in lines
        if line.startswith(("npm error ", "npm ERR! "))
        and not _NPM_FRAME.search(text := line.split(" ", 2)[2].strip())
    ]
    if npm:
        return npm[0]
    errors = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
    if errors:
        causes = [after for before, after in itertools.pairwise(lines) if before == "Caused by:"]
        return f"{errors[0]} ({causes[-1]})" if causes else errors[0]
    return lines[-1] if lines else ""
