"""The lean HTTP/1.1 transport against small scripted loopback servers.

Each server records every request it *received* (per connection), so the tests can prove
that a request was sent once, never twice, whatever broke.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from btx_tui.api import NetworkError
from btx_tui.api.rest import Op, RestSession, RetryPolicy
from btx_tui.api.transport import LeanTransport, Origin, Timeouts

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
FAST = Timeouts(connect=2.0, read=2.0, write=2.0, pool=2.0)

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


def get(server: Server, path: str = "/x", extra: bytes = b"") -> tuple[Origin, bytes]:
    origin = Origin.of("http", "127.0.0.1", server.port)
    return origin, b"GET " + path.encode() + b" HTTP/1.1\r\n" + origin.host_line + extra + b"\r\n"


async def test_keep_alive_reuses_one_connection() -> None:
    async with serve(always()) as server:
        transport = LeanTransport(timeout=FAST)
        for i in range(3):
            origin, data = get(server, f"/r{i}")
            response = await transport.request(origin, data)
            assert (response.status_code, response.content) == (200, b"{}")
            assert response.headers["content-type"] == "application/json"
        assert server.connections == 1 and transport.connections_opened == 1
        assert server.paths() == ["/r0", "/r1", "/r2"]
        assert transport.idle_connections == 1
        await transport.aclose()
        assert transport.open_connections == 0


async def test_chunked_body_is_reassembled() -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-MBX-USED-WEIGHT-1M: 7\r\n\r\n"
               b"5\r\n{\"a\":\r\n3\r\n\"b\"\r\n1\r\n}\r\n0\r\n\r\n")
    async with serve(always(chunked)) as server:
        transport = LeanTransport(timeout=FAST)
        origin, data = get(server)
        first = await transport.request(origin, data)
        second = await transport.request(origin, data)  # framing ended cleanly: reusable
        assert first.content == second.content == b'{"a":"b"}'
        assert first.headers["x-mbx-used-weight-1m"] == "7"
        assert server.connections == 1
        await transport.aclose()


async def test_connection_close_header_makes_the_connection_single_use() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
    async with serve(always(closing, "close")) as server:
        transport = LeanTransport(timeout=FAST)
        origin, data = get(server)
        for _ in range(2):
            assert (await transport.request(origin, data)).content == b"{}"
        assert server.connections == 2 and transport.connections_opened == 2
        assert transport.idle_connections == 0 and transport.stale_retries == 0
        await transport.aclose()


async def test_body_delimited_by_close() -> None:
    unframed = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 5000
    async with serve(always(unframed, "close")) as server:
        transport = LeanTransport(timeout=FAST)
        origin, data = get(server)
        assert (await transport.request(origin, data)).content == b"x" * 5000
        await transport.aclose()


async def test_truncated_body_is_a_protocol_error() -> None:
    truncated = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":"
    async with serve(always(truncated, "close")) as server:
        transport = LeanTransport(timeout=FAST)
        origin, data = get(server)
        with pytest.raises(httpx.RemoteProtocolError):
            await transport.request(origin, data)
        assert len(server.requests) == 1
        await transport.aclose()


async def test_garbage_answer_is_a_protocol_error() -> None:
    async with serve(always(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "keep")) as server:
        transport = LeanTransport(timeout=FAST)
        origin, data = get(server)
        with pytest.raises(httpx.RemoteProtocolError):
            await transport.request(origin, data)
        assert transport.open_connections == 0  # never reused
        await transport.aclose()


async def test_pooled_connection_closed_while_idle_is_replaced_before_sending() -> None:
    # The server closes the connection after answering (no Connection: close header), i.e.
    # the classic idle keep-alive close. The client notices before writing: new connection.
    async with serve(always(OK, "close")) as server:
        transport = LeanTransport(timeout=FAST)
        origin, data = get(server)
        await transport.request(origin, data)
        await asyncio.sleep(0.05)  # the EOF arrives while the connection sits in the pool
        await transport.request(origin, data)
        assert server.connections == 2 and len(server.requests) == 2
        await transport.aclose()


class ThreadServer:
    """A blocking server in a thread: it can close a connection while the event loop is
    blocked, i.e. before the client's loop could notice. Serves one request per connection;
    the first connection is closed (FIN or RST) when told to."""

    def __init__(self, first_close: str) -> None:
        self.first_close = first_close
        self.close_now, self.closed = threading.Event(), threading.Event()
        self.received: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for n in range(2):
            conn, _ = self.listener.accept()
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
        self.close_now.set()
        self.thread.join(5)
        self.listener.close()


async def test_stale_connection_whose_eof_is_not_yet_processed_is_not_used() -> None:
    # Idle for a while, then closed by the server (FIN) while the loop is busy: only the
    # readability check before sending can see the waiting EOF. It must pick a new connection.
    server = ThreadServer("fin")
    transport = LeanTransport(timeout=FAST)
    origin = Origin.of("http", "127.0.0.1", server.port)
    data = b"GET /s HTTP/1.1\r\n" + origin.host_line + b"\r\n"
    try:
        await transport.request(origin, data)
        conn = transport._idle[origin][0]
        conn.idle_since -= 1.0  # idle long enough for the readability check
        server.close_first_connection_now()
        assert not conn.closed  # the loop has not seen the EOF
        assert (await transport.request(origin, data)).status_code == 200
        assert len(server.received) == 2 and transport.connections_opened == 2
        assert transport.stale_retries == 0  # replaced before anything was written
    finally:
        await transport.aclose()
        await asyncio.to_thread(server.stop)  # let the loop close our side meanwhile


async def test_write_failure_on_a_pooled_connection_is_retried_once_on_a_fresh_one() -> None:
    # The server reset the pooled connection (RST) while the loop was busy, and the
    # connection was idle too briefly to be checked: the first send() fails, so provably
    # nothing left, and the request goes once on a fresh connection.
    server = ThreadServer("rst")
    transport = LeanTransport(timeout=FAST)
    origin = Origin.of("http", "127.0.0.1", server.port)
    data = b"GET /w HTTP/1.1\r\n" + origin.host_line + b"\r\n"
    try:
        await transport.request(origin, data)
        pooled = transport._idle[origin][0]
        server.close_first_connection_now()
        assert not pooled.closed
        assert (await transport.request(origin, data)).status_code == 200
        assert transport.stale_retries == 1 and transport.connections_opened == 2
        assert len(server.received) == 2  # the first request, then the retried one: once
        assert pooled.closed
    finally:
        await transport.aclose()
        await asyncio.to_thread(server.stop)  # let the loop close our side meanwhile


@pytest.mark.parametrize("action", ["close", "reset"])
async def test_never_resent_after_the_request_was_written(action: str) -> None:
    # First request answered (the connection is pooled), the second is read by the server,
    # which then drops the connection without answering: an error, and no second attempt.
    def script(conn: int, n: int, req: bytes) -> Reply:
        return (OK, "keep") if n == 1 else (b"", action)

    async with serve(script) as server:
        transport = LeanTransport(timeout=FAST)
        origin, data = get(server)
        await transport.request(origin, data)
        expected = httpx.RemoteProtocolError if action == "close" else (httpx.ReadError, httpx.RemoteProtocolError)
        with pytest.raises(expected):
            await transport.request(origin, data)
        await asyncio.sleep(0.05)
        assert len(server.requests) == 2 and server.connections == 1
        assert transport.stale_retries == 0
        await transport.aclose()


async def test_read_timeout() -> None:
    async with serve(always(b"", "hang")) as server:
        transport = LeanTransport(timeout=Timeouts(connect=2, read=0.2, write=2, pool=2))
        origin, data = get(server)
        with pytest.raises(httpx.ReadTimeout):
            await transport.request(origin, data)
        assert len(server.requests) == 1 and transport.open_connections == 0
        await transport.aclose()


async def test_read_timeout_per_request_is_shorter_than_a_previous_one() -> None:
    # The lazily re-armed timer must honour a shorter deadline than the one it was armed for.
    def script(conn: int, n: int, req: bytes) -> Reply:
        return (OK, "keep") if n == 1 else (b"", "hang")

    async with serve(script) as server:
        transport = LeanTransport(timeout=FAST)
        origin, data = get(server)
        await transport.request(origin, data, timeouts=Timeouts(read=30))
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(httpx.ReadTimeout):
            await transport.request(origin, data, timeouts=Timeouts(read=0.2))
        assert loop.time() - started < 5
        await transport.aclose()


async def test_connect_refused_and_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = LeanTransport(timeout=FAST)
    origin = Origin.of("http", "127.0.0.1", port)
    with pytest.raises(httpx.ConnectError):
        await transport.request(origin, b"GET / HTTP/1.1\r\n\r\n")
    assert transport.open_connections == 0

    async def slow_connect(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(10)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "create_connection", slow_connect)
    with pytest.raises(httpx.ConnectTimeout):
        await transport.request(origin, b"GET / HTTP/1.1\r\n\r\n",
                                timeouts=Timeouts(connect=0.1, read=1, write=1, pool=1))
    assert transport.open_connections == 0
    await transport.aclose()


async def test_pool_timeout_when_every_connection_is_busy() -> None:
    async with serve(always(b"", "hang")) as server:
        transport = LeanTransport(timeout=Timeouts(connect=2, read=5, write=2, pool=0.2), max_connections=1)
        origin, data = get(server)
        busy = asyncio.create_task(transport.request(origin, data))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await transport.request(origin, data)
        assert len(server.requests) == 1  # the waiting request never went out
        busy.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await busy
        assert transport.open_connections == 0  # a cancelled request's connection is closed
        await transport.aclose()


async def test_write_timeout_when_the_server_does_not_read() -> None:
    accepted: list[socket.socket] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    transport = LeanTransport(timeout=Timeouts(connect=2, read=2, write=0.3, pool=2))
    origin = Origin.of("http", "127.0.0.1", port)
    body = b"x" * (32 * 1024 * 1024)  # far more than the socket buffers hold
    data = b"POST /big HTTP/1.1\r\n" + origin.host_line + b"Content-Length: %d\r\n\r\n" % len(body) + body
    task = asyncio.create_task(transport.request(origin, data))
    while not accepted:
        await asyncio.sleep(0.01)
        with contextlib.suppress(BlockingIOError):
            accepted.append(listener.accept()[0])  # accepted, never read
    with pytest.raises(httpx.WriteTimeout):
        await task
    assert transport.open_connections == 0
    await transport.aclose()
    for s in accepted:
        s.close()
    listener.close()


async def test_head_answer_has_no_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    async with serve(always(head)) as server:
        transport = LeanTransport(timeout=FAST)
        origin = Origin.of("http", "127.0.0.1", server.port)
        response = await transport.request(origin, b"HEAD / HTTP/1.1\r\n" + origin.host_line + b"\r\n", head=True)
        assert response.status_code == 200 and response.content == b""
        await transport.aclose()


async def test_works_as_an_httpx_transport() -> None:
    # httpx.AsyncClient (and any wrapper) can drive it through handle_async_request.
    def echo(conn: int, n: int, req: bytes) -> Reply:
        return (b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n" % len(req) + req, "keep")

    async with serve(echo) as server:
        async with httpx.AsyncClient(transport=LeanTransport(), base_url=f"http://127.0.0.1:{server.port}") as client:
            response = await client.post("/p?a=1&b=%5B%22X%22%5D", content=b"hello", headers={"X-Test": "1"})
            assert response.status_code == 201 and response.http_version == "HTTP/1.1"
            sent = response.content
            assert sent.startswith(b"POST /p?a=1&b=%5B%22X%22%5D HTTP/1.1\r\n")
            assert f"host: 127.0.0.1:{server.port}\r\n".encode() in sent.lower()
            assert b"x-test: 1\r\n" in sent.lower() and b"content-length: 5\r\n" in sent.lower()
            assert sent.endswith(b"\r\n\r\nhello")
            response = await client.delete("/d")
            assert b"content-length: 0\r\n" in response.content.lower()
        assert server.connections == 1


# --- through RestSession: the error mapping that decides "maybe sent" --------------------------

NO_RETRY = RetryPolicy(attempts=1)


async def test_reset_after_reading_the_request_says_maybe_sent_and_is_not_resent() -> None:
    async with serve(always(b"", "reset")) as server:
        session = RestSession(f"http://127.0.0.1:{server.port}", None, None, timeout_s=2, retry=NO_RETRY)
        try:
            with pytest.raises(NetworkError) as err:
                await session.call("POST", "/api/v3/order", [("symbol", "BTCUSDT")], op=Op.ONCE)
            assert err.value.maybe_sent
            assert "may have been executed" in str(err.value)
            await asyncio.sleep(0.05)
            assert server.paths() == ["/api/v3/order?symbol=BTCUSDT"]  # exactly once
        finally:
            await session.aclose()


async def test_silence_after_sending_is_a_maybe_sent_timeout() -> None:
    async with serve(always(b"", "hang")) as server:
        session = RestSession(f"http://127.0.0.1:{server.port}", None, None, timeout_s=0.3, retry=NO_RETRY)
        try:
            with pytest.raises(NetworkError) as err:
                await session.call("POST", "/api/v3/order", op=Op.ONCE)
            assert err.value.maybe_sent and "0.3 s" in str(err.value)
            assert len(server.requests) == 1
        finally:
            await session.aclose()


async def test_refused_connection_is_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = RestSession(f"http://127.0.0.1:{port}", None, None, timeout_s=2, retry=NO_RETRY)
    try:
        with pytest.raises(NetworkError) as err:
            await session.call("POST", "/api/v3/order", op=Op.ONCE)
        assert not err.value.maybe_sent
    finally:
        await session.aclose()


async def test_session_sends_headers_and_reads_weight() -> None:
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-MBX-USED-WEIGHT-1M: 42\r\n"
              b"Content-Length: 16\r\n\r\n{\"price\":\"1.50\"}")
    async with serve(always(answer)) as server:
        session = RestSession(f"http://127.0.0.1:{server.port}/", "KEY", None, timeout_s=2, retry=NO_RETRY)
        try:
            reply = await session.call("GET", "/api/v3/avgPrice", [("symbol", "BTCUSDT")])
            assert reply.data == {"price": "1.50"}
            assert session.budget.snapshot().server_used == 42 and session.last_latency_ms is not None
            await session.call("DELETE", "/api/v3/order", [("orderId", "1")], op=Op.CANCEL)
        finally:
            await session.aclose()
        get_req, delete_req = (req for _, req in server.requests)
        assert get_req.startswith(b"GET /api/v3/avgPrice?symbol=BTCUSDT HTTP/1.1\r\n")
        assert f"Host: 127.0.0.1:{server.port}\r\n".encode() in get_req
        assert b"Accept: application/json\r\n" in get_req and b"X-MBX-APIKEY" not in get_req
        assert b"Content-Length: 0\r\n" in delete_req


async def test_concurrent_requests_share_a_bounded_pool() -> None:
    async with serve(always()) as server:
        transport = LeanTransport(timeout=FAST, max_connections=2, max_keepalive_connections=2)
        origin = Origin.of("http", "127.0.0.1", server.port)
        results = await asyncio.gather(*(
            transport.request(origin, b"GET /c%d HTTP/1.1\r\n" % i + origin.host_line + b"\r\n") for i in range(12)))
        assert [r.status_code for r in results] == [200] * 12
        assert server.connections <= 2 and transport.open_connections <= 2
        assert sorted(server.paths()) == sorted(f"/c{i}" for i in range(12))  # each exactly once
        await transport.aclose()
