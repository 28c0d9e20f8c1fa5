"""The WebSocket surface: the ASGI ``websocket`` scope of the paper exchange, by path.

* ``/ws``, ``/ws/<name>[/<name>...]``, ``/stream?streams=a/b`` - market streams
  (``market_socket.py``); ``/ws/<listenKey>`` adds that account's events;
* ``/ws-api/v3`` - the WebSocket API (``api_socket.py``).

Installed on the REST app (:func:`install`) so both share one host and port, one rate
limiter, one endpoint table and one listenKey registry.  The protocol is uvicorn's
``websockets`` implementation; this module only speaks ASGI messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qs

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.app import ExchangeApp
from btx_tui.exchange.ws.api_socket import ApiSession, LogonVerifier, hmac_logon
from btx_tui.exchange.ws.connection import CLOSE_GOING_AWAY, CLOSE_POLICY, Connection, WsSettings
from btx_tui.exchange.ws.hub import MarketHub
from btx_tui.exchange.ws.market_socket import MarketSocket
from btx_tui.exchange.ws.stream_faults import StreamFaults
from btx_tui.exchange.ws.user_data import UserDataHub

__all__ = ["WebSocketSurface", "install"]

log = logging.getLogger("btx_tui.exchange.ws")

API_PATH = "/ws-api/v3"
API_CONNECT_WEIGHT = 2


class WebSocketSurface:
    """ASGI callable for websocket scopes, sharing the REST app's limiter, routes and keys."""

    def __init__(self, app: ExchangeApp, settings: WsSettings | None = None,
                 verifier: LogonVerifier = hmac_logon) -> None:
        self._app = app
        self.settings = settings or WsSettings()
        self._verifier = verifier
        faults = StreamFaults(app.faults) if app.faults is not None else None
        self.hub = MarketHub(app.exchange, self.settings, faults)
        self.user_data = UserDataHub(app.exchange)
        self._sockets: dict[Connection, MarketSocket | None] = {}
        self.hub.every_second(self._housekeeping)

    @property
    def connections(self) -> int:
        return len(self._sockets)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        self.hub.ensure_running()
        path: str = scope["path"]
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        if path == API_PATH:
            await self._serve_api(ip, receive, send)
        elif path == "/ws" or path.startswith("/ws/"):
            names = [n for n in path[4:].split("/") if n]
            await self._serve_market(names, False, receive, send)
        elif path == "/stream":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            names = [n for v in query.get("streams", []) for n in v.split("/") if n]
            await self._serve_market(names, True, receive, send)
        else:
            await send({"type": "websocket.close", "code": CLOSE_POLICY})

    # ---- market streams -----------------------------------------------------------------
    async def _serve_market(self, names: list[str], combined: bool, receive: Callable, send: Callable) -> None:
        await send({"type": "websocket.accept"})
        conn = Connection(send, self.settings)
        socket = MarketSocket(conn, self.hub, combined)
        self._sockets[conn] = socket
        conn.start()
        listener = None
        account_id = None
        try:
            if len(names) == 1 and not combined:
                account_id = self._app.listen_keys.account_of(names[0], self._app.clock())
                if account_id is not None:
                    socket.listen_key = names[0]
                    listener = conn.send_json
                    self.user_data.add(account_id, listener)
            if socket.listen_key is None:
                socket.subscribe(names[: self.settings.max_streams], strict=False)
            await self._read(conn, receive, socket.handle_text, limit=True)
        finally:
            socket.close()
            if listener is not None and account_id is not None:
                self.user_data.remove(account_id, listener)
            del self._sockets[conn]
            await conn.finished()

    # ---- WebSocket API ------------------------------------------------------------------
    async def _serve_api(self, ip: str, receive: Callable, send: Callable) -> None:
        app = self._app
        now = app.clock()
        try:
            app.limiter.check_ban(ip, now)
            app.limiter.charge(ip, API_CONNECT_WEIGHT, now)
        except ApiError:
            await send({"type": "websocket.close", "code": CLOSE_POLICY})
            return
        await send({"type": "websocket.accept"})
        conn = Connection(send, self.settings)
        session = ApiSession(conn, app.exchange, app.limiter, app.routes, self.user_data, ip,
                             app.clock, self._verifier)
        self._sockets[conn] = None
        conn.start()
        try:
            await self._read(conn, receive, session.handle_text, limit=False)
        finally:
            session.close()
            del self._sockets[conn]
            await conn.finished()

    # ---- shared -------------------------------------------------------------------------
    async def _read(self, conn: Connection, receive: Callable, handle: Callable[[str], None],
                    *, limit: bool) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                conn.abort()
                return
            if conn.closed:
                continue  # closing: the peer's close frame will end the loop
            if limit and not conn.count_incoming():
                continue
            text = message.get("text")
            if text is None:
                raw = message.get("bytes") or b""
                text = raw.decode("utf-8", "replace")
            try:
                handle(text)
            except Exception:  # a bug: answer nothing, keep serving
                log.exception("websocket message handling failed")

    def _housekeeping(self) -> None:
        """Once a second: connection life, listenKey expiry."""
        now = self._app.clock()
        for conn, socket in list(self._sockets.items()):
            if conn.closed:
                continue
            if conn.expired():
                conn.close(CLOSE_GOING_AWAY, "Connection lifetime reached")
            elif socket is not None and socket.listen_key is not None \
                    and self._app.listen_keys.account_of(socket.listen_key, now) is None:
                conn.send_json({"e": "listenKeyExpired", "E": now, "listenKey": socket.listen_key})
                conn.close(1000, "listenKey expired")

    async def stop(self) -> None:
        for conn in list(self._sockets):
            conn.close(CLOSE_GOING_AWAY, "Server shutting down")
        await self.hub.stop()
        self.user_data.close()


def install(app: ExchangeApp, settings: WsSettings | None = None,
            verifier: LogonVerifier = hmac_logon) -> WebSocketSurface:
    """Serve the WebSocket surface on ``app``'s host and port; returns it."""
    surface = WebSocketSurface(app, settings, verifier)
    app.websocket = surface
    return surface

