"""What fetching dependencies takes from the repository and the host: the manifests (only
regular files, never through a link), the trusted certificates, rustup's home and the tools'
versions, which key the caches.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path

from agents.execution.process import output_of

_MANIFEST_MAX_BYTES = 32 * 1024 * 1024
_VERSION_TIMEOUT = 10.0
_CARGO_SKIPPED_DIRS = ("target", "node_modules")
# Where TLS clients are told to find extra or other trusted certificates (a proxy's own CA).
_CERTIFICATE_VARIABLES = (
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CARGO_HTTP_CAINFO",
)
# What the sandbox with network shows already; certificates elsewhere are mounted for the run.
_SHOWN_CERTIFICATES = tuple(
    Path(path)
    for path in (
        "/usr",
        "/etc/ssl/certs",
        "/etc/ssl/cert.pem",
        "/etc/pki/tls/certs",
        "/etc/pki/ca-trust/extracted",
    )
)


def read_regular(path: Path) -> bytes | None:
    """The bytes of `path` when it is a regular file, not a link (which could lead out of the
    repository) and not oversized; else None."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MANIFEST_MAX_BYTES:
            return None
        return file.read(_MANIFEST_MAX_BYTES)


def cargo_inputs(root: Path) -> tuple[dict[str, bytes], list[str]]:
    """Every Cargo.toml and Cargo.lock under `root` by path relative to it, and the names of
    the `.rs` files, by which cargo finds the targets. Links, hidden folders (`.git`, `.cargo`),
    build output and node packages are passed over."""
    manifests: dict[str, bytes] = {}
    sources: list[str] = []
    for folder, names, files in os.walk(root):
        names[:] = sorted(
            name
            for name in names
            if not name.startswith(".")
            and name not in _CARGO_SKIPPED_DIRS
            and not os.path.islink(os.path.join(folder, name))
        )
        relative = Path(folder).relative_to(root)
        for name in sorted(files):
            if name in ("Cargo.toml", "Cargo.lock"):
                data = read_regular(Path(folder) / name)
                if data is not None:
                    manifests[str(relative / name)] = data
            elif name.endswith(".rs") and not os.path.islink(os.path.join(folder, name)):
                sources.append(str(relative / name))
    return manifests, sources


def write_cargo_copy(copy: Path, manifests: Mapping[str, bytes], sources: list[str]) -> None:
    for name, data in manifests.items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(data)
    for name in sources:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).touch()


def rustup_env() -> dict[str, str]:
    """RUSTUP_HOME, through which rustup's cargo finds its toolchain from the sandbox's empty
    HOME: the variable when set, else `.rustup` beside the `.cargo` that holds cargo."""
    if os.environ.get("RUSTUP_HOME"):
        return {"RUSTUP_HOME": os.environ["RUSTUP_HOME"]}
    cargo = shutil.which("cargo")
    if cargo is not None and Path(cargo).parent.parent.name == ".cargo":
        guess = Path(cargo).parent.parent.parent / ".rustup"
        if guess.is_dir():
            return {"RUSTUP_HOME": str(guess)}
    return {}


def certificate_env() -> tuple[dict[str, str], tuple[Path, ...]]:
    """The host's settings that say which certificates to trust (a TLS proxy's CA, say), and
    those of their files that the sandbox does not show already."""
    env = {
        name: os.environ[name]
        for name in _CERTIFICATE_VARIABLES
        if os.path.isabs(os.environ.get(name, ""))
    }
    extra = {
        Path(value)
        for value in env.values()
        if os.path.exists(value)
        and not any(Path(value).is_relative_to(shown) for shown in _SHOWN_CERTIFICATES)
    }
    return env, tuple(sorted(extra))


async def version(program: str) -> str | None:
    """`program --version` from sopls's own PATH, or None when it cannot run."""
    if shutil.which(program) is None:
        return None
    try:
        finished = await output_of(
            [program, "--version"],
            _VERSION_TIMEOUT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return None
    if finished is None or finished[0] != 0:
        return None
    return finished[1].strip()
