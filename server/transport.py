"""How `sopls serve` is reached: stdin/stdout, or a TCP socket."""

from __future__ import annotations

import sys


def serve(tcp: str | None) -> int:
    """Serve until the client goes; returns the exit code (2 for a bad `--tcp`)."""
    import server.index_commands  # noqa: F401  (registers sopls.repoMap and the re-index features)
    from server.commands import SERVER

    if tcp is None:
        SERVER.start_io()
        return 0
    host, _, port = tcp.rpartition(":")
    if not host or not port.isdigit():
        print(f"sopls: --tcp wants HOST:PORT, e.g. 127.0.0.1:2087, not {tcp!r}", file=sys.stderr)
        return 2
    SERVER.start_tcp(host, int(port))
    return 0
