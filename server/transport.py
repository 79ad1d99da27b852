"""How `sopls serve` is reached: stdin/stdout, or a TCP socket with one session per connection."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from pygls.feature_manager import is_thread_function
from pygls.io_ import StdoutWriter

from agents.config import ServerSettings, load_settings
from agents.errors import ConfigError
from server.language_server import SoplsLanguageServer

logger = logging.getLogger("sopls.server.transport")

CHUNK_BYTES = 65536


def serve(tcp: str | None) -> int:
    """Serve until the client goes (stdio) or until interrupted (TCP); returns the exit code."""
    address = None
    if tcp is not None:
        try:
            address = parse_address(tcp)
        except ValueError as exc:
            print(
                f"sopls: --tcp wants HOST:PORT, e.g. 127.0.0.1:2087 or [::1]:2087; {exc}.",
                file=sys.stderr,
            )
            return 2
    import server.index_commands  # noqa: F401  (registers sopls.repoMap and the re-index features)
    from server.commands import SERVER

    limit = max_message_bytes()
    try:
        if address is None:
            SERVER.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
            return asyncio.run(SERVER.protocol.serve(StdinReader(sys.stdin.fileno()).read, limit))
        return asyncio.run(_listen(*address, lambda: session_server(SERVER), limit))
    except KeyboardInterrupt:
        return 130


def max_message_bytes() -> int:
    """The limit from the config file and the environment (the client cannot set it: it guards
    the very first message)."""
    try:
        return load_settings().server.max_message_bytes
    except ConfigError as exc:
        default = ServerSettings().max_message_bytes
        print(
            f"sopls: {exc} Messages are limited to the default {default} bytes meanwhile.",
            file=sys.stderr,
        )
        return default


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT`, an IPv6 address in brackets (`[::1]:2087`); a ValueError says what is wrong."""
    host, colon, port = text.rpartition(":")
    if not colon or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"{text!r} has no port from 0 to 65535")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"{host} is not an IPv6 address") from None
        return host[1:-1], int(port)
    if not host or any(c in host for c in "[]:/ \t"):
        raise ValueError(f"{host!r} is not a host name or address (IPv6 goes in brackets)")
    return host, int(port)


def session_server(template: SoplsLanguageServer) -> SoplsLanguageServer:
    """A server of its own, with `template`'s features and commands, so that each connection
    has its own session: initialize, workspace, settings and runs."""
    server = SoplsLanguageServer()
    features = template.protocol.fm
    for name, handler in features.features.items():
        _register(server.feature(name, features.feature_options.get(name)), handler, server)
    for name, handler in features.commands.items():
        _register(server.command(name), handler, server)
    return server


def _register(decorator: Callable[[Any], Any], handler: Any, server: SoplsLanguageServer) -> None:
    # pygls binds the server to a handler as `functools.partial` or a wrapper with `.func`
    function = getattr(handler, "func", handler)
    decorator(function)
    if is_thread_function(handler):
        server.thread()(function)


async def _listen(
    host: str, port: int, new_server: Callable[[], SoplsLanguageServer], limit: int
) -> int:
    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        logger.info("connection from %s", peer)
        protocol = new_server().protocol
        protocol.set_writer(writer)  # type: ignore[arg-type]  (write and close, as pygls needs)

        async def read() -> bytes:
            try:
                return await reader.read(CHUNK_BYTES)
            except ConnectionError:
                return b""

        try:
            await protocol.serve(read, limit)
        finally:
            protocol.connection_lost()
            writer.close()
            logger.info("connection from %s ended", peer)

    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        listener = await asyncio.start_server(connected, host, port)
    except OSError as exc:
        print(
            f"sopls: cannot listen on {shown}: {exc.strerror or exc}; choose another address "
            "or port.",
            file=sys.stderr,
        )
        return 1
    bound = listener.sockets[0].getsockname()
    shown = f"[{bound[0]}]:{bound[1]}" if ":" in bound[0] else f"{bound[0]}:{bound[1]}"
    print(f"sopls: listening on {shown}, one session per connection", file=sys.stderr, flush=True)
    async with listener:
        await listener.serve_forever()
    return 0


class StdinReader:
    """Reads stdin in a daemon thread, one chunk at a time: a blocked read neither holds up the
    event loop nor keeps the process alive after `exit`, and a fast client cannot fill memory."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1)
        self._thread: threading.Thread | None = None

    async def read(self) -> bytes:
        if self._thread is None:
            loop = asyncio.get_running_loop()
            self._thread = threading.Thread(
                target=self._pump, args=(loop,), name="sopls-stdin", daemon=True
            )
            self._thread.start()
        return await self._chunks.get()

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                chunk = os.read(self._fd, CHUNK_BYTES)
            except OSError:
                chunk = b""
            try:
                asyncio.run_coroutine_threadsafe(self._chunks.put(chunk), loop).result()
            except RuntimeError:  # the loop has closed: the server is done
                return
            if not chunk:
                return
