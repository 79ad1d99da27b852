"""Fetching npm packages and crates before an offline test run: real npm against the npm
registry, real cargo, real bubblewrap and real files; each test bounds its time."""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
from pathlib import Path

import pytest

from agents.execution.dependency_cache import DependencyFetch, prepare_cargo, prepare_node_modules
from agents.execution.probe import containment
from agents.execution.resource_limits import SandboxLimits
from agents.execution.sandbox import run_sandboxed

FETCH_LIMIT = 240.0
UNKNOWN_PACKAGE = "sopls-no-such-package-zzz"
IS_NUMBER = {
    "version": "7.0.0",
    "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
    "integrity": (
        "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbG"
        "XYxxng=="
    ),
}
# Writes a marker into the folder npm runs in, should npm ever run the package's scripts.
POSTINSTALL = "node -e \"require('fs').writeFileSync('postinstall-ran', '')\""
MARKER = "postinstall-ran"
CRATE_TEST = """
#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::text(12), "12");
    }
}
"""


@pytest.fixture(autouse=True)
async def bubblewrap() -> None:
    kind, reason = await containment()
    assert kind == "bubblewrap", reason


def write_npm_project(
    root: Path, dependencies: dict[str, dict[str, str]], *, lock: bool = True
) -> Path:
    """package.json with a postinstall script and `dependencies`, and its lock written out."""
    root.mkdir(parents=True)
    wanted = {name: entry["version"] for name, entry in dependencies.items()}
    package = {
        "name": "fixture",
        "version": "1.0.0",
        "private": True,
        "scripts": {"postinstall": POSTINSTALL},
        "dependencies": wanted,
    }
    (root / "package.json").write_text(json.dumps(package, indent=2), encoding="utf-8")
    packages: dict[str, object] = {
        "": {
            "name": "fixture",
            "version": "1.0.0",
            "hasInstallScript": True,
            "dependencies": wanted,
        }
    }
    packages.update({f"node_modules/{name}": entry for name, entry in dependencies.items()})
    lockfile = {"name": "fixture", "version": "1.0.0", "lockfileVersion": 3, "requires": True}
    if lock:
        (root / "package-lock.json").write_text(
            json.dumps({**lockfile, "packages": packages}, indent=2), encoding="utf-8"
        )
    (root / "index.js").write_text('console.log(require("is-number")(5));\n', encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under `root` with its modification time and content."""
    return {
        str(path.relative_to(root)): (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def all_names(root: Path) -> set[str]:
    return {path.name for path in root.rglob("*")}


def only_node_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH with node and nothing else, so npm cannot be found."""
    folder = tmp_path / "only-node"
    folder.mkdir()
    node = shutil.which("node")
    assert node is not None
    (folder / "node").symlink_to(node)
    monkeypatch.setenv("PATH", str(folder))
    assert shutil.which("npm") is None


async def prepare_npm(root: Path, cache: Path) -> DependencyFetch:
    async with asyncio.timeout(FETCH_LIMIT):
        return await prepare_node_modules(root, cache_root=cache, timeout=FETCH_LIMIT)


async def prepare_crate(root: Path, cache: Path) -> DependencyFetch:
    async with asyncio.timeout(FETCH_LIMIT):
        return await prepare_cargo(root, cache_root=cache, timeout=FETCH_LIMIT)


def linked_copy(source: Path, into: Path, fetch: DependencyFetch) -> Path:
    """A copy of `source` without its node_modules, with the fetched one linked in."""
    copy = into / "copy"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("node_modules"))
    assert fetch.link is not None
    name, target = fetch.link
    (copy / name).symlink_to(target, target_is_directory=True)
    return copy


async def test_npm_packages_are_fetched_once_and_reused_without_npm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_npm_project(tmp_path / "repo", {"is-number": IS_NUMBER})
    cache = tmp_path / "deps"
    first = await prepare_npm(root, cache)
    assert first.ok, (first.reason, first.log)
    assert first.fetched
    assert first.kind == "npm"
    assert first.reason is None
    assert first.link is not None
    name, modules = first.link
    assert name == "node_modules"
    assert modules.parent.parent == cache
    assert modules.parent.name.startswith("npm-")
    assert first.read_only == (modules,)
    installed = json.loads((modules / "is-number" / "package.json").read_text())
    assert installed["version"] == "7.0.0"
    record = cache / f"{modules.parent.name}.json"
    before = (record.stat().st_mtime_ns, record.read_bytes())

    only_node_on_path(tmp_path, monkeypatch)
    again = await prepare_npm(root, cache)
    assert again.ok, again.reason
    assert not again.fetched
    assert again.link == first.link
    assert "npm not run" in again.log
    assert (record.stat().st_mtime_ns, record.read_bytes()) == before
    # The same PATH without npm does stop a project that has not been fetched yet.
    other = write_npm_project(tmp_path / "other", {"is-number": IS_NUMBER})
    (other / "package.json").write_text(
        (other / "package.json").read_text().replace('"fixture"', '"other"'), encoding="utf-8"
    )
    missing = await prepare_npm(other, cache)
    assert not missing.ok
    assert missing.reason == "npm is not installed, so the npm packages cannot be fetched."


async def test_scripts_never_run_and_nothing_but_the_cache_folder_is_written(
    tmp_path: Path,
) -> None:
    root = write_npm_project(tmp_path / "repo", {"is-number": IS_NUMBER})
    (root / "secret.txt").write_text("the repository's other files stay out\n")
    before = snapshot(root)
    cache = tmp_path / "deps"
    fetch = await prepare_npm(root, cache)
    assert fetch.ok, (fetch.reason, fetch.log)
    assert fetch.link is not None
    folder = fetch.link[1].parent
    assert snapshot(root) == before
    assert sorted(path.name for path in cache.iterdir()) == sorted(
        [folder.name, f"{folder.name}.json", f"{folder.name}.lock"]
    )
    assert sorted(path.name for path in folder.iterdir()) == [
        "node_modules",
        "package-lock.json",
        "package.json",
    ]
    assert MARKER not in all_names(tmp_path)
    # The script does write its marker when something runs it.
    ran = await run_sandboxed(folder, ["npm", "run", "postinstall"])
    assert ran.ok, ran.stderr
    assert (folder / MARKER).is_file()


async def test_an_unknown_package_fails_with_npms_reason(tmp_path: Path) -> None:
    unknown = {"version": "1.0.0"}
    root = write_npm_project(tmp_path / "repo", {UNKNOWN_PACKAGE: unknown})
    cache = tmp_path / "deps"
    fetch = await prepare_npm(root, cache)
    assert not fetch.ok
    assert fetch.reason is not None
    assert fetch.reason.startswith("npm ci could not fetch the dependencies: ")
    assert "404" in fetch.reason
    assert UNKNOWN_PACKAGE in fetch.reason
    assert "\n" not in fetch.reason
    assert "E404" in fetch.log
    assert fetch.link is None
    assert fetch.read_only == ()
    assert not list(cache.glob("npm-*.json"))
    assert not [path for path in cache.iterdir() if path.is_dir()]


async def test_an_offline_run_resolves_the_linked_packages(tmp_path: Path) -> None:
    root = write_npm_project(tmp_path / "repo", {"is-number": IS_NUMBER})
    fetch = await prepare_npm(root, tmp_path / "deps")
    assert fetch.ok, (fetch.reason, fetch.log)
    copy = linked_copy(root, tmp_path, fetch)
    result = await run_sandboxed(copy, ["node", "index.js"], read_only=fetch.read_only)
    assert result.network_isolated
    assert result.ok, result.stderr
    assert result.stdout.strip() == "true"
    (copy / "node_modules").unlink()
    unlinked = await run_sandboxed(copy, ["node", "index.js"], read_only=fetch.read_only)
    assert not unlinked.ok
    assert "Cannot find module 'is-number'" in unlinked.stderr


async def test_without_a_lock_file_nothing_is_fetched(tmp_path: Path) -> None:
    root = write_npm_project(tmp_path / "repo", {"is-number": IS_NUMBER}, lock=False)
    fetch = await prepare_npm(root, tmp_path / "deps")
    assert not fetch.ok
    assert fetch.reason is not None
    assert "npm ci needs package-lock.json" in fetch.reason
    assert not fetch.fetched
    assert not (tmp_path / "deps").exists()


async def test_a_package_without_dependencies_needs_no_npm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "package.json").write_text('{"name": "bare", "scripts": {"test": "node t.js"}}')
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    fetch = await prepare_npm(root, tmp_path / "deps")
    assert fetch.ok
    assert fetch.reason == "package.json declares no dependencies, so there is nothing to fetch."
    assert fetch.link is None
    assert not (tmp_path / "deps").exists()


async def test_npm_workspaces_are_refused(tmp_path: Path) -> None:
    root = write_npm_project(tmp_path / "repo", {"is-number": IS_NUMBER})
    package = json.loads((root / "package.json").read_text())
    (root / "package.json").write_text(json.dumps({**package, "workspaces": ["packages/*"]}))
    fetch = await prepare_npm(root, tmp_path / "deps")
    assert not fetch.ok
    assert fetch.reason is not None
    assert "workspaces" in fetch.reason


def write_crate(root: Path, dependencies: str = "", source: str = "") -> Path:
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text(
        '[package]\nname = "fixture"\nversion = "0.1.0"\nedition = "2021"\n\n'
        f"[dependencies]\n{dependencies}",
        encoding="utf-8",
    )
    lib = source or "pub fn text(n: u32) -> String {\n    n.to_string()\n}\n"
    (root / "src" / "lib.rs").write_text(lib + CRATE_TEST, encoding="utf-8")
    return root


async def cargo_test_offline(root: Path, into: Path, fetch: DependencyFetch) -> str:
    """`cargo test --offline` in a sandboxed copy of `root` without network; its output."""
    copy = into / "copy"
    shutil.copytree(root, copy)
    result = await run_sandboxed(
        copy,
        ["cargo", "test", "--offline"],
        limits=SandboxLimits(timeout=FETCH_LIMIT),
        extra_env=fetch.env,
        read_only=fetch.read_only,
    )
    assert result.network_isolated
    assert result.ok, result.stdout + result.stderr
    return result.stdout


async def test_a_crate_without_dependencies_is_fetched_once_and_tests_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_crate(tmp_path / "repo")
    cache = tmp_path / "deps"
    fetch = await prepare_crate(root, cache)
    assert fetch.ok, (fetch.reason, fetch.log)
    assert fetch.fetched
    assert fetch.kind == "cargo"
    assert fetch.env["CARGO_HOME"] == str(cache / "cargo-home")
    assert fetch.env["CARGO_NET_OFFLINE"] == "true"
    assert cache / "cargo-home" in fetch.read_only
    assert not (root / "Cargo.lock").exists()
    assert not list((cache / "cargo-home").glob(".fetch-*"))
    assert list((cache / "cargo-home" / ".sopls-fetched").glob("*.json"))
    output = await cargo_test_offline(root, tmp_path, fetch)
    assert "test result: ok. 1 passed" in output

    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    again = await prepare_crate(root, cache)
    assert again.ok, again.reason
    assert not again.fetched
    assert "cargo not run" in again.log


async def test_a_build_script_never_runs_while_fetching(tmp_path: Path) -> None:
    root = write_crate(tmp_path / "repo")
    (root / "build.rs").write_text('fn main() {\n    panic!("the build script ran");\n}\n')
    fetch = await prepare_crate(root, tmp_path / "deps")
    assert fetch.ok, (fetch.reason, fetch.log)
    assert "the build script ran" not in fetch.log


async def test_an_unknown_crate_fails_with_cargos_reason(tmp_path: Path) -> None:
    root = write_crate(tmp_path / "repo", 'sopls-no-such-crate-zzz = "1"\n')
    cache = tmp_path / "deps"
    fetch = await prepare_crate(root, cache)
    assert not fetch.ok
    assert fetch.reason is not None
    assert fetch.reason.startswith("cargo fetch could not fetch the crates: ")
    assert "sopls-no-such-crate-zzz" in fetch.reason
    assert "\n" not in fetch.reason
    assert fetch.log
    assert not (cache / "cargo-home" / ".sopls-fetched").exists()
    assert not list((cache / "cargo-home").glob(".fetch-*"))


def crates_io_unreachable() -> str | None:
    """Why crates.io cannot be reached from here, or None when it can."""
    try:
        with urllib.request.urlopen("https://index.crates.io/config.json", timeout=10):
            return None
    except OSError as exc:
        return f"crates.io (index.crates.io) cannot be reached from this machine: {exc}"


async def test_a_crate_with_a_dependency_tests_offline_after_the_fetch(tmp_path: Path) -> None:
    unreachable = await asyncio.to_thread(crates_io_unreachable)
    if unreachable is not None:
        pytest.skip(unreachable)
    source = "pub fn text(n: u32) -> String {\n    itoa::Buffer::new().format(n).to_owned()\n}\n"
    root = write_crate(tmp_path / "repo", 'itoa = "1"\n', source)
    fetch = await prepare_crate(root, tmp_path / "deps")
    assert fetch.ok, (fetch.reason, fetch.log)
    assert fetch.fetched
    assert list((tmp_path / "deps" / "cargo-home" / "registry" / "cache").rglob("itoa-1.*.crate"))
    output = await cargo_test_offline(root, tmp_path, fetch)
    assert "test result: ok. 1 passed" in output


async def test_only_a_run_with_network_resolves_the_registry(tmp_path: Path) -> None:
    lookup = ["getent", "hosts", "registry.npmjs.org"]
    offline = await run_sandboxed(tmp_path, lookup)
    assert offline.network_isolated
    assert offline.exit_code == 2, offline.stdout
    online = await run_sandboxed(tmp_path, lookup, network=True)
    assert online.ok, online.stderr
    assert "registry.npmjs.org" in online.stdout
    assert not online.network_isolated
    assert "the host's network" in online.notes[0]
    # Everything else stays contained: no host keys or users, nothing writable but the folder.
    probe = "for p in /etc/ssl/private /etc/shadow; do test -e $p && echo $p; done; touch /usr/x"
    contained = await run_sandboxed(tmp_path, ["sh", "-c", probe], network=True)
    assert contained.stdout == ""
    assert "Read-only file system" in contained.stderr
