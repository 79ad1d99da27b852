"""An OpenAI-compatible HTTP server whose answers come from a script of rules.

It runs the standard library's threading HTTP server on a background daemon thread
so sync tests, async tests on any event loop and child processes can all reach it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from .script import (
    API_KEY_PLACEHOLDER,
    STREAM_PIECE_CHARS,
    Body,
    Fault,
    Hang,
    Json,
    Match,
    Rule,
    Text,
    Truncated,
    Usage,
    estimate_usage,
    load_rules,
)

DEFAULT_MODEL = "scripted-model"
CHAT_PATH = "/v1/chat/completions"
NO_RULE_MESSAGE = "scripted endpoint: no rule matches this request"
JSON_SCHEMA_REFUSAL = "response_format type json_schema is not supported"
DEFAULT_EMBEDDING_DIMENSIONS = 8
_SLEEP_STEP = 0.02

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


@dataclass
class RecordedRequest:
    """What the endpoint saw and how it answered.

    Header names are lower-cased; ``status`` stays 0 when no response was sent (hang).
    """

    path: str
    method: str
    body: Body | None
    headers: dict[str, str]
    started: float
    finished: float | None = None
    status: int = 0
    rule: Rule | None = None


@dataclass
class _Counters:
    in_flight: int = 0
    max_in_flight: int = 0
    next_id: int = 0
    records: list[RecordedRequest] = field(default_factory=list)
    unmatched: list[RecordedRequest] = field(default_factory=list)


def error_body(status: int, message: str) -> dict[str, Any]:
    """OpenAI-style error payload so SDKs surface the message."""
    error_type = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "api_error")
    return {"error": {"message": message, "type": error_type, "code": status}}


def presented_key(record: RecordedRequest) -> str:
    """The API key the request carried in its ``Authorization: Bearer`` header."""
    return record.headers.get("authorization", "").removeprefix("Bearer ")


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """Unit-length vector derived from sha256, identical for identical text."""
    values: list[float] = []
    block = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
        values.extend(n / 0xFFFFFFFF * 2.0 - 1.0 for n in struct.unpack("<8I", digest))
        block += 1
    vector = values[:dimensions]
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]


class RuleBuilder:
    """Fluent helper returned by ``ScriptedEndpoint.on``; each method adds one rule."""

    def __init__(self, endpoint: ScriptedEndpoint, match: Match, times: int | None) -> None:
        self._endpoint = endpoint
        self._match = match
        self._times = times

    def _add(self, reply: Text | Json | Truncated | Fault | Hang) -> Rule:
        return self._endpoint.add(Rule(match=self._match, reply=reply, times=self._times))

    def reply_text(
        self,
        content: str,
        *,
        usage: Usage | None = None,
        omit_usage: bool = False,
        delay: float = 0.0,
        repeat: int = 1,
        piece_chars: int = STREAM_PIECE_CHARS,
        interval: float = 0.0,
    ) -> Rule:
        """Answer with plain text: ``content`` ``repeat`` times, in pieces ``interval`` apart."""
        return self._add(
            Text(
                content,
                usage=usage,
                omit_usage=omit_usage,
                delay=delay,
                repeat=repeat,
                piece_chars=piece_chars,
                interval=interval,
            )
        )

    def reply_json(
        self,
        data: Any,
        *,
        usage: Usage | None = None,
        omit_usage: bool = False,
        delay: float = 0.0,
    ) -> Rule:
        """Answer with ``json.dumps(data)`` as content."""
        return self._add(Json(data, usage=usage, omit_usage=omit_usage, delay=delay))

    def truncate(self, content: str, *, usage: Usage | None = None) -> Rule:
        """Answer with finish_reason "length"."""
        return self._add(Truncated(content, usage=usage))

    def fail(
        self,
        status: int = 500,
        retry_after: float | None = None,
        message: str = "scripted endpoint fault",
    ) -> Rule:
        """Answer with an HTTP error."""
        return self._add(Fault(status=status, retry_after=retry_after, message=message))

    def hang(self, seconds: float = 30.0) -> Rule:
        """Never answer (for ``seconds``)."""
        return self._add(Hang(seconds))


class _Server(ThreadingHTTPServer):
    """Thread-per-request server that tracks open connections so stop can cut them."""

    def __init__(self, endpoint: ScriptedEndpoint, port: int) -> None:
        self.endpoint = endpoint
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:
        """Skip the reverse DNS lookup HTTPServer does, which can stall start-up."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client goes away or the endpoint is shutting down."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError) or (
            isinstance(error, OSError) and self.endpoint.stopping
        ):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request access logs."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            self.server.endpoint._handle(self)
        except ConnectionError:
            self.close_connection = True

    def read_body(self) -> tuple[Body | None, bool]:
        """Parsed JSON body, and whether the raw bytes (if any) were valid JSON."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None, True
        try:
            parsed = json.loads(raw)
        except ValueError:
            return None, False
        if not isinstance(parsed, dict):
            return None, False
        return parsed, True

    def send_json(
        self,
        record: RecordedRequest,
        status: int,
        payload: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
        *,
        piece_bytes: int | None = None,
        interval: float = 0.0,
    ) -> None:
        """Send a complete JSON response, recording it before the client can see it.

        With ``interval``, the body goes out in pieces of ``piece_bytes`` that far apart.
        """
        data = json.dumps(payload).encode()
        record.status = status
        record.finished = time.monotonic()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        step = piece_bytes if interval and piece_bytes else len(data) or 1
        for start in range(0, len(data), step):
            if start:
                self.server.endpoint._sleep(interval)
            self.wfile.write(data[start : start + step])
            self.wfile.flush()

    def send_events(
        self,
        record: RecordedRequest,
        events: Sequence[Mapping[str, Any]],
        *,
        interval: float = 0.0,
    ) -> None:
        """Send Server-Sent Events one by one, ``interval`` apart, then ``[DONE]`` and close."""
        record.status = 200
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for index, event in enumerate(events):
            if index and interval:
                self.server.endpoint._sleep(interval)
            if self.server.endpoint.stopping:
                return
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        record.finished = time.monotonic()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class ScriptedEndpoint:
    """OpenAI-compatible server on 127.0.0.1 answering chat requests from ordered rules."""

    def __init__(
        self,
        rules: Iterable[Rule] = (),
        *,
        refuse_json_schema: bool = False,
        port: int = 0,
    ) -> None:
        self.refuse_json_schema = refuse_json_schema
        self._requested_port = port
        self._lock = threading.RLock()
        self._rules: list[Rule] = list(rules)
        self._counters = _Counters()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> Self:
        """Bind a port and serve on a daemon thread."""
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = _Server(self, self._requested_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"scripted-endpoint-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections so waiting handlers exit promptly."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stop.set()
        server.shutdown()
        with server.connections_lock:
            connections = list(server.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue
        server.server_close()
        thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        """True once ``stop`` has begun."""
        return self._stop.is_set()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("scripted endpoint is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to an OpenAI client."""
        return f"http://127.0.0.1:{self.port}/v1"

    # Script

    def add(self, rule: Rule) -> Rule:
        """Append a rule; earlier rules take precedence."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def on(
        self,
        schema: str | None = None,
        contains: str | None = None,
        model: str | None = None,
        stream: bool | None = None,
        system_contains: str | None = None,
        predicate: Callable[[Body], bool] | None = None,
        times: int | None = None,
        api_key: str | None = None,
    ) -> RuleBuilder:
        """Start a rule for requests matching all the given conditions."""
        match = Match(
            schema=schema,
            contains=contains,
            model=model,
            stream=stream,
            system_contains=system_contains,
            api_key=api_key,
            predicate=predicate,
        )
        return RuleBuilder(self, match, times)

    def load_script(self, source: str | Path | Iterable[Rule | Mapping[str, Any]]) -> list[Rule]:
        """Append rules from a JSON file or a list of rules / rule dicts."""
        rules = load_rules(source)
        with self._lock:
            self._rules.extend(rules)
        return rules

    def reset(self) -> None:
        """Forget all rules and recorded requests."""
        with self._lock:
            self._rules.clear()
            self._counters = _Counters()

    @property
    def rules(self) -> list[Rule]:
        """A snapshot of the current rules."""
        with self._lock:
            return list(self._rules)

    # Recording

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order."""
        with self._lock:
            return list(self._counters.records)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Only the chat-completion requests."""
        return [r for r in self.requests if r.path == CHAT_PATH]

    @property
    def unmatched(self) -> list[RecordedRequest]:
        """Chat requests that no rule answered."""
        with self._lock:
            return list(self._counters.unmatched)

    @property
    def max_in_flight(self) -> int:
        """Highest number of chat requests handled at the same time."""
        with self._lock:
            return self._counters.max_in_flight

    # Request handling

    def _handle(self, handler: _Handler) -> None:
        path = urlsplit(handler.path).path.rstrip("/")
        method = handler.command
        body, valid = handler.read_body()
        record = RecordedRequest(
            path=path,
            method=method,
            body=body,
            headers={name.lower(): value for name, value in handler.headers.items()},
            started=time.monotonic(),
        )
        with self._lock:
            self._counters.records.append(record)
        if not valid:
            handler.send_json(record, 400, error_body(400, "request body is not a JSON object"))
        elif method == "POST" and path == CHAT_PATH:
            self._chat(handler, record, body or {})
        elif method == "POST" and path == "/v1/embeddings":
            handler.send_json(record, 200, self._embeddings(body or {}))
        elif method == "GET" and path == "/v1/models":
            handler.send_json(record, 200, self._models())
        else:
            handler.send_json(record, 404, error_body(404, f"no route for {method} {path}"))

    def _chat(self, handler: _Handler, record: RecordedRequest, body: Body) -> None:
        with self._lock:
            counters = self._counters
            counters.in_flight += 1
            counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
        try:
            self._answer_chat(handler, record, body)
        finally:
            with self._lock:
                counters.in_flight -= 1

    def _answer_chat(self, handler: _Handler, record: RecordedRequest, body: Body) -> None:
        response_format = body.get("response_format")
        if (
            self.refuse_json_schema
            and isinstance(response_format, dict)
            and response_format.get("type") == "json_schema"
        ):
            payload = {
                "error": {
                    "code": 400,
                    "message": JSON_SCHEMA_REFUSAL,
                    "type": "invalid_request_error",
                }
            }
            handler.send_json(record, 400, payload)
            return
        rule = self._select(body, presented_key(record))
        record.rule = rule
        if rule is None:
            with self._lock:
                self._counters.unmatched.append(record)
            handler.send_json(record, 400, error_body(400, NO_RULE_MESSAGE))
            return
        reply = rule.reply
        if isinstance(reply, Fault):
            headers = {} if reply.retry_after is None else {"Retry-After": str(reply.retry_after)}
            message = reply.message.replace(API_KEY_PLACEHOLDER, presented_key(record))
            handler.send_json(record, reply.status, error_body(reply.status, message), headers)
        elif isinstance(reply, Hang):
            self._sleep(reply.seconds)
            record.finished = time.monotonic()
            handler.close_connection = True
        else:
            self._complete(handler, record, body, reply)

    def _complete(
        self,
        handler: _Handler,
        record: RecordedRequest,
        body: Body,
        reply: Text | Json | Truncated,
    ) -> None:
        if isinstance(reply, Truncated):
            finish_reason, omit_usage = "length", False
        else:
            finish_reason, omit_usage = "stop", reply.omit_usage
            self._sleep(reply.delay)
        if self.stopping:
            handler.close_connection = True
            return
        content = reply.text.replace(API_KEY_PLACEHOLDER, presented_key(record))
        pacing = reply if isinstance(reply, Text) else Text("")
        usage = None if omit_usage else (reply.usage or estimate_usage(body, content)).as_dict()
        with self._lock:
            self._counters.next_id += 1
            completion_id = f"chatcmpl-scripted-{self._counters.next_id}"
        base: dict[str, Any] = {
            "id": completion_id,
            "created": int(time.time()),
            "model": body.get("model") or DEFAULT_MODEL,
        }
        if not body.get("stream"):
            payload: dict[str, Any] = {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish_reason,
                        "logprobs": None,
                    }
                ],
            }
            if usage is not None:
                payload["usage"] = usage
            handler.send_json(
                record, 200, payload, piece_bytes=pacing.piece_chars, interval=pacing.interval
            )
            return
        chunk = {**base, "object": "chat.completion.chunk"}

        def choice(delta: dict[str, str], reason: str | None = None) -> dict[str, Any]:
            choices = [{"index": 0, "delta": delta, "finish_reason": reason, "logprobs": None}]
            return {**chunk, "choices": choices}

        events = [choice({"role": "assistant", "content": ""})]
        step = pacing.piece_chars
        events += [choice({"content": content[i : i + step]}) for i in range(0, len(content), step)]
        events.append(choice({}, finish_reason))
        stream_options = body.get("stream_options")
        if (
            usage is not None
            and isinstance(stream_options, dict)
            and stream_options.get("include_usage")
        ):
            events.append({**chunk, "choices": [], "usage": usage})
        handler.send_events(record, events, interval=pacing.interval)

    def _select(self, body: Body, api_key: str) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if not rule.exhausted and rule.match.matches(body, api_key):
                    rule.consume()
                    return rule
        return None

    def _sleep(self, seconds: float) -> None:
        """Sleep in small steps so ``stop`` is never held up by a slow reply."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._stop.wait(min(_SLEEP_STEP, remaining))

    def _embeddings(self, body: Body) -> dict[str, Any]:
        raw_input = body.get("input", "")
        items = raw_input if isinstance(raw_input, list) else [raw_input]
        if items and all(isinstance(i, int) for i in items):
            items = [items]
        texts = [i if isinstance(i, str) else json.dumps(i) for i in items]
        dimensions = int(body.get("dimensions") or DEFAULT_EMBEDDING_DIMENSIONS)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = embedding_vector(text, dimensions)
            encoded: list[float] | str = (
                base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
                if as_base64
                else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(max(1, len(t.split())) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": body.get("model") or DEFAULT_MODEL,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _models(self) -> dict[str, Any]:
        names = [DEFAULT_MODEL]
        for rule in self.rules:
            if rule.match.model is not None and rule.match.model not in names:
                names.append(rule.match.model)
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "scripted"}
                for name in names
            ],
        }
