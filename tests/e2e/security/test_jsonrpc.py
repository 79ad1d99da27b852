"""`sopls serve` against a hostile client: broken framing, oversized messages, requests out of
order, TCP sessions, and memory that must not grow. The wire is spoken in raw bytes."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from agents.runs.run_state import RunFolder, RunOptions
from server.protocol import FrameReader

ANSWER_WITHIN = 2.0
STARTUP = 60.0


def body(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


def frame(data: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n%s" % (len(data), data)


def request(request_id: int, method: str, params: Any = None) -> bytes:
    return body({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def list_runs(request_id: int) -> bytes:
    params = {"command": "sopls.listRuns", "arguments": [{}]}
    return request(request_id, "workspace/executeCommand", params)


def initialize(root: Path) -> bytes:
    return request(
        1, "initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
    )


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SOPLS_"))}
    return env | extra


class Peer:
    """One end of a JSON-RPC connection read in raw frames (the server's own are well formed)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def next_message(self) -> dict[str, Any]:
        length = None
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        if length is None:
            raise EOFError("the server closed the connection")
        return json.loads(await self.reader.readexactly(length))

    async def answer(self, request_id: int, within: float = ANSWER_WITHIN) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                message = await self.next_message()
                if message.get("id") == request_id and "method" not in message:
                    return message


class StdioServer(Peer):
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        assert process.stdin is not None
        super().__init__(process.stdout, process.stdin)
        self.process = process

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode(errors="replace")

    async def answers_or_exits_with_a_line(self, request_id: int) -> None:
        """Within ANSWER_WITHIN seconds the request is answered, or the server has exited and
        said why on stderr."""
        try:
            answer = await self.answer(request_id)
        except (TimeoutError, EOFError, asyncio.IncompleteReadError):
            try:
                await asyncio.wait_for(self.process.wait(), 0.1)
            except TimeoutError:
                pytest.fail(f"no answer to request {request_id} in {ANSWER_WITHIN} s")
            assert (await self.stderr()).strip(), "the server exited without a word"
        else:
            assert answer.get("result") == [], answer


@asynccontextmanager
async def stdio_server(root: Path, **env: str) -> AsyncIterator[StdioServer]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "serve",
        cwd=root,
        env=server_env(**env),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=2**20,
    )
    try:
        yield StdioServer(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def initialized(server: Peer, root: Path) -> None:
    await server.send(frame(initialize(root)))
    answer = await server.answer(1, within=STARTUP)
    assert "capabilities" in answer["result"]
    await server.send(frame(body({"jsonrpc": "2.0", "method": "initialized", "params": {}})))


VALID = list_runs(90)
FAULTS = {
    "length too short": b"Content-Length: 5\r\n\r\n" + VALID,
    "length too long": b"Content-Length: 400\r\n\r\n" + VALID,
    "1 MB header line": b"X-Padding: " + b"a" * 2**20 + frame(VALID),
    "no Content-Length": b"Content-Type: application/vscode-jsonrpc\r\n\r\n" + VALID,
    "non-numeric length": b"Content-Length: ninety\r\n\r\n" + VALID,
    "negative length": b"Content-Length: -%d\r\n\r\n" % len(VALID) + VALID,
    "duplicated length": b"Content-Length: 3\r\nContent-Length: %d\r\n\r\n" % len(VALID) + VALID,
    "LF-only line ends": b"Content-Length: %d\n\n" % len(VALID) + VALID,
    "no blank line": b"Content-Length: %d\r\n" % len(VALID) + VALID,
    "no header at all": b"\x00\xff not a header\r\n\r\n" + VALID,
}
READER_FAULTS = FAULTS | {
    "1 MB header line that ends": b"X-Padding: " + b"a" * 2**20 + b"\r\n" + frame(VALID),
    "a million digits": b"Content-Length: " + b"9" * 10**6 + b"\r\n\r\n" + VALID,
    "empty length": b"Content-Length: \r\n\r\n" + VALID,
    "CR-only line ends": b"Content-Length: %d\r\r" % len(VALID) + VALID,
    "header split by a message": b"Content-Length: 9\r\n" + frame(VALID),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
async def test_a_header_fault_leaves_the_stdio_server_answering(
    fault: bytes, tmp_path: Path
) -> None:
    async with stdio_server(tmp_path) as server:
        await initialized(server, tmp_path)
        await server.send(fault)
        await server.send(frame(list_runs(2)))
        await server.answers_or_exits_with_a_line(2)


async def test_a_terabyte_content_length_is_refused_and_the_server_goes_on(
    tmp_path: Path,
) -> None:
    async with stdio_server(tmp_path) as server:
        await initialized(server, tmp_path)
        await server.send(b"Content-Length: 1000000000000\r\n\r\n")
        await server.send(frame(list_runs(2)))
        await server.answers_or_exits_with_a_line(2)
        await server.send(frame(list_runs(3)))
        await server.answers_or_exits_with_a_line(3)
        server.process.stdin.close()  # type: ignore[union-attr]
        assert "1000000000000 bytes is over the limit" in await server.stderr()


async def test_a_message_over_the_configured_limit_is_skipped_whole(tmp_path: Path) -> None:
    big = request(7, "workspace/executeCommand", {"command": "sopls.listRuns", "x": "y" * 4000})
    async with stdio_server(tmp_path, SOPLS_SERVER__MAX_MESSAGE_BYTES="2048") as server:
        await initialized(server, tmp_path)
        await server.send(frame(big) + frame(list_runs(2)))
        assert (await server.answer(2))["result"] == []
        server.process.stdin.close()  # type: ignore[union-attr]
        assert f"{len(big)} bytes is over the limit of 2048" in await server.stderr()
        with pytest.raises(EOFError):
            await server.answer(7)


async def test_a_body_that_is_no_json_rpc_is_refused_and_the_server_goes_on(
    tmp_path: Path,
) -> None:
    async with stdio_server(tmp_path) as server:
        await initialized(server, tmp_path)
        await server.send(frame(b"{not json") + frame(b"[" * 100_000 + b"]" * 100_000))
        await server.send(frame(body({"id": 5, "method": "shutdown"})))
        assert (await server.answer(5))["error"]["code"] == -32600
        await server.send(frame(list_runs(2)))
        assert (await server.answer(2))["result"] == []
        server.process.stdin.close()  # type: ignore[union-attr]
        assert (await server.stderr()).count("is not JSON") == 2


async def test_requests_before_initialize_get_server_not_initialized(tmp_path: Path) -> None:
    async with stdio_server(tmp_path) as server:
        await server.send(frame(list_runs(5)) + frame(request(6, "shutdown")))
        for request_id in (5, 6):
            error = (await server.answer(request_id, within=STARTUP))["error"]
            assert error["code"] == -32002
            assert "initialize" in error["message"]
            assert "Traceback" not in json.dumps(error)
        await server.send(frame(body({"jsonrpc": "2.0", "method": "initialized", "params": {}})))
        await initialized(server, tmp_path)
        await server.send(frame(initialize(tmp_path)))
        assert (await server.answer(1))["error"]["code"] == -32600
        await server.send(frame(request(3, "shutdown")) + frame(list_runs(4)))
        assert (await server.answer(3))["result"] is None
        assert (await server.answer(4))["error"]["code"] == -32600
        await server.send(frame(body({"jsonrpc": "2.0", "method": "exit"})))
        assert await asyncio.wait_for(server.process.wait(), ANSWER_WITHIN) == 0


async def test_exit_before_initialize_ends_the_server_with_code_1(tmp_path: Path) -> None:
    async with stdio_server(tmp_path) as server:
        await server.send(frame(body({"jsonrpc": "2.0", "method": "exit"})))
        assert await asyncio.wait_for(server.process.wait(), STARTUP) == 1


@asynccontextmanager
async def tcp_server(root: Path, address: str) -> AsyncIterator[tuple[str, int]]:
    """`sopls serve --tcp address`; yields the host and port it says it listens on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "serve",
        "--tcp",
        address,
        cwd=root,
        env=server_env(),
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        line = await asyncio.wait_for(process.stderr.readline(), STARTUP)
        found = re.search(rb"listening on (?:\[([^\]]+)\]|([^\s:]+)):(\d+)", line)
        assert found is not None, line
        yield (found.group(1) or found.group(2)).decode(), int(found.group(3))
    finally:
        process.kill()
        await process.wait()


@asynccontextmanager
async def connection(host: str, port: int) -> AsyncIterator[Peer]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        yield Peer(reader, writer)
    finally:
        writer.close()


async def test_each_tcp_connection_is_a_session_of_its_own(tmp_path: Path) -> None:
    first_root, second_root = tmp_path / "first", tmp_path / "second"
    first_root.mkdir()
    second_root.mkdir()
    RunFolder.create(first_root, RunOptions(idea="a word-frequency CLI"))
    async with (
        tcp_server(tmp_path, "127.0.0.1:0") as (host, port),
        connection(host, port) as first,
    ):
        await initialized(first, first_root)
        async with connection(host, port) as second:
            await second.send(frame(list_runs(2)))
            assert (await second.answer(2))["error"]["code"] == -32002
            await initialized(second, second_root)
            await second.send(frame(list_runs(3)))
            assert (await second.answer(3))["result"] == []
        await first.send(frame(list_runs(4)))
        assert len((await first.answer(4))["result"]) == 1

        async with connection(host, port) as third:
            await initialized(third, second_root)
            await third.send(frame(list_runs(5)))
            assert (await third.answer(5))["result"] == []
            await third.send(
                frame(request(6, "shutdown")) + frame(b'{"jsonrpc": "2.0", "method": "exit"}')
            )
            assert (await third.answer(6))["result"] is None
            with pytest.raises(EOFError):
                await third.next_message()
        await first.send(frame(list_runs(7)))
        assert len((await first.answer(7))["result"]) == 1


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no IPv6 loopback")
async def test_an_ipv6_literal_is_served(tmp_path: Path) -> None:
    async with tcp_server(tmp_path, "[::1]:0") as (host, port):
        assert host == "::1"
        async with connection(host, port) as client:
            await initialized(client, tmp_path)
            await client.send(frame(list_runs(2)))
            assert (await client.answer(2))["result"] == []


@pytest.mark.parametrize("address", ["127.0.0.1", "::1:2087", "[nope]:2087", "host:99999", ":2087"])
def test_a_bad_tcp_address_exits_2_with_one_line(address: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--tcp", address],
        cwd=tmp_path,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=STARTUP,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("sopls: --tcp wants HOST:PORT")


# The pure pieces, in-process.


@pytest.mark.parametrize("fault", READER_FAULTS.values(), ids=READER_FAULTS.keys())
@pytest.mark.parametrize("chunk", [1, 7, 65536])
def test_the_frame_reader_finds_the_next_message_after_a_fault(fault: bytes, chunk: int) -> None:
    reader = FrameReader(max_message_bytes=2**20)
    data = fault + frame(list_runs(2))
    bodies = [b for i in range(0, len(data), chunk) for b in reader.feed(data[i : i + chunk])]
    assert bodies[-1] == list_runs(2)
    assert not reader.in_message


def test_the_frame_reader_skips_a_huge_message_in_bounded_memory() -> None:
    reader = FrameReader(max_message_bytes=1024)
    assert reader.feed(b"Content-Length: 50000000\r\n\r\n") == []
    for _ in range(50000000 // 65536):
        assert reader.feed(b"x" * 65536) == []
        assert len(reader._buffer) <= 64
    rest = 50000000 % 65536
    assert reader.feed(b"x" * rest + frame(b"{}")) == [b"{}"]


# Memory: invalid requests must leave nothing behind.

INVALID_COMMANDS = [
    {"command": "sopls.getRun", "arguments": [{"runId": 5}]},  # arguments of the wrong type
    {"command": "sopls.resumeRun", "arguments": [{"runId": "nope"}]},  # an async command fails
    {"command": "sopls.nothing", "arguments": []},  # no such command
    {"command": 42, "arguments": "no"},  # params that cannot be read
]


class Sink:
    """A client that only counts the answers it gets."""

    def __init__(self) -> None:
        self.answers = 0
        self._wanted = 0
        self._reached = asyncio.Event()

    async def answered(self, count: int) -> None:
        self._wanted = count
        if self.answers < count:
            self._reached.clear()
            await self._reached.wait()

    def write(self, data: bytes) -> None:
        self.answers += data.count(b'"id"')
        if self.answers >= self._wanted:
            self._reached.set()

    def close(self) -> None:
        pass


@contextmanager
def tracing() -> Iterator[list[int]]:
    """The bytes still allocated after the block; logging is off, since pytest keeps records."""
    logging.disable(logging.CRITICAL)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    growth: list[int] = []
    try:
        yield growth
    finally:
        gc.collect()
        growth.append(tracemalloc.get_traced_memory()[0] - before)
        tracemalloc.stop()
        logging.disable(logging.NOTSET)


async def test_invalid_commands_leave_no_memory_behind(tmp_path: Path) -> None:
    import server.index_commands  # noqa: F401  (the server as `sopls serve` builds it)
    from server.commands import SERVER
    from server.transport import session_server

    protocol = session_server(SERVER).protocol
    sink = Sink()
    protocol.set_writer(sink)
    protocol.receive(initialize(tmp_path))
    await asyncio.sleep(0.1)

    async def send_invalid(first_id: int, count: int) -> None:
        expected = sink.answers + count
        for request_id in range(first_id, first_id + count):
            params = INVALID_COMMANDS[request_id % len(INVALID_COMMANDS)]
            protocol.receive(request(request_id, "workspace/executeCommand", params))
            if request_id % 50 == 0:
                await asyncio.sleep(0)
        async with asyncio.timeout(30):
            await sink.answered(expected)

    count = 1000
    await send_invalid(1000, count)  # tables and caches grow to their size first
    with tracing() as growth:
        await send_invalid(10_000, count)

    assert protocol.command_params == {}
    assert protocol._request_futures == {}
    assert growth[0] / count < 100, f"{growth[0] / count:.0f} bytes kept per invalid request"
