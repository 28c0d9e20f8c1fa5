"""A lean HTTP/1.1 keep-alive transport: asyncio protocol + httptools (uvicorn's C parser).

Why not httpx's own transport: ``httpx.AsyncClient`` + httpcore + h11 cost ~0.7 ms of CPU per
bare GET on loopback (docs/benchmarks.md, "Client"), more than everything else the client does
per call.  This transport writes the request bytes directly and parses the answer with
httptools: a few tens of µs per request.  It still *is* an ``httpx.AsyncBaseTransport``
(:meth:`LeanTransport.handle_async_request`), so tests can wrap it to inject faults, and it
raises the exception types httpx would, so :mod:`.rest` maps errors the same way:

===================================================  =============================  ==========
what happened                                        raised                         maybe sent
===================================================  =============================  ==========
no free connection within ``pool``                   ``httpx.PoolTimeout``          no
TCP/TLS connect refused / failed                     ``httpx.ConnectError``         no
connect slower than ``connect``                      ``httpx.ConnectTimeout``       no
a fresh connection closed before the request left    ``httpx.ConnectError``         no
request bytes not drained within ``write``           ``httpx.WriteTimeout``         yes
connection broke while draining the request          ``httpx.WriteError``           yes
no complete answer within ``read``                   ``httpx.ReadTimeout``          yes
connection reset while waiting for the answer        ``httpx.ReadError``            yes
closed without (complete) answer, garbage framing    ``httpx.RemoteProtocolError``  yes
===================================================  =============================  ==========

**Never resent after sending.**  A pooled connection the server closed while it sat idle is
retried once on a fresh connection — but only when nothing of the request can have reached
the server: the connection was seen closed (or readable: an EOF waiting) before writing, or
the very first ``send()`` failed.  Once the request bytes are handed to the kernel, any
failure is reported (maybe sent) and never retried here: a duplicated order must be
impossible.  Idle connections are dropped after ``keepalive_expiry`` (4 s by default: below
uvicorn's 5 s keep-alive timeout, so we do not race the server closing them).

Response bodies are framed by Content-Length, chunked encoding or connection close; a HEAD
answer has no body; ``Connection: close`` (or HTTP/1.0) makes the connection single-use.
TLS uses ``ssl.create_default_context()`` for ``https`` origins.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httptools
import httpx

__all__ = ["LeanTransport", "Origin", "RawResponse", "Timeouts"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds (None = wait forever) for each phase, like ``httpx.Timeout``."""

    connect: float | None = 5.0
    read: float | None = 10.0
    write: float | None = 10.0
    pool: float | None = 10.0

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, Any], default: Timeouts) -> Timeouts:
        """From an ``httpx.Request``'s ``extensions["timeout"]`` dict (what httpx sends)."""
        raw = extensions.get("timeout")
        if not raw:
            return default
        return cls(raw.get("connect", default.connect), raw.get("read", default.read),
                   raw.get("write", default.write), raw.get("pool", default.pool))

    def as_extension(self) -> dict[str, float | None]:
        return {"connect": self.connect, "read": self.read, "write": self.write, "pool": self.pool}


@dataclass(frozen=True, slots=True)
class Origin:
    """scheme://host:port, pre-parsed once, with its ``Host`` header line ready to send."""

    scheme: str
    host: str
    port: int
    host_line: bytes

    @classmethod
    def of(cls, scheme: str, host: str, port: int | None) -> Origin:
        scheme = scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
        if not host:
            raise httpx.UnsupportedProtocol("Request URL has no host.")
        default = _DEFAULT_PORTS[scheme]
        port = default if port is None else port
        shown = f"[{host}]" if ":" in host else host
        authority = shown if port == default else f"{shown}:{port}"
        return cls(scheme, host, port, f"Host: {authority}\r\n".encode("ascii"))

    @classmethod
    def from_url(cls, url: str | httpx.URL) -> Origin:
        u = url if isinstance(url, httpx.URL) else httpx.URL(url)
        return cls.of(u.scheme, u.host, u.port)


class RawResponse:
    """A fully read response: status, lower-case header dict, body bytes."""

    __slots__ = ("content", "headers", "raw_headers", "reason_phrase", "status_code")

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], content: bytes,
                 reason_phrase: bytes = b"") -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.content = content
        self.reason_phrase = reason_phrase
        headers: dict[str, str] = {}
        for name, value in raw_headers:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        #: Lower-case names (what :func:`.errors.error_from_response` and the budget expect).
        self.headers = headers

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}] {len(self.content)} bytes>"


class _NotSent(Exception):
    """Internal: the request provably did not leave (connection closed / first send failed)."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, answers parsed as they arrive."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.reused = False
        self._fd = -1
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._paused = False
        self._reset()

    def _reset(self) -> None:
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._reason = b""
        self._status = 0
        self._got_bytes = False
        self._headers_done = False
        self._framed = False  # Content-Length or chunked: EOF before the end is an error
        self._head = False
        self._keep_alive = False

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        # high=0: pause_writing() tells us whenever a request did not leave in one send().
        transport.set_write_buffer_limits(high=0)  # type: ignore[attr-defined]
        sock = transport.get_extra_info("socket")
        self._fd = sock.fileno() if sock is not None else -1

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            # Bytes nobody asked for (or after a timeout): this connection is unusable.
            self.close()
            return
        self._got_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("Unexpected protocol upgrade from the server"))
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"Invalid HTTP response: {exc}"))

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(httpx.WriteError(str(exc or "Connection closed while sending")))
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._headers_done and not self._framed:
            self._keep_alive = False
            waiter.set_result(None)  # body delimited by connection close: complete
        elif isinstance(exc, OSError):
            waiter.set_exception(httpx.ReadError(str(exc) or type(exc).__name__))
        elif not self._got_bytes:
            waiter.set_exception(httpx.RemoteProtocolError("Server disconnected without sending a response."))
        else:
            waiter.set_exception(httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"))

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # --- httptools callbacks ----------------------------------------------------------------

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        lower = name.lower()
        if lower == b"content-length" or (lower == b"transfer-encoding" and b"chunked" in value.lower()):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        if 100 <= self._status < 200:
            return  # interim answer (e.g. 100 Continue): the real one follows
        self._headers_done = True
        if self._head:
            # No body follows a HEAD answer, whatever Content-Length says; the parser would
            # wait for one, so complete now and never reuse this connection.
            self._keep_alive = False
            self._complete()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._headers_done:  # the end of an interim 1xx answer
            self._headers.clear()
            self._reason = b""
            self._framed = False
            return
        self._keep_alive = self._parser.should_keep_alive()
        self._complete()

    # --- request ----------------------------------------------------------------------------

    def _complete(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def looks_alive(self) -> bool:
        """False if the server closed this idle connection (EOF or stray bytes are waiting)."""
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        if self._fd < 0:
            return True
        try:
            readable, _, _ = select.select((self._fd,), (), (), 0)
        except (OSError, ValueError):
            return False
        return not readable

    async def roundtrip(self, data: bytes, head: bool, timeouts: Timeouts,
                        loop: asyncio.AbstractEventLoop) -> RawResponse:
        """Send ``data`` and wait for the whole answer.

        Raises ``_NotSent`` only if no byte of ``data`` left; after that, httpx errors.
        """
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            raise _NotSent
        self._reset()
        self._head = head
        self._waiter = waiter = loop.create_future()
        transport.write(data)
        if transport.is_closing():
            # The first send() failed (reset/broken pipe): asyncio closed the transport
            # inside write() and nothing was sent.
            self._waiter = None
            raise _NotSent
        if self._paused:  # part of the request is still in our buffer
            self._drain = loop.create_future()
            await self._wait(self._drain, timeouts.write, httpx.WriteTimeout, loop)
        await self._wait(waiter, timeouts.read, httpx.ReadTimeout, loop)
        self._waiter = None
        if not self._keep_alive:
            self.close()
        return RawResponse(self._status, self._headers, b"".join(self._body), self._reason)

    async def _wait(self, fut: asyncio.Future[None], timeout: float | None,
                    error: type[httpx.TimeoutException], loop: asyncio.AbstractEventLoop) -> None:
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, _expire, fut, error)
        try:
            await fut
        except BaseException:
            # Timeout, broken connection or cancellation: the answer's state is unknown.
            self.close()
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _expire(fut: asyncio.Future[None], error: type[httpx.TimeoutException]) -> None:
    if not fut.done():
        fut.set_exception(error("Timed out"))


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive pool per origin; see the module docstring.

    Args:
        timeout: defaults for requests that carry no ``extensions["timeout"]``.
        max_connections: open connections at most (all origins); more requests wait (pool).
        max_keepalive_connections: idle connections kept per origin.
        keepalive_expiry: an idle connection older than this is closed, not reused.
        ssl_context: for https; ``ssl.create_default_context()`` when None.
    """

    def __init__(self, *, timeout: Timeouts | None = None, max_connections: int = 10,
                 max_keepalive_connections: int = 5, keepalive_expiry: float = 4.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeouts = timeout or Timeouts()
        self.max_connections = max_connections
        self.max_keepalive_connections = max_keepalive_connections
        self.keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}
        self._origins: dict[tuple[str, str, int | None], Origin] = {}
        self._conns: set[_Connection] = set()  # open or being opened, idle or in use
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._closed = False
        #: Requests whose bytes were handed to a connection (successful or not).
        self.requests_sent = 0
        #: Pooled connections found dead before sending and replaced by a fresh one.
        self.stale_retries = 0
        #: Connections opened so far.
        self.connections_opened = 0

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    @property
    def idle_connections(self) -> int:
        return sum(len(c) for c in self._idle.values())

    # --- pool -------------------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _drop(self, conn: _Connection) -> None:
        conn.close()
        if conn in self._conns:
            self._conns.discard(conn)
            self._wake_one()

    async def _open(self, origin: Origin, timeouts: Timeouts, loop: asyncio.AbstractEventLoop) -> _Connection:
        """A new connection (the caller made sure there is room in the pool)."""
        conn = _Connection(origin)
        self._conns.add(conn)
        tls = origin.scheme == "https"
        try:
            coro = loop.create_connection(lambda: conn, origin.host, origin.port,
                                          ssl=self._ssl() if tls else None,
                                          server_hostname=origin.host if tls else None)
            await asyncio.wait_for(coro, timeouts.connect)
        except BaseException as exc:
            self._drop(conn)
            if isinstance(exc, TimeoutError):
                raise httpx.ConnectTimeout(f"Timed out connecting to {origin.host}:{origin.port}") from None
            if isinstance(exc, OSError | ssl.SSLError):
                raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
            raise
        self.connections_opened += 1
        return conn

    def _take_idle(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            conn = idle.pop()  # most recently used first: the least likely to be stale
            if now - conn.idle_since < self.keepalive_expiry and conn.looks_alive():
                conn.reused = True
                return conn
            self._drop(conn)
        return None

    def _evict_other_idle(self) -> bool:
        for conns in self._idle.values():
            if conns:
                self._drop(conns.pop(0))
                return True
        return False

    async def _acquire(self, origin: Origin, timeouts: Timeouts,
                       loop: asyncio.AbstractEventLoop) -> _Connection:
        if self._closed:
            raise RuntimeError("the transport is closed")
        deadline = None if timeouts.pool is None else loop.time() + timeouts.pool
        while True:
            conn = self._take_idle(origin)
            if conn is not None:
                return conn
            if len(self._conns) < self.max_connections or self._evict_other_idle():
                return await self._open(origin, timeouts, loop)
            waiter = loop.create_future()
            self._waiting.append(waiter)
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                raise httpx.PoolTimeout("No free connection to the exchange in time") from None
            finally:
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
            if self._closed:
                raise RuntimeError("the transport is closed")

    def _release(self, conn: _Connection) -> None:
        if conn.closed or self._closed:
            self._drop(conn)
            return
        idle = self._idle.get(conn.origin)
        if idle is None:
            idle = self._idle[conn.origin] = []
        if len(idle) >= self.max_keepalive_connections:
            self._drop(conn)
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)
        if self._waiting:
            self._wake_one()

    # --- requests ---------------------------------------------------------------------------

    async def request(self, origin: Origin, data: bytes, *, head: bool = False,
                      timeouts: Timeouts | None = None) -> RawResponse:
        """Send pre-encoded request bytes (request line, headers incl. Host, body) to ``origin``."""
        loop = asyncio.get_running_loop()
        timeouts = timeouts or self.timeouts
        conn = await self._acquire(origin, timeouts, loop)
        try:
            response = await conn.roundtrip(data, head, timeouts, loop)
        except _NotSent:
            self._drop(conn)
            if not conn.reused:
                raise httpx.ConnectError("The connection closed before the request could be sent") from None
            # A pooled connection the server had closed, and provably nothing of the request
            # left: send it once more on a FRESH connection (a pooled one could be stale too).
            self.stale_retries += 1
            conn = await self._open(origin, timeouts, loop)
            try:
                response = await conn.roundtrip(data, head, timeouts, loop)
            except _NotSent:
                self._drop(conn)
                raise httpx.ConnectError("The connection closed before the request could be sent") from None
            except BaseException:
                self.requests_sent += 1
                self._drop(conn)
                raise
        except BaseException:
            self.requests_sent += 1
            self._drop(conn)  # after sending, a failure leaves the connection unusable
            raise
        self.requests_sent += 1
        self._release(conn)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The ``httpx.AsyncBaseTransport`` entry point (used when wrapped, e.g. by tests)."""
        url = request.url
        key = (url.scheme, url.host, url.port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = Origin.of(url.scheme, url.host, url.port)
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
        method = request.method
        lines = [method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
        has_host = False
        for name, value in request.headers.raw:
            lower = name.lower()
            if lower in (b"content-length", b"transfer-encoding"):
                continue  # the body goes whole, framed by our own Content-Length
            has_host = has_host or lower == b"host"
            lines += [name, b": ", value, b"\r\n"]
        if not has_host:
            lines.append(origin.host_line)
        if body or method not in ("GET", "HEAD"):
            lines.append(b"Content-Length: %d\r\n" % len(body))
        lines += [b"\r\n", body]
        timeouts = Timeouts.from_extensions(request.extensions, self.timeouts)
        raw = await self.request(origin, b"".join(lines), head=method == "HEAD", timeouts=timeouts)
        return httpx.Response(raw.status_code, headers=raw.raw_headers, content=raw.content,
                              request=request,
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": raw.reason_phrase})

    async def aclose(self) -> None:
        """Close every connection (in-flight requests fail); later requests raise."""
        self._closed = True
        for conn in list(self._conns):
            self._drop(conn)
        self._idle.clear()
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the transport is closed"))
