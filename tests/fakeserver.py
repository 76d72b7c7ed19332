"""A real local HTTP/1.1 server that speaks the providers' wire formats from scripts.

It binds 127.0.0.1 on port 0, runs its own asyncio loop in a thread, and records every request
(path, headers, JSON body, timing, requests in flight) so tests can assert the exact bytes each
provider and flag produced. Responses come from a FIFO of scripted :class:`Reply` objects, else
from ``handler`` (default: echo the last user message in the format the path implies).

Everything is stamped on the server's clock (``time.monotonic`` in this process): when a
request arrived (``started``), when its answer was done (``ended``), when the client hung up on
a reply the server was still holding or sending (``gone``), and when each connection closed
(``closed_at``). Tests measure timing from these stamps, not around a subprocess.

Run ``python tests/fakeserver.py`` to serve from a separate process (benchmarks do this).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    started: float
    in_flight: int
    ended: float | None = None
    gone: float | None = None  # the client closed the connection before the reply was done

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Reply:
    """One scripted response. ``chunks`` are (delay_s, bytes) written with chunked encoding."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: list[tuple[float, bytes]] | None = None
    delay: float = 0.0  # before the status line
    abort: bool = False  # close the socket mid-body without the final chunk
    reset: bool = False  # TCP RST instead of a clean close
    keep_open: float = 0.0  # after the chunks, hold the connection silently this long
    hold: threading.Event | None = None  # before the status line, wait until this is set


POLL = 0.01  # how often a waiting reply checks whether the client is still there


class ClientGone(ConnectionError):
    """The client closed the connection while the server was holding or sending a reply."""


REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# ------------------------------------------------------------------------------------------
# Reply builders


def json_reply(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, {"content-type": "application/json", **(headers or {})}, json.dumps(obj).encode()
    )


def http_fixture(name: str, headers: dict[str, str] | None = None) -> Reply:
    """Replay a ``.http`` fixture: status line, headers, blank line, body."""
    raw = (FIXTURES / name).read_bytes()
    head, _, body = raw.partition(b"\n\n")
    lines = head.decode().splitlines()
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.lower() not in ("transfer-encoding", "content-length", "content-encoding"):
            hdrs[key.strip()] = value.strip()
    hdrs.update(headers or {})
    return Reply(status, hdrs, body)


def sse_reply(
    events: Iterable[str | bytes],
    delay: float = 0.0,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> Reply:
    chunks = [(delay, e.encode() if isinstance(e, str) else e) for e in events]
    return Reply(200, {"content-type": "text/event-stream", **(headers or {})}, chunks=chunks, **kw)


def sse_fixture(name: str, delay: float = 0.0, **kw: Any) -> Reply:
    text = (FIXTURES / name).read_text()
    blocks = [b + "\n\n" for b in text.split("\n\n") if b.strip()]
    return sse_reply(blocks, delay, **kw)


# A tool call to stream: (id, name, the pieces its arguments arrive in).
StreamedCall = tuple[str, str, Sequence[str]]


def tool_call_deltas(calls: Sequence[StreamedCall]) -> list[dict[str, Any]]:
    """The deltas of several calls at once: each call's first piece carries its id and name,
    and the argument pieces of all calls are interleaved, piece by piece."""
    deltas: list[dict[str, Any]] = [
        {"index": i, "id": cid, "type": "function", "function": {"name": name, "arguments": ""}}
        for i, (cid, name, _) in enumerate(calls)
    ]
    for j in range(max((len(pieces) for _, _, pieces in calls), default=0)):
        for i, (_, _, pieces) in enumerate(calls):
            if j < len(pieces):
                deltas.append({"index": i, "function": {"arguments": pieces[j]}})
    return deltas


def reasoning_not_passed_back(body: Any) -> bool:
    """DeepSeek's thinking-mode rule (2026): an assistant turn that called tools must come
    back with its ``reasoning_content``, as must every assistant turn after it until the next
    user message; without it the request is refused with a 400."""
    must = False
    for message in body.get("messages") or () if isinstance(body, dict) else ():
        role = message.get("role")
        if role == "user":
            must = False
        elif role == "assistant":
            must = must or bool(message.get("tool_calls"))
            if must and not isinstance(message.get("reasoning_content"), str):
                return True
    return False


def _chunk(obj: dict[str, Any]) -> str:
    return f"data: {json.dumps(obj)}\n\n"


def openai_stream(
    answer: Iterable[str] = ("Hello", " world"),
    thinking: Iterable[str] = (),
    *,
    usage: dict[str, Any] | None = None,
    usage_placement: str | None = "separate",  # "separate" (DashScope), "finish" (DeepSeek), None
    finish: str | None = "stop",
    done: bool = True,
    model: str = "deepseek-v4-pro",
    keepalives: int = 0,
    delay: float = 0.0,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
    tool_calls: Sequence[StreamedCall] = (),
    **kw: Any,
) -> Reply:
    """An OpenAI-style chat stream: role chunk, reasoning deltas, content deltas, the tool
    calls (their pieces interleaved across calls, as several calls at once arrive), finish."""
    rid = request_id or str(uuid.uuid4())
    base = {
        "id": f"chatcmpl-{rid}",
        "object": "chat.completion.chunk",
        "created": 1788534650,
        "model": model,
    }
    usage = (
        usage
        if usage is not None
        else {
            "prompt_tokens": 11,
            "completion_tokens": 7,
            "total_tokens": 18,
            "prompt_tokens_details": {"cached_tokens": 3},
            "completion_tokens_details": {"reasoning_tokens": 2},
        }
    )
    events: list[str] = [": keep-alive\n\n"] * keepalives
    events.append(
        _chunk(
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": None, "reasoning_content": ""},
                        "finish_reason": None,
                    }
                ],
            }
        )
    )
    for text in thinking:
        events.append(
            _chunk(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"content": None, "reasoning_content": text},
                            "finish_reason": None,
                        }
                    ],
                }
            )
        )
    for text in answer:
        events.append(
            _chunk(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"content": text, "reasoning_content": None},
                            "finish_reason": None,
                        }
                    ],
                }
            )
        )
    for delta in tool_call_deltas(tool_calls):
        events.append(
            _chunk(
                {
                    **base,
                    "choices": [
                        {"index": 0, "delta": {"tool_calls": [delta]}, "finish_reason": None}
                    ],
                }
            )
        )
    if finish is not None:
        final: dict[str, Any] = {
            **base,
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": finish}],
        }
        if usage_placement == "finish":
            final["usage"] = usage
        events.append(_chunk(final))
        if usage_placement == "separate":
            events.append(_chunk({**base, "choices": [], "usage": usage}))
    if done:
        events.append("data: [DONE]\n\n")
    return sse_reply(events, delay, headers={"x-request-id": rid, **(headers or {})}, **kw)


def openai_completion(
    answer: str = "Hello world",
    thinking: str | None = None,
    *,
    usage: dict[str, Any] | None = None,
    finish: str = "stop",
    model: str = "deepseek-v4-pro",
    request_id: str | None = None,
    tool_calls: Sequence[StreamedCall] = (),
) -> Reply:
    rid = request_id or str(uuid.uuid4())
    message: dict[str, Any] = {"role": "assistant", "content": answer}
    if thinking is not None:
        message["reasoning_content"] = thinking
    if tool_calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": "".join(a)}}
            for i, n, a in tool_calls
        ]
    return json_reply(
        {
            "id": f"chatcmpl-{rid}",
            "object": "chat.completion",
            "created": 1788534396,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage or {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        },
        headers={"x-request-id": rid},
    )


def native_stream(
    answer: Iterable[str] = ("Hello", " world"),
    thinking: Iterable[str] = (),
    *,
    finish: str | None = "stop",
    input_tokens: int = 11,
    request_id: str | None = None,
    delay: float = 0.0,
    error: dict[str, Any] | None = None,
    error_status: int = 500,
    tool_calls: Sequence[StreamedCall] = (),
    **kw: Any,
) -> Reply:
    """A DashScope native SSE stream (incremental output), usage cumulative in every event;
    tool calls come in pieces inside ``message.tool_calls``, as in compatible mode."""
    rid = request_id or str(uuid.uuid4())
    events: list[str] = []
    out = reasoning = 0

    def event(
        n: int, content: str, reasoning_text: str, fin: str, calls: list[Any] | None = None
    ) -> str:
        message: dict[str, Any] = {
            "content": content,
            "reasoning_content": reasoning_text,
            "role": "assistant",
        }
        if calls:
            message["tool_calls"] = calls
        data = {
            "output": {"choices": [{"message": message, "finish_reason": fin}]},
            "usage": {
                "total_tokens": input_tokens + out,
                "input_tokens": input_tokens,
                "output_tokens": out,
                "output_tokens_details": {"reasoning_tokens": reasoning},
            },
            "request_id": rid,
        }
        return f"id:{n}\nevent:result\n:HTTP_STATUS/200\ndata:{json.dumps(data)}\n\n"

    n = 0
    for text in thinking:
        n += 1
        out += 1
        reasoning += 1
        events.append(event(n, "", text, "null"))
    for text in answer:
        n += 1
        out += 1
        events.append(event(n, text, "", "null"))
    for delta in tool_call_deltas(tool_calls):
        n += 1
        out += 1
        events.append(event(n, "", "", "null", [delta]))
    if error is not None:
        n += 1
        events.append(
            f"id:{n}\nevent:error\n:HTTP_STATUS/{error_status}\n"
            f"data:{json.dumps({**error, 'request_id': rid})}\n\n"
        )
    elif finish is not None:
        n += 1
        events.append(event(n, "", "", finish))
    return sse_reply(events, delay, headers={"x-request-id": rid}, **kw)


def native_completion(
    answer: str = "Hello world",
    thinking: str | None = None,
    finish: str = "stop",
    request_id: str | None = None,
) -> Reply:
    rid = request_id or str(uuid.uuid4())
    message: dict[str, Any] = {"content": answer, "role": "assistant"}
    if thinking is not None:
        message["reasoning_content"] = thinking
    return json_reply(
        {
            "output": {"choices": [{"finish_reason": finish, "message": message}]},
            "usage": {
                "input_tokens": 12,
                "output_tokens": 21,
                "total_tokens": 33,
                "output_tokens_details": {"reasoning_tokens": 20},
                "prompt_tokens_details": {"cached_tokens": 4},
            },
            "request_id": rid,
        },
        headers={"x-request-id": rid},
    )


def fim_completion(text: str = "    return a\n", finish: str = "stop") -> Reply:
    return json_reply(
        {
            "id": str(uuid.uuid4()),
            "object": "text_completion",
            "created": 1,
            "model": "deepseek-v4-pro",
            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": 15,
                "completion_tokens": 12,
                "total_tokens": 27,
                "prompt_cache_hit_tokens": 0,
                "prompt_cache_miss_tokens": 15,
            },
        }
    )


def last_user_text(body: Any) -> str:
    """The last user message of an OpenAI or DashScope native body, or a FIM prompt."""
    if not isinstance(body, dict):
        return ""
    messages = body.get("messages") or (body.get("input") or {}).get("messages") or []
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return str(body.get("prompt", ""))


def echo(request: Recorded) -> Reply:
    """Default behaviour: answer ``echo:<last user message>`` in the path's wire format."""
    body = request.json
    text = "echo:" + last_user_text(body)
    if request.path.endswith("/services/aigc/text-generation/generation"):
        if request.headers.get("x-dashscope-sse") == "enable":
            return native_stream(answer=[text])
        return native_completion(answer=text)
    if request.path.endswith("/chat/completions"):
        if isinstance(body, dict) and body.get("stream"):
            return openai_stream(answer=[text], usage_placement="finish")
        return openai_completion(answer=text)
    if request.path.endswith("/completions"):
        return fim_completion(text)
    return json_reply({"error": {"message": f"no route {request.path}"}}, 404)


def self_signed_context(directory: Path) -> Any:
    """A TLS server context with a certificate nobody trusts."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2020, 1, 1))
        .not_valid_after(datetime.datetime(2040, 1, 1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


# ------------------------------------------------------------------------------------------
# The server


class FakeServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, ssl_context: Any = None) -> None:
        self.ssl_context = ssl_context
        self.requests: list[Recorded] = []
        self.queue: deque[Reply] = deque()
        self.handler: Callable[[Recorded], Reply | None] = echo
        self.in_flight = 0
        self.max_in_flight = 0
        self.open_connections = 0
        self.closed_at: list[float] = []  # when each connection closed (either side)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(host, port), daemon=True)
        self._thread.start()
        self._ready.wait(10)

    # -- public API
    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self.queue.extend(replies)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def bodies(self) -> list[Any]:
        return [r.json for r in self.requests]

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    # -- internals
    def _run(self, host: str, port: int) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, host, port, backlog=1024, ssl=self.ssl_context)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        # Tidy up here rather than in the garbage collector: end the connections still open
        # and close the loop (a loop left to ``__del__`` can fail noisily once its sockets
        # have been collected).
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    def _next_reply(self, request: Recorded) -> Reply:
        with self._lock:
            if self.queue:
                return self.queue.popleft()
        return self.handler(request) or echo(request)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.open_connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, _, value = line.partition(":")
                        headers[key.strip().lower()] = value.strip()
                body = await self._read_body(reader, headers)
                with self._lock:
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                    record = Recorded(
                        method, path.split("?")[0], headers, body, time.monotonic(), self.in_flight
                    )
                    record.headers[":query"] = path.partition("?")[2]
                    self.requests.append(record)
                try:
                    reply = self._next_reply(record)
                    keep = await self._respond(reader, writer, reply, record)
                except ConnectionError:
                    if record.gone is None:  # noticed while writing rather than waiting
                        record.gone = time.monotonic()
                    raise
                finally:
                    with self._lock:
                        self.in_flight -= 1
                        record.ended = time.monotonic()
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            return  # the client went away, even in the middle of sending its request
        except asyncio.CancelledError:
            return  # the server is shutting down
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            with self._lock:
                self.open_connections -= 1
                self.closed_at.append(time.monotonic())

    async def _read_body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readline()).strip().split(b";")[0], 16)
                if size == 0:
                    await reader.readline()
                    return b"".join(parts)
                parts.append(await reader.readexactly(size))
                await reader.readline()
        return b""

    async def _wait(
        self,
        reader: asyncio.StreamReader,
        record: Recorded,
        seconds: float = 0.0,
        hold: threading.Event | None = None,
    ) -> None:
        """Sleep ``seconds`` (and until ``hold`` is set), but stop as soon as the client hangs
        up: a reply nobody waits for any more is not sent, and ``record.gone`` says when."""
        deadline = time.monotonic() + seconds
        while True:
            if reader.at_eof() or reader.exception() is not None:
                record.gone = time.monotonic()
                raise ClientGone
            left = deadline - time.monotonic()
            held = hold is not None and not hold.is_set()
            if left <= 0 and not held:
                return
            await asyncio.sleep(POLL if held else min(POLL, left))

    async def _respond(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        reply: Reply,
        record: Recorded,
    ) -> bool:
        if reply.delay or reply.hold is not None:
            await self._wait(reader, record, reply.delay, reply.hold)
        status_line = f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}\r\n"
        hdrs = dict(reply.headers)
        if reply.chunks is None:
            hdrs["content-length"] = str(len(reply.body))
        else:
            hdrs["transfer-encoding"] = "chunked"
        head = status_line + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        writer.write(head.encode("latin-1"))
        if reply.chunks is None:
            writer.write(reply.body)
            await writer.drain()
            return True
        for delay, data in reply.chunks:
            if delay:
                await writer.drain()
                await self._wait(reader, record, delay)
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()
        if reply.reset:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if reply.abort:
            writer.close()
            return False
        if reply.keep_open:
            await self._wait(reader, record, reply.keep_open)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


if __name__ == "__main__":
    srv = FakeServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(srv.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.close()
