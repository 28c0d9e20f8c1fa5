"""Helpers shared by the HTTP-layer tests (imported relatively by test_api_*.py; no tests here).

``Api`` builds requests byte-for-byte so tests control exactly what is signed: parameters in
the query, in the body, split across both, upper-case signatures, stale timestamps...
It also hosts an in-process server (uvicorn in a thread, port 0) for tests that need small
limits or an injected clock, which the subprocess fixtures cannot offer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn

from btx_tui.exchange.process.server import make_config

Pairs = list[tuple[str, str]] | dict[str, Any]

TRON_ADDRESS = "TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9"
"""A valid TRON withdrawal address (the wallet tests' default network for USDT)."""


def hmac_hex(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Api:
    """A deliberately low-level signed client for one base URL and one key."""

    def __init__(self, base_url: str, api_key: str | None = None, secret: str | None = None) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.secret = secret
        self.http = httpx.Client(base_url=base_url, timeout=10.0)

    def close(self) -> None:
        self.http.close()

    def raw(self, method: str, path: str, query: bytes = b"", body: bytes = b"",
            headers: dict[str, str] | None = None) -> httpx.Response:
        url = path + ("?" + query.decode("latin-1") if query else "")
        hdrs = dict(headers or {})
        if body and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        return self.http.request(method, url, content=body, headers=hdrs)

    def public(self, path: str, params: Pairs | None = None, method: str = "GET") -> httpx.Response:
        query = urlencode(list(_items(params))).encode() if params else b""
        return self.raw(method, path, query)

    def signed(
        self, method: str, path: str, params: Pairs | None = None, *,
        where: str = "query", split: int = 0, timestamp: int | None = None,
        recv_window: int | None = None, upper: bool = False, api_key: str | None = None,
        secret: str | None = None, signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send a signed request.

        ``where``: "query", "body", or "split" (first ``split`` pairs in the query, the rest,
        with timestamp and signature, in the body).
        """
        pairs = list(_items(params))
        if recv_window is not None:
            pairs.append(("recvWindow", str(recv_window)))
        pairs.append(("timestamp", str(now_ms() if timestamp is None else timestamp)))
        if where == "query":
            query, body = urlencode(pairs).encode(), b""
        elif where == "body":
            query, body = b"", urlencode(pairs).encode()
        else:
            query, body = urlencode(pairs[:split]).encode(), urlencode(pairs[split:]).encode()
        sig = signature or hmac_hex(secret or self.secret or "", query + body)
        if upper:
            sig = sig.upper()
        if body or where == "body":
            body = body + b"&signature=" + sig.encode()
        else:
            query = query + b"&signature=" + sig.encode()
        hdrs = {"X-MBX-APIKEY": (self.api_key or "") if api_key is None else api_key}
        hdrs.update(headers or {})
        return self.raw(method, path, query, body, hdrs)


def _items(params: Pairs | None) -> Iterator[tuple[str, str]]:
    if not params:
        return iter(())
    items = params.items() if isinstance(params, dict) else params
    return ((k, v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
             if isinstance(v, list) else str(v)) for k, v in items)


def assert_json_error(resp: httpx.Response, status: int, code: int, msg: str | None = None) -> dict:
    """The contract's error shape: JSON, both fields, no HTML, weight header present."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"] == "application/json"
    assert "x-mbx-used-weight-1m" in resp.headers
    body = resp.json()
    assert set(body) == {"code", "msg"}, body
    assert body["code"] == code, body
    if msg is not None:
        assert body["msg"] == msg, body
    assert "<html" not in resp.text.lower() and "Traceback" not in resp.text
    return body


class ThreadServer:
    """uvicorn serving ``app`` on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(make_config(app))
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def __enter__(self) -> "ThreadServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("in-process server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def raw_http(base_url: str, request: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes on a fresh connection; return (status, headers, body) of the reply.

    For what httpx refuses to send (e.g. URLs longer than 64 KiB).
    """
    host, port = base_url.rsplit("/", 1)[-1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body


@contextmanager
def api_for(base_url: str, key: dict | None = None) -> Iterator[Api]:
    api = Api(base_url, key and key["api_key"], key and key["api_secret"])
    try:
        yield api
    finally:
        api.close()

