"""The HTTP layer (httpx on aiohttp, :mod:`btx_tui.api.http`) against scripted loopback servers.

Each server records every request it *received* (per connection), so the tests can prove
that a request was sent once, never twice, whatever broke, and that the session says
"maybe sent" exactly when it may have been.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from btx_tui.api import NetworkError
from btx_tui.api.http import maybe_sent
from btx_tui.api.rest import Op, RestSession, RetryPolicy

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
NO_RETRY = RetryPolicy(attempts=1)
QUICK_RETRY = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.01)

# What the server does after reading a request: bytes to write, then an action.
Reply = tuple[bytes, str]  # action: "keep" | "close" | "reset" | "hang"


@dataclass
class Server:
    """asyncio loopback server; ``script(conn_no, req_no, request) -> (bytes, action)``."""

    script: Callable[[int, int, bytes], Reply]
    requests: list[tuple[int, bytes]] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn_no = self.connections
        self.writers.append(writer)
        with contextlib.suppress(asyncio.CancelledError):
            await self._serve(conn_no, reader, writer)

    async def _serve(self, conn_no: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            req_no = 0
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                req_no += 1
                self.requests.append((conn_no, head + body))
                data, action = self.script(conn_no, req_no, head + body)
                if data:
                    writer.write(data)
                    await writer.drain()
                if action == "close":
                    writer.close()
                    return
                if action == "reset":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                if action == "hang":
                    await asyncio.sleep(3600)
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def paths(self) -> list[str]:
        return [req.split(b" ", 2)[1].decode() for _, req in self.requests]


@contextlib.asynccontextmanager
async def serve(script: Callable[[int, int, bytes], Reply]) -> AsyncIterator[Server]:
    server = Server(script)
    srv = await asyncio.start_server(server._handle, "127.0.0.1", 0)
    server.port = srv.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        srv.close()
        for w in server.writers:
            w.close()


def always(data: bytes = OK, action: str = "keep") -> Callable[[int, int, bytes], Reply]:
    return lambda conn, n, req: (data, action)


def session(port: int, *, timeout_s: float = 2.0, retry: RetryPolicy = NO_RETRY,
            transport: httpx.AsyncBaseTransport | None = None, api_key: str | None = None) -> RestSession:
    return RestSession(f"http://127.0.0.1:{port}/", api_key, None, timeout_s=timeout_s, retry=retry,
                       transport=transport)


async def test_keep_alive_reuses_one_connection() -> None:
    async with serve(always()) as server:
        s = session(server.port)
        try:
            for i in range(3):
                assert (await s.call("GET", f"/r{i}")).data == {}
        finally:
            await s.aclose()
        assert server.connections == 1
        assert server.paths() == ["/r0", "/r1", "/r2"]


async def test_chunked_body_is_reassembled() -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-MBX-USED-WEIGHT-1M: 7\r\n\r\n"
               b"5\r\n{\"a\":\r\n3\r\n\"b\"\r\n1\r\n}\r\n0\r\n\r\n")
    async with serve(always(chunked)) as server:
        s = session(server.port)
        try:
            first = await s.call("GET", "/x")
            assert s.budget.snapshot().server_used == 7
            second = await s.call("GET", "/x")  # framing ended cleanly: reusable
        finally:
            await s.aclose()
        assert first.data == second.data == {"a": "b"}
        assert server.connections == 1


async def test_gzip_is_asked_for_and_decoded() -> None:
    import gzip

    body = gzip.compress(b'{"price":"1.50"}')
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    async with serve(always(answer)) as server:
        s = session(server.port)
        try:
            assert (await s.call("GET", "/api/v3/avgPrice")).data == {"price": "1.50"}
        finally:
            await s.aclose()
        assert b"accept-encoding: gzip" in server.requests[0][1].lower()


async def test_connection_close_header_makes_the_connection_single_use() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
    async with serve(always(closing, "close")) as server:
        s = session(server.port)
        try:
            for _ in range(2):
                assert (await s.call("POST", "/o", op=Op.ONCE)).data == {}
        finally:
            await s.aclose()
        assert server.connections == 2 and len(server.requests) == 2  # each sent once


async def test_body_delimited_by_close() -> None:
    unframed = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n\"" + b"x" * 5000 + b"\""
    async with serve(always(unframed, "close")) as server:
        s = session(server.port)
        try:
            assert (await s.call("GET", "/x")).data == "x" * 5000
        finally:
            await s.aclose()


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":",  # truncated body
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n",  # not HTTP at all
], ids=["truncated", "garbage"])
async def test_truncated_or_garbage_answer_is_maybe_sent_and_not_resent(answer: bytes) -> None:
    async with serve(always(answer, "close")) as server:
        s = session(server.port, retry=QUICK_RETRY)
        try:
            with pytest.raises(NetworkError) as err:
                await s.call("POST", "/api/v3/order", op=Op.ONCE)
        finally:
            await s.aclose()
        assert err.value.maybe_sent
        await asyncio.sleep(0.05)
        assert len(server.requests) == 1


async def test_pooled_connection_closed_while_idle_is_replaced() -> None:
    # The server closes the connection after answering (no Connection: close header), i.e.
    # the classic idle keep-alive close. Once the loop has seen the EOF, the next request
    # (an order, never retried) takes a new connection and succeeds.
    async with serve(always(OK, "close")) as server:
        s = session(server.port)
        try:
            await s.call("POST", "/o", op=Op.ONCE)
            await asyncio.sleep(0.05)  # the EOF arrives while the connection sits in the pool
            assert (await s.call("POST", "/o", op=Op.ONCE)).data == {}
        finally:
            await s.aclose()
        assert server.connections == 2 and len(server.requests) == 2


class ThreadServer:
    """A blocking server in a thread: it can close a connection while the event loop is
    blocked, i.e. before the client's loop could notice. Serves one request per connection;
    the first connection is closed (FIN or RST) when told to."""

    def __init__(self, first_close: str) -> None:
        self.first_close = first_close
        self.close_now, self.closed = threading.Event(), threading.Event()
        self.received: list[bytes] = []
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)  # accept() wakes up to see stop() (closing would not wake it)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _accept(self) -> socket.socket | None:
        """The next connection, or None once stop() was called (no second connection came)."""
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            return conn
        return None

    def _run(self) -> None:
        for n in range(2):
            conn = self._accept()
            if conn is None:
                return
            self.received.append(conn.recv(65536))
            conn.sendall(OK)
            if n == 0:
                self.close_now.wait(5)
                if self.first_close == "rst":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                self.closed.set()
            else:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                conn.close()

    def close_first_connection_now(self) -> None:
        self.close_now.set()
        assert self.closed.wait(5)  # blocking on purpose: the event loop cannot run meanwhile

    def stop(self) -> None:
        self.stopping.set()
        self.close_now.set()
        self.thread.join(5)
        self.listener.close()


async def test_stale_connection_closed_behind_the_loops_back_is_never_a_double_order() -> None:
    # Closed by the server (FIN) while the loop is busy: the client cannot know before
    # writing. If the order meets the dead connection it must be reported "maybe sent"
    # (then resolved by query), never "not sent", and it is NEVER sent twice.
    server = ThreadServer("fin")
    s = session(server.port)
    try:
        await s.call("POST", "/first", op=Op.ONCE)
        server.close_first_connection_now()
        try:
            await s.call("POST", "/order", op=Op.ONCE)
        except NetworkError as exc:
            assert exc.maybe_sent
    finally:
        await s.aclose()
        await asyncio.to_thread(server.stop)  # let the loop close our side meanwhile
    assert len([r for r in server.received if r.startswith(b"POST /order")]) <= 1


async def test_read_on_a_reset_pooled_connection_is_retried_on_a_fresh_one() -> None:
    # The server reset the pooled connection (RST) while the loop was busy. A read is
    # idempotent, so it goes again on a fresh connection and succeeds.
    server = ThreadServer("rst")
    s = session(server.port, retry=QUICK_RETRY)
    try:
        await s.call("GET", "/first")
        server.close_first_connection_now()
        assert (await s.call("GET", "/w")).data == {}
    finally:
        await s.aclose()
        await asyncio.to_thread(server.stop)
    assert len(server.received) == 2 and server.received[1].startswith(b"GET /w")


@pytest.mark.parametrize("action", ["close", "reset"])
async def test_never_resent_after_the_request_was_written(action: str) -> None:
    # First request answered (the connection is pooled), the second is read by the server,
    # which then drops the connection without answering: maybe sent, and no second attempt.
    def script(conn: int, n: int, req: bytes) -> Reply:
        return (OK, "keep") if n == 1 else (b"", action)

    async with serve(script) as server:
        s = session(server.port, retry=QUICK_RETRY)
        try:
            await s.call("POST", "/api/v3/order", op=Op.ONCE)
            with pytest.raises(NetworkError) as err:
                await s.call("POST", "/api/v3/order", op=Op.ONCE)
        finally:
            await s.aclose()
        assert err.value.maybe_sent and "may have been executed" in str(err.value)
        await asyncio.sleep(0.05)
        assert len(server.requests) == 2 and server.connections == 1


async def test_connect_refused_and_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = session(port)
    try:
        with pytest.raises(NetworkError) as err:
            await refused.call("POST", "/api/v3/order", op=Op.ONCE)
        assert not err.value.maybe_sent and "is it running" in str(err.value)
    finally:
        await refused.aclose()

    async def slow_connect(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(10)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "sock_connect", slow_connect)  # where aiohttp's connect waits
    slow = session(port, timeout_s=0.2)
    try:
        with pytest.raises(NetworkError) as err:
            await slow.call("POST", "/api/v3/order", op=Op.ONCE)
        assert not err.value.maybe_sent and "within 0.2 s" in str(err.value)
    finally:
        await slow.aclose()


async def test_pool_timeout_when_every_connection_is_busy() -> None:
    async with serve(always(b"", "hang")) as server:
        one = AiohttpTransport(limits=httpx.Limits(max_connections=1))
        s = session(server.port, timeout_s=0.3, transport=one)
        try:
            # Holds the only connection for longer than the order waits for one.
            slow = {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}
            url = f"http://127.0.0.1:{server.port}/busy"
            busy = asyncio.create_task(s.http.send(httpx.Request("GET", url, extensions={"timeout": slow})))
            await asyncio.sleep(0.05)
            with pytest.raises(NetworkError) as err:
                await s.call("POST", "/api/v3/order", op=Op.ONCE)
            assert not err.value.maybe_sent  # it waited for a connection and never went out
            assert server.paths() == ["/busy"]
            busy.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await busy
        finally:
            await s.aclose()


def test_maybe_sent_reads_aiohttps_own_exception() -> None:
    # httpx-aiohttp maps every aiohttp.ClientConnectionError to httpx.ConnectTimeout, a reset
    # after sending included: the chained aiohttp exception decides.
    def mapped(cause: BaseException) -> httpx.HTTPError:
        exc = httpx.ConnectTimeout(str(cause))
        exc.__cause__ = cause
        return exc

    assert maybe_sent(mapped(aiohttp.ServerDisconnectedError()))
    assert maybe_sent(mapped(aiohttp.ClientOSError(104, "Connection reset by peer")))
    assert maybe_sent(mapped(aiohttp.SocketTimeoutError("read")))
    assert not maybe_sent(mapped(aiohttp.ConnectionTimeoutError("connect")))
    assert not maybe_sent(httpx.ConnectError("refused"))
    assert not maybe_sent(httpx.PoolTimeout("pool"))
    assert maybe_sent(httpx.ReadError("reset"))
    assert maybe_sent(httpx.RemoteProtocolError("closed"))


# --- through RestSession: the error mapping that decides "maybe sent" --------------------------


async def test_reset_after_reading_the_request_says_maybe_sent_and_is_not_resent() -> None:
    async with serve(always(b"", "reset")) as server:
        s = session(server.port)
        try:
            with pytest.raises(NetworkError) as err:
                await s.call("POST", "/api/v3/order", [("symbol", "BTCUSDT")], op=Op.ONCE)
            assert err.value.maybe_sent
            assert "may have been executed" in str(err.value)
            await asyncio.sleep(0.05)
            assert server.paths() == ["/api/v3/order?symbol=BTCUSDT"]  # exactly once
        finally:
            await s.aclose()


async def test_silence_after_sending_is_a_maybe_sent_timeout() -> None:
    async with serve(always(b"", "hang")) as server:
        s = session(server.port, timeout_s=0.3)
        try:
            with pytest.raises(NetworkError) as err:
                await s.call("POST", "/api/v3/order", op=Op.ONCE)
            assert err.value.maybe_sent and "0.3 s" in str(err.value)
            assert len(server.requests) == 1
        finally:
            await s.aclose()


async def test_session_sends_headers_and_reads_weight() -> None:
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-MBX-USED-WEIGHT-1M: 42\r\n"
              b"Content-Length: 16\r\n\r\n{\"price\":\"1.50\"}")
    async with serve(always(answer)) as server:
        s = session(server.port, api_key="KEY")
        try:
            reply = await s.call("GET", "/api/v3/avgPrice", [("symbol", "BTCUSDT")])
            assert reply.data == {"price": "1.50"}
            assert s.budget.snapshot().server_used == 42 and s.last_latency_ms is not None
            await s.call("DELETE", "/api/v3/order", [("orderId", "1")], op=Op.CANCEL)
        finally:
            await s.aclose()
        get_req, delete_req = (req.lower() for _, req in server.requests)
        assert get_req.startswith(b"get /api/v3/avgprice?symbol=btcusdt http/1.1\r\n")
        assert f"host: 127.0.0.1:{server.port}\r\n".encode() in get_req
        assert b"accept: application/json\r\n" in get_req and b"x-mbx-apikey" not in get_req  # unsigned
        assert delete_req.startswith(b"delete /api/v3/order?orderid=1 http/1.1\r\n")


async def test_concurrent_requests_share_a_bounded_pool() -> None:
    async with serve(always()) as server:
        two = AiohttpTransport(limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
        s = session(server.port, transport=two)
        try:
            replies = await asyncio.gather(*(s.call("GET", f"/c{i}") for i in range(12)))
        finally:
            await s.aclose()
        assert [r.data for r in replies] == [{}] * 12
        assert server.connections <= 2
        assert sorted(server.paths()) == sorted(f"/c{i}" for i in range(12))  # each exactly once
