"""The JSON-RPC side of the server: how messages are read, answered and cancelled.

Bytes become messages in `FrameReader`, which trusts nothing it is sent: a header it cannot read,
or a message over the size limit, is skipped with an error and reading goes on at the next
`Content-Length` header. `SoplsProtocol` then applies the LSP lifecycle (nothing before
`initialize`, no requests after `shutdown`) before pygls dispatches the message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Generator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from lsprotocol.types import ErrorCodes, ResponseError, ResponseErrorMessage
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

if TYPE_CHECKING:
    from server.language_server import SoplsLanguageServer

logger = logging.getLogger("sopls.server.jsonrpc")

MAX_HEADER_BYTES = 8192
"""An LSP header is two short fields; anything longer is not one."""

_HEADER_START = re.compile(rb"content-length:", re.IGNORECASE)
# A whole `Content-Length` line. It cannot occur inside a JSON text (a line break inside a string
# must be escaped, and the name outside a string is no JSON), so seeing one inside a body means
# the body was shorter than its header said and the next message has begun.
_HEADER_LINE = re.compile(rb"content-length:[ \t]{0,8}\d{1,20}[ \t]{0,8}\r?\n", re.IGNORECASE)
_HEADER_LINE_MAX = 64
_FIELD_NAME = re.compile(rb"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


class FrameReader:
    """Splits a byte stream into message bodies (the LSP base protocol), in bounded memory.

    Line ends may be CRLF or LF, field names any case; other fields than `Content-Length` are
    ignored. A header that cannot be trusted is dropped with the bytes up to the next
    `Content-Length`; a message over `max_message_bytes` is read past without being kept.
    """

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._header_bytes = 0
        self._has_fields = False
        self._declared: int | None = None
        self._resyncing = False
        self._length: int | None = None  # of the body being read
        self._keep = True
        self._dropped = 0  # bytes of a skipped body already let go
        self._scanned = 0  # bytes of the buffer already searched for a header line

    @property
    def in_message(self) -> bool:
        """True when the stream stopped now would cut a message."""
        return self._length is not None or self._has_fields or bool(self._buffer.strip())

    def feed(self, data: bytes) -> list[bytes]:
        """The bodies completed by `data`; every fault is logged and skipped."""
        self._buffer += data
        bodies: list[bytes] = []
        while True:
            if self._resyncing:
                progressed = self._resync()
            elif self._length is None:
                progressed = self._header()
            else:
                progressed = self._body(bodies)
            if not progressed:
                return bodies

    def _header(self) -> bool:
        end = self._buffer.find(b"\n")
        if end < 0 or self._header_bytes + end + 1 > MAX_HEADER_BYTES:
            if end < 0 and self._header_bytes + len(self._buffer) <= MAX_HEADER_BYTES:
                return False
            del self._buffer[:1]
            return self._fault(f"a header is longer than {MAX_HEADER_BYTES} bytes")
        line = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        self._header_bytes += len(line)
        text = line[:-1].removesuffix(b"\r")
        if not text:
            if not self._has_fields:  # a blank line between messages does no harm
                self._header_bytes = 0
                return True
            return self._end_of_header()
        if (inner := _HEADER_START.search(line, 1)) is not None:
            self._buffer[:0] = line[inner.start() :]
            return self._fault("a header line runs into another message's header")
        name, colon, value = text.partition(b":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            self._buffer[:0] = line[1:]
            return self._fault(f"a header line is not `Name: value`: {_excerpt(text)}")
        self._has_fields = True
        if name.lower() != b"content-length":
            return True
        value = value.strip()
        if not (value.isdigit() and len(value) <= 20):
            return self._fault(f"Content-Length is not a number of bytes: {_excerpt(value)}")
        if self._declared is not None and self._declared != int(value):
            return self._fault(f"two Content-Length headers disagree ({self._declared}, {value!r})")
        self._declared = int(value)
        return True

    def _end_of_header(self) -> bool:
        length = self._declared
        if length is None:
            return self._fault("a header has no Content-Length")
        self._clear_header()
        self._length, self._dropped, self._scanned = length, 0, 0
        self._keep = length <= self.max_message_bytes
        if not self._keep:
            logger.error(
                "A message of %d bytes is over the limit of %d bytes, so it is skipped; raise "
                "server.max_message_bytes (SOPLS_SERVER__MAX_MESSAGE_BYTES) if it was meant.",
                length,
                self.max_message_bytes,
            )
        return True

    def _body(self, bodies: list[bytes]) -> bool:
        assert self._length is not None
        needed = self._length - self._dropped
        found = _HEADER_LINE.search(self._buffer, max(0, self._scanned - _HEADER_LINE_MAX))
        if found is not None and found.start() < needed:
            del self._buffer[: found.start()]
            logger.error(
                "A message ended after %d of its %d bytes and the next one began there, so it "
                "is skipped; check that the client counts Content-Length in bytes.",
                self._dropped + found.start(),
                self._length,
            )
            self._length = None
            return True
        if len(self._buffer) >= needed:
            if self._keep:
                bodies.append(bytes(self._buffer[:needed]))
            del self._buffer[:needed]
            self._length = None
            return True
        if not self._keep and len(self._buffer) > _HEADER_LINE_MAX:
            drop = len(self._buffer) - _HEADER_LINE_MAX
            del self._buffer[:drop]
            self._dropped += drop
        self._scanned = len(self._buffer)
        return False

    def _resync(self) -> bool:
        found = _HEADER_START.search(self._buffer)
        if found is None:
            del self._buffer[: max(0, len(self._buffer) - len(b"content-length:"))]
            return False
        del self._buffer[: found.start()]
        self._resyncing = False
        return True

    def _fault(self, reason: str) -> bool:
        logger.error(
            "%s, so the message is skipped up to the next Content-Length header; check how the "
            "client frames its messages.",
            reason[0].upper() + reason[1:],
        )
        self._clear_header()
        self._resyncing = True
        return True

    def _clear_header(self) -> None:
        self._header_bytes = 0
        self._has_fields = False
        self._declared = None


def _excerpt(text: bytes) -> str:
    return repr(text[:40]) + ("..." if len(text) > 40 else "")


class SoplsProtocol(LanguageServerProtocol):
    """Keeps each executeCommand's params (for its progress token) and cancels runs on request."""

    _server: SoplsLanguageServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_params: dict[Any, types.ExecuteCommandParams] = {}
        self.exit_code: int | None = None
        self._initialized = False

    async def serve(self, read: Callable[[], Awaitable[bytes]], max_message_bytes: int) -> int:
        """Answer what `read` delivers (b"" at the end) until `exit` or the end of the stream;
        returns the exit code LSP asks for."""
        frames = FrameReader(max_message_bytes)
        try:
            while self.exit_code is None:
                chunk = await read()
                if not chunk:
                    if frames.in_message:
                        logger.error("The client closed the connection in the middle of a message.")
                    break
                for body in frames.feed(chunk):
                    self.receive(body)
                    if self.exit_code is not None:
                        break
        except BrokenPipeError:
            logger.error("The client closed its end of the connection, so the session ends.")
        return self.exit_code or 0

    def receive(self, body: bytes) -> None:
        """Handle one message body; whatever it holds, the server goes on."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            # No answer: one without an id would reach pygls-based clients as a broken message.
            logger.error("A message is not JSON (%s), so it is skipped.", exc)
            return
        request_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(request_id, str | int) or isinstance(request_id, bool):
            request_id = None
        if not isinstance(data, dict) or data.get("jsonrpc") != self.VERSION:
            logger.error("A message is not a JSON-RPC 2.0 object, so it is skipped.")
            if request_id is not None:
                self._refuse(request_id, ErrorCodes.InvalidRequest, "not a JSON-RPC 2.0 message")
            return
        method = data.get("method")
        if isinstance(method, str) and not self._lifecycle_allows(method, request_id, data):
            return
        try:
            message = self.structure_message(data)
        except JsonRpcException:
            return  # logged, and a request answered, by structure_message
        if method == types.INITIALIZE:
            self._initialized = True
        try:
            self.handle_message(message)
        except Exception:
            logger.exception("A %s message could not be handled; the server goes on.", method)

    def _lifecycle_allows(self, method: str, request_id: Any, data: dict[str, Any]) -> bool:
        """LSP's order: initialize first (else -32002), once; after shutdown, only exit."""
        if "id" not in data:
            if self._initialized or method == types.EXIT:
                return True
            logger.warning("A %s notification came before initialize and is dropped.", method)
            return False
        if method == types.INITIALIZE and self._initialized:
            problem = "initialize was already sent; the server is initialized"
            self._refuse(request_id, ErrorCodes.InvalidRequest, problem)
            return False
        if method != types.INITIALIZE and not self._initialized:
            problem = f"{method} came before initialize; send initialize first"
            self._refuse(request_id, ErrorCodes.ServerNotInitialized, problem)
            return False
        if self._shutdown:
            problem = f"{method} came after shutdown; the server only takes exit now"
            self._refuse(request_id, ErrorCodes.InvalidRequest, problem)
            return False
        return True

    def _refuse(self, request_id: Any, code: int, message: str) -> None:
        self._send_data(
            ResponseErrorMessage(id=request_id, error=ResponseError(code=code, message=message))
        )

    def connection_lost(self) -> None:
        """A client that has gone gets no answers: stop what its requests started."""
        self._cancel_all(but=None)

    def _cancel_all(self, but: Any) -> None:
        """Cancel every request in flight but one, and the runs they started (which keep their
        state for resume)."""
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != but and not future.done():
                self._handle_cancel_notification(msg_id)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """As pygls's, but its loop changes the table of futures it walks (a cancelled future
        leaves it at once) and fails."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        self._cancel_all(but=self.msg_id)
        self._shutdown = True

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """Ends this session, not the process: over TCP the other connections go on."""
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        self.exit_code = 0 if self._shutdown else 1

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        self.command_params[self.msg_id] = params  # removed with the answer
        return (yield from super().lsp_workspace__execute_command(params))

    def _send_handler_result(self, future: Future[Any], *, msg_id: Any) -> None:
        # Every request ends here, also one whose command failed; the generator above does not
        # always finish, since pygls hands it no exception back.
        self.command_params.pop(msg_id, None)
        super()._send_handler_result(future, msg_id=msg_id)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Callable[..., Any],
        callback: Callable[[Future[Any]], None],
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls files the future of every coroutine it runs under `msg_id` but removes only a
        request's own; those of the handlers a feature yields to would stay for ever."""

        def finished(future: Future[Any]) -> None:
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]
            callback(future)

        super()._execute_handler(msg_id, handler, finished, args, kwargs)

    def _run_generator(
        self,
        future: Future[Any] | None,
        *,
        gen: Generator[Any, Any, Any],
        result_future: Future[Any],
    ) -> None:
        """A handler cancelled (on exit, say) cancels the feature that yielded to it; pygls would
        read its result and raise CancelledError out of a callback."""
        if future is not None and future.cancelled():
            gen.close()
            result_future.cancel()
            return
        super()._run_generator(future, gen=gen, result_future=result_future)

    def get_message_type(self, method: str) -> Any:
        """Uncached: pygls caches per instance, which would keep ended TCP sessions alive."""
        return types.METHOD_TO_TYPES.get(method, (None,))[0]

    def get_result_type(self, method: str) -> Any:
        return types.METHOD_TO_TYPES.get(method, (None, None))[1]

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        self._server.runs.cancel_request(msg_id)
        super()._handle_cancel_notification(msg_id)

    def structure_message(self, data: dict[str, Any]) -> Any:
        """A request whose params cannot be read still gets an answer, so its client does not
        wait for ever."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                message = f"{exc.message}: {data['method']} got params it cannot read"
                self._send_response(data["id"], error=ResponseError(code=exc.code, message=message))
            raise
