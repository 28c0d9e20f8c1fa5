"""Helpers for the WebSocket tests (``test_ws_*.py``; no tests here): an in-process exchange with the
WebSocket surface installed, served by the server's own uvicorn config on a loopback port,
and a small JSON client on the ``websockets`` library.

In-process (uvicorn in a thread, as ``api_helpers.ThreadServer``) because these tests
shorten the surface's intervals and move its clock, which the subprocess fixtures cannot.
The exchange runs on the server thread only: tests change it over REST or the WS API.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import websockets

from btx_tui.exchange.http.app import ExchangeApp, create_app
from btx_tui.exchange.http.faults import FaultInjector
from btx_tui.exchange.http.ratelimit import Limits
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.ws.connection import WsSettings
from btx_tui.exchange.ws.surface import WebSocketSurface, install

from .api_helpers import Api, ThreadServer, hmac_hex

D = Decimal


class OffsetClock:
    """The real clock plus an offset the test moves (listenKey expiry without waiting)."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


@dataclass
class WsExchange:
    server: ThreadServer
    exchange: Exchange
    app: ExchangeApp
    surface: WebSocketSurface
    clock: OffsetClock

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def ws_url(self) -> str:
        return "ws://127.0.0.1:%d" % self.server.port

    def key(self, name: str = "full") -> tuple[str, str]:
        for k in self.exchange.accounts.demo_keys():
            if k["name"] == name:
                return k["api_key"], k["api_secret"]
        raise KeyError(name)

    def api(self, name: str = "full") -> Api:
        key, secret = self.key(name)
        return Api(self.base_url, key, secret)


@contextmanager
def ws_exchange(tmp_path: Path, settings: WsSettings | None = None, limits: Limits | None = None,
                faults: FaultInjector | None = None) -> Iterator[WsExchange]:
    clock = OffsetClock()
    ex = Exchange.open(tmp_path / "ws-exchange", clock=clock)
    app = create_app(ex, limits=limits, clock=clock, faults=faults)
    surface = install(app, settings)
    try:
        with ThreadServer(app) as server:
            yield WsExchange(server, ex, app, surface, clock)
    finally:
        ex.close()


class Client:
    """A JSON WebSocket client: send requests, read messages with a timeout."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> "Client":
        return cls(await websockets.connect(url, open_timeout=10, **kwargs))

    async def send(self, doc: Any) -> None:
        await self.conn.send(doc if isinstance(doc, str) else json.dumps(doc))

    async def recv(self, timeout: float = 10.0) -> Any:
        return json.loads(await asyncio.wait_for(self.conn.recv(), timeout))

    async def recv_until(self, predicate: Any, timeout: float = 10.0) -> Any:
        """The first message ``predicate`` accepts (others are skipped)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError("no matching message")
            message = await self.recv(left)
            if predicate(message):
                return message

    async def request(self, doc: dict, timeout: float = 10.0) -> Any:
        await self.send(doc)
        return await self.recv_until(lambda m: isinstance(m, dict) and m.get("id") == doc.get("id"), timeout)

    async def close(self) -> None:
        await self.conn.close()


def signed_params(key: str, secret: str, params: dict[str, Any]) -> dict[str, Any]:
    """WebSocket API signing: every param but the signature, sorted, ``k=v`` joined by ``&``."""
    out = {**params, "apiKey": key, "timestamp": time.time_ns() // 1_000_000}
    payload = "&".join(f"{k}={_text(out[k])}" for k in sorted(out))
    out["signature"] = hmac_hex(secret, payload.encode())
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
