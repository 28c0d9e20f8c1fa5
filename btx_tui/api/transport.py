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
import ssl
import time
from collections import deque

import httpx

from .http11 import Connection, NotSent, Origin, RawResponse, Timeouts

__all__ = ["LeanTransport", "Origin", "RawResponse", "Timeouts"]


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
        self._idle: dict[Origin, list[Connection]] = {}
        self._origins: dict[tuple[str, str, int | None], Origin] = {}
        self._conns: set[Connection] = set()  # open or being opened, idle or in use
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

    def _drop(self, conn: Connection) -> None:
        conn.close()
        if conn in self._conns:
            self._conns.discard(conn)
            self._wake_one()

    async def _open(self, origin: Origin, timeouts: Timeouts, loop: asyncio.AbstractEventLoop) -> Connection:
        """A new connection (the caller made sure there is room in the pool)."""
        conn = Connection(origin, loop)
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

    def _take_idle(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            conn = idle.pop()  # most recently used first: the least likely to be stale
            idle_s = now - conn.idle_since
            if idle_s < self.keepalive_expiry and conn.looks_alive(idle_s):
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
                       loop: asyncio.AbstractEventLoop) -> Connection:
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

    def _release(self, conn: Connection) -> None:
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
        timeouts = timeouts or self.timeouts
        conn = None if self._closed else self._take_idle(origin)
        if conn is None:
            conn = await self._acquire(origin, timeouts, asyncio.get_running_loop())
        try:
            try:
                waiter = conn.send(data, head, timeouts.read)
            except NotSent:
                self._drop(conn)
                if not conn.reused:
                    raise httpx.ConnectError("The connection closed before the request could be sent") from None
                # A pooled connection the server had closed, and provably nothing of the
                # request left: send it once more on a FRESH connection (a pooled one could
                # be stale too). Never after sending.
                self.stale_retries += 1
                conn = await self._open(origin, timeouts, conn.loop)
                try:
                    waiter = conn.send(data, head, timeouts.read)
                except NotSent:
                    self._drop(conn)
                    raise httpx.ConnectError("The connection closed before the request could be sent") from None
            self.requests_sent += 1
            if conn.paused:  # part of the request is still in our buffer
                await conn.drain(timeouts.write)
            await waiter
        except BaseException:
            # Timeout, broken connection, garbage or cancellation: the state of this
            # connection is unknown, so it is closed (never reused).
            self._drop(conn)
            raise
        response = conn.response()
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
