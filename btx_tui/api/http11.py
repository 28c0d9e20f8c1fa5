"""One HTTP/1.1 connection for :mod:`.transport`: an ``asyncio.Protocol`` fed to httptools.

Why a protocol and not asyncio streams: the answer is parsed in ``data_received`` as bytes
arrive (no ``StreamReader`` buffer copy, no future per read), and one future per request is
completed by httptools' ``on_message_complete``. Also here: the small value types the
transport and :mod:`.rest` share (:class:`Timeouts`, :class:`Origin`, :class:`RawResponse`).
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httptools
import httpx

__all__ = ["Connection", "NotSent", "Origin", "RawResponse", "Timeouts"]

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


class NotSent(Exception):
    """Internal: the request provably did not leave (connection closed / first send failed)."""


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, answers parsed as they arrive.

    The read timeout uses one lazily re-armed timer per connection rather than a timer per
    request: a request only records its deadline; the timer, when it fires, either expires
    the request or re-arms itself for the current deadline.
    """

    def __init__(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> None:
        self.origin = origin
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.reused = False
        self._fd = -1
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self.paused = False
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
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
        self._cancel_timer()
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
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
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

    def looks_alive(self, idle_s: float) -> bool:
        """False if the server closed this idle connection (EOF or stray bytes are waiting).

        The event loop notices an EOF by itself on its next poll; the ``select`` only covers
        one that arrived since, which matters after a longer idle period (the server's
        keep-alive timer), so it is skipped for connections idle less than 0.25 s.
        """
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        if idle_s < 0.25 or self._fd < 0:
            return True
        try:
            readable, _, _ = select.select((self._fd,), (), (), 0)
        except (OSError, ValueError):
            return False
        return not readable

    def send(self, data: bytes, head: bool, read_timeout: float | None) -> asyncio.Future[None]:
        """Write ``data``; return the future completed by the whole answer.

        Raises ``NotSent`` only if no byte of ``data`` left.
        """
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            raise NotSent
        self._reset()
        self._head = head
        self._waiter = waiter = self.loop.create_future()
        transport.write(data)
        if transport.is_closing():
            # The first send() failed (reset/broken pipe): asyncio closed the transport
            # inside write() and nothing was sent.
            self._waiter = None
            raise NotSent
        if read_timeout is not None:
            self._arm(self.loop.time() + read_timeout)
        return waiter

    def response(self) -> RawResponse:
        """The answer, once the future from :meth:`send` is done; closes if not keep-alive."""
        self._waiter = None
        self._deadline = None
        if not self._keep_alive:
            self.close()
        body = self._body
        return RawResponse(self._status, self._headers, body[0] if len(body) == 1 else b"".join(body),
                           self._reason)

    async def drain(self, timeout: float | None) -> None:
        """Wait until the request has left our buffer (only when a send() was partial)."""
        self._drain = drain = self.loop.create_future()
        timer = None if timeout is None else self.loop.call_later(timeout, _expire, drain, httpx.WriteTimeout)
        try:
            await drain
        finally:
            if timer is not None:
                timer.cancel()

    def _arm(self, deadline: float) -> None:
        self._deadline = deadline
        if self._timer is None or deadline < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        waiter, deadline = self._waiter, self._deadline
        if waiter is None or waiter.done() or deadline is None:
            return
        if self.loop.time() >= deadline:
            waiter.set_exception(httpx.ReadTimeout("Timed out waiting for the answer"))
            self.close()
        else:
            self._timer_at = deadline
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        self.closed = True
        self._cancel_timer()
        if self.transport is not None:
            self.transport.close()


def _expire(fut: asyncio.Future[None], error: type[httpx.TimeoutException]) -> None:
    if not fut.done():
        fut.set_exception(error("Timed out"))
