"""bubblewrap's view of the machine: what a contained command sees, and as whom.

A new root holds the system folders and a short list of /etc read-only, the tools the command
needs, a private HOME and /tmp, and its own working folder writable; the environment comes from
an allowlist, so no API keys reach it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from agents.errors import SECRET_NAME

_ALLOWED_ENV = ("PATH", "LANG", "LC_ALL", "TZ")

# Inside bubblewrap: who the command runs as, and where its private HOME and /tmp are.
SANDBOX_UID = 1000
SANDBOX_HOME = "/home/sandbox"
SANDBOX_TMP = "/tmp"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The part of /etc that programs need to start and that holds nothing about the machine's users
# or keys: the dynamic linker's cache, time zone, alternatives' links, name lookup of localhost.
_ETC_ENTRIES = (
    "alternatives",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "protocols",
    "services",
    "timezone",
)
# What a run with network adds: the resolver's settings and the trusted certificates, but
# not /etc/ssl/private. glibc, node (NODE_EXTRA_CA_CERTS) and cargo's OpenSSL read these.
_NETWORK_ETC_ENTRIES = (
    "resolv.conf",
    "gai.conf",
    "host.conf",
    "ssl/certs",
    "ssl/cert.pem",
    "ssl/openssl.cnf",
    "pki/tls/certs",
    "pki/ca-trust/extracted",
)


def make_private_dirs(area: Path) -> tuple[Path, Path]:
    home, tmp = area / "home", area / "tmp"
    home.mkdir()
    tmp.mkdir()
    (area / "passwd").write_text(
        f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{SANDBOX_HOME}:/bin/sh\n", encoding="utf-8"
    )
    (area / "group").write_text(f"sandbox:x:{SANDBOX_UID}:\n", encoding="utf-8")
    return home, tmp


def sandbox_env(
    home: str, tmp: str, extra_env: Mapping[str, str] | None, python: Path | None
) -> dict[str, str]:
    """Build the child's environment from an allowlist, so nothing secret can leak in."""
    env = {name: os.environ[name] for name in _ALLOWED_ENV if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env.update(
        TERM="dumb",
        HOME=home,
        TMPDIR=tmp,
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    if python is not None:
        env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
        env["VIRTUAL_ENV"] = str(python.parent.parent)
    env.update(extra_env or {})
    return env


def check_extra_env(extra_env: Mapping[str, str] | None) -> None:
    secret = sorted(name for name in extra_env or {} if SECRET_NAME.search(name))
    if secret:
        raise ValueError(
            f"Refusing to pass secret-looking variables into the sandbox: {', '.join(secret)}"
        )


def find_executable(name: str, workdir: Path, path: str) -> str | None:
    if os.sep in name:
        candidate = Path(name) if os.path.isabs(name) else workdir / name
        usable = candidate.is_file() and os.access(candidate, os.X_OK)
        return str(candidate) if usable else None
    return shutil.which(name, path=path)


def _is_system_path(path: Path) -> bool:
    return any(path == Path(top) or Path(top) in path.parents for top in _SYSTEM_DIRS)


def tool_dirs(executable: str, path: str, workdir: Path) -> list[Path]:
    """What must be visible for a program outside the system folders to run: the install
    prefix of the program and of its interpreter (a venv's python links to its base), and the
    folders on PATH. None of them is the real HOME or one of its parents, and none lies in
    `workdir`, which stays writable."""
    found: list[Path] = []
    home = Path.home().resolve()
    for program in _link_chain(Path(executable)):
        if not _is_system_path(program):
            prefix = program.parent.parent if program.parent.name == "bin" else program.parent
            # A tool's own folder in HOME (~/.cargo) also keeps its credentials: only its bin.
            if prefix.resolve().parent == home and prefix.name.startswith("."):
                prefix = program.parent
            found.append(prefix)
    found += [Path(entry) for entry in path.split(os.pathsep) if os.path.isabs(entry)]
    return [
        folder
        for folder in found
        if folder.is_dir()
        and not _is_system_path(folder)
        and not folder.resolve().is_relative_to(workdir.resolve())
        and folder.resolve() != Path("/")
        and folder.resolve() not in (home, *home.parents)
    ]


def _link_chain(path: Path) -> list[Path]:
    """`path` and every file its symlinks lead through, as each hop must be visible."""
    chain = [path]
    while chain[-1].is_symlink() and len(chain) < 40:
        chain.append(chain[-1].parent / os.readlink(chain[-1]))
    return [Path(os.path.normpath(hop)) for hop in chain]


def bwrap_prefix(
    bwrap: str,
    area: Path,
    home: Path,
    tmp: Path,
    workdir: Path,
    read_only: Iterable[Path],
    *,
    network: bool = False,
) -> list[str]:
    """bubblewrap's arguments: a new root holding only what is listed here, every namespace
    new (the network one kept when `network`), no capabilities, and the process tree tied to
    sopls."""
    argv = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--cap-drop",
        "ALL",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
    ]
    etc_entries = _ETC_ENTRIES
    if network:
        argv.append("--share-net")
        etc_entries += _NETWORK_ETC_ENTRIES
    for top in _SYSTEM_DIRS:
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for entry in etc_entries:
        argv += ["--ro-bind-try", f"/etc/{entry}", f"/etc/{entry}"]
    argv += ["--ro-bind", str(area / "passwd"), "/etc/passwd"]
    argv += ["--ro-bind", str(area / "group"), "/etc/group"]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--bind", str(tmp), SANDBOX_TMP, "--bind", str(home), SANDBOX_HOME]
    # Outer folders first, so a folder inside another one is mounted over it.
    mounts = [(workdir, "--bind"), *((path, "--ro-bind") for path in read_only)]
    for path, how in sorted(mounts, key=lambda mount: len(mount[0].parts)):
        argv += [how, str(path), str(path)]
    return [*argv, "--chdir", str(workdir), "--"]
