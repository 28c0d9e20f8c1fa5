"""Orders over the WebSocket API (``order.place`` / ``order.cancel`` on ``/ws-api/v3``),
keeping the REST path's three outcomes.

Why: a request on an open WebSocket skips the HTTP request/response framing and connection
pool; ``bench/streams.py`` measures whether that is worth it. The three outcomes are kept by
plugging into :func:`btx_tui.api.orders.submit_order` as an :class:`~btx_tui.api.orders.OrderVenue`:
``order.place`` is sent exactly once; a refusal carries the REST error code and becomes the
same typed error (→ REJECTED); a connection lost after the request was written is a
:class:`~btx_tui.api.errors.NetworkError` with ``maybe_sent=True`` (→ UNKNOWN), which
``submit_order`` resolves by querying the client order id over REST — never by resending.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ..errors import NetworkError, error_from_response
from ..models_trading import MyTrade, Order
from ..orders import OrderJournal, OrderRequest, PlacementResult, ResolvePolicy, submit_order
from .ws_connect import http_to_ws, loads, open_socket

if TYPE_CHECKING:
    from ..client import BtxClient
    from ..signing import Signer

__all__ = ["WsOrderVenue"]


class WsOrderVenue:
    """Places and cancels over one WebSocket API connection; queries go to REST.

    Use as an async context manager (connects on enter), then :meth:`place_order` (three
    outcomes, resolution over REST) or :meth:`cancel_order`.
    """

    def __init__(self, client: BtxClient, api_key: str, signer: Signer, *, ws_url: str | None = None,
                 timeout_s: float = 10.0) -> None:
        self._client = client
        self._api_key = api_key
        self._signer = signer
        self._url = (ws_url or http_to_ws(client.base_url)).rstrip("/") + "/ws-api/v3"
        self._timeout_s = timeout_s
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._reader is not None and not self._reader.done()

    async def connect(self) -> None:
        self._ws = await open_socket(self._url)
        self._reader = asyncio.create_task(self._read(self._ws))

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        self._ws = self._reader = None

    async def __aenter__(self) -> WsOrderVenue:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                message = loads(raw)
                fut = self._pending.get(message.get("id")) if isinstance(message, dict) else None
                if fut is not None and not fut.done():
                    fut.set_result(message)
        except ConnectionClosed:
            pass
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(NetworkError("WebSocket API connection lost after the request was sent",
                                                   maybe_sent=True, short="stream lost"))

    async def _call(self, method: str, pairs: list[tuple[str, str]]) -> Any:
        if not self.connected or self._ws is None:
            raise NetworkError("WebSocket API not connected", maybe_sent=False, short="stream down")
        p: dict[str, str] = dict(pairs)
        p["apiKey"] = self._api_key
        p["recvWindow"] = str(self._client.recv_window_ms)
        p["timestamp"] = str(self._client.rest.clock.now_ms())
        p["signature"] = unquote(self._signer.sign("&".join(f"{k}={p[k]}" for k in sorted(p))))
        ident = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = fut
        try:
            try:
                await self._ws.send(json.dumps({"id": ident, "method": method, "params": p}))
            except ConnectionClosed:
                raise NetworkError("WebSocket API closed while sending", maybe_sent=True,
                                   short="stream lost") from None
            try:
                async with asyncio.timeout(self._timeout_s):
                    message = await fut
            except TimeoutError:
                raise NetworkError("no answer from the WebSocket API", maybe_sent=True, short="timeout") from None
        finally:
            self._pending.pop(ident, None)
        if message.get("status") == 200:
            return message["result"]
        body = json.dumps(message.get("error") or {}).encode()
        raise error_from_response(int(message.get("status", 500)), body, {})

    # ---- OrderVenue --------------------------------------------------------------------------
    @property
    def recv_window_ms(self) -> int:
        return self._client.recv_window_ms

    async def post_order(self, request: OrderRequest) -> Order:
        """One ``order.place`` — no retry, no resolution. Use :meth:`place_order`."""
        return Order.model_validate(await self._call("order.place", request.to_params()))

    async def get_order(self, symbol: str, *, order_id: int | None = None,
                        orig_client_order_id: str | None = None) -> Order:
        return await self._client.get_order(symbol, order_id=order_id, orig_client_order_id=orig_client_order_id)

    async def my_trades(self, symbol: str, *, order_id: int | None = None, start_time: int | None = None,
                        end_time: int | None = None, from_id: int | None = None,
                        limit: int | None = None) -> tuple[MyTrade, ...]:
        return await self._client.my_trades(symbol, order_id=order_id, start_time=start_time,
                                            end_time=end_time, from_id=from_id, limit=limit)

    # ---- the public calls ----------------------------------------------------------------------
    async def place_order(self, request: OrderRequest, *, journal: OrderJournal | None = None,
                          resolver: ResolvePolicy | None = None) -> PlacementResult:
        """ACCEPTED / REJECTED / UNKNOWN→resolved over REST, exactly as ``BtxClient.place_order``."""
        return await submit_order(self, request, journal=journal, resolver=resolver)

    async def cancel_order(self, symbol: str, *, order_id: int | None = None,
                           orig_client_order_id: str | None = None) -> Order:
        """``order.cancel``; a lost connection → query the order over REST (as it stands)."""
        if order_id is None and orig_client_order_id is None:
            raise ValueError("give order_id or orig_client_order_id")
        pairs = [("symbol", symbol)]
        if order_id is not None:
            pairs.append(("orderId", str(order_id)))
        if orig_client_order_id is not None:
            pairs.append(("origClientOrderId", orig_client_order_id))
        try:
            return Order.model_validate(await self._call("order.cancel", pairs))
        except NetworkError as exc:
            if not exc.maybe_sent:
                raise
            return await self.get_order(symbol, order_id=order_id, orig_client_order_id=orig_client_order_id)


