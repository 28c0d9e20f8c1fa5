"""One WebSocket connection for the account's own events — order changes and balances —
turned into typed updates, with every gap filled from REST so no order event is lost.

Why: polling open orders every 5 s shows a fill up to 5 s late and spends weight; the
WebSocket API pushes each ``executionReport`` as it happens. Preferred path: the WebSocket API
(``/ws-api/v3``, ``userDataStream.subscribe.signature``). Fallback when the exchange lacks that
method: the older listenKey flow (``POST /api/v3/userDataStream``, events on
``/ws/<listenKey>``, keep-alive ``PUT`` every 30 min). ``eventStreamTerminated`` /
``listenKeyExpired`` → subscribe again. After every (re)subscribe the consumer gets an
:class:`AccountResync` (open orders, account, the ``myTrades`` after the last trade id seen
for each followed symbol) so whatever happened while no event could arrive is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ..errors import BtxError
from ..models import Frozen
from ..models_trading import Account, Balance, MyTrade, Order
from .stream_health import HealthSnapshot, StreamHealth, StreamMode
from .ws_connect import RECONNECT_BACKOFF, StreamsNotServed, http_to_ws, loads, open_socket

if TYPE_CHECKING:
    from ..client import BtxClient
    from ..signing import Signer

__all__ = ["AccountEvent", "AccountEvents", "AccountResync", "BalanceDelta", "BalancesUpdate", "ListStatusUpdate",
           "OrderUpdate"]

log = logging.getLogger("btx_tui.api.streams")

KEEPALIVE_S = 30 * 60


class OrderUpdate(Frozen):
    """One ``executionReport``: an order changed (``execution_type`` says how)."""

    event_time: int
    symbol: str
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    orig_qty: Decimal
    price: Decimal
    stop_price: Decimal = Decimal(0)
    orig_client_order_id: str = ""
    execution_type: str
    status: str
    reject_reason: str = "NONE"
    order_id: int
    last_qty: Decimal
    cum_qty: Decimal
    last_price: Decimal
    commission: Decimal
    commission_asset: str | None = None
    transact_time: int
    trade_id: int
    is_maker: bool = False
    order_time: int | None = None
    cum_quote: Decimal
    last_quote: Decimal | None = None
    order_list_id: int = -1
    is_working: bool = True

    @classmethod
    def from_event(cls, e: dict[str, Any]) -> OrderUpdate:
        return cls(event_time=e["E"], symbol=e["s"], client_order_id=e["c"], side=e["S"], type=e["o"],
                   time_in_force=e["f"], orig_qty=e["q"], price=e["p"], stop_price=e.get("P", "0"),
                   orig_client_order_id=e.get("C") or "", execution_type=e["x"], status=e["X"],
                   reject_reason=e.get("r", "NONE"), order_id=e["i"], last_qty=e["l"], cum_qty=e["z"],
                   last_price=e["L"], commission=e["n"], commission_asset=e.get("N"),
                   transact_time=e["T"], trade_id=e["t"], is_maker=bool(e.get("m", False)),
                   order_time=e.get("O"), cum_quote=e["Z"], last_quote=e.get("Y"),
                   order_list_id=e.get("g", -1), is_working=bool(e.get("w", True)))


class ListStatusUpdate(Frozen):
    """``listStatus``: an order list (OCO/OTO/OTOCO) changed; its legs by id."""

    event_time: int
    symbol: str
    order_list_id: int
    contingency_type: str
    list_status_type: str
    list_order_status: str
    list_client_order_id: str
    transaction_time: int
    order_ids: tuple[int, ...]

    @classmethod
    def from_event(cls, e: dict[str, Any]) -> ListStatusUpdate:
        return cls(event_time=e["E"], symbol=e["s"], order_list_id=e["g"], contingency_type=e["c"],
                   list_status_type=e["l"], list_order_status=e["L"], list_client_order_id=e["C"],
                   transaction_time=e["T"], order_ids=tuple(int(o["i"]) for o in e.get("O", ())))


class BalancesUpdate(Frozen):
    """``outboundAccountPosition``: the balances one event changed (absolute values)."""

    event_time: int
    update_time: int
    balances: tuple[Balance, ...]


class BalanceDelta(Frozen):
    """``balanceUpdate``: a deposit/withdrawal moved ``asset`` by ``delta``."""

    event_time: int
    asset: str
    delta: Decimal
    clear_time: int


@dataclass(frozen=True, slots=True)
class AccountResync:
    """REST state after a (re)subscribe: replaces what the consumer holds for open orders and
    balances; ``trades`` are the fills after the last trade id seen (per followed symbol)."""

    open_orders: tuple[Order, ...]
    account: Account
    trades: tuple[MyTrade, ...]


AccountEvent = OrderUpdate | ListStatusUpdate | BalancesUpdate | BalanceDelta | AccountResync


class AccountEvents:
    """The account-event connection.

    Args:
        client: REST client (gap fills; listenKey calls; its ``base_url`` gives the ws URL).
        api_key: the key (sent in the subscribe request / ``X-MBX-APIKEY``).
        signer: signs ``userDataStream.subscribe.signature`` (HMAC/Ed25519/RSA signer of
            :mod:`btx_tui.api.signing`).
        on_event: called on the event loop with each :data:`AccountEvent`.
        symbols: the symbols whose ``myTrades`` are gap-filled (:meth:`follow_symbols`).
        force_listen_key: skip the WebSocket API (tests of the fallback).
        silence_s: no message for this long → ``ping`` the WebSocket API (account events are
            rare: silence alone means nothing);
        probe_timeout_s: no answer to that ping → stale: reconnect and resync.
    """

    def __init__(self, client: BtxClient, api_key: str, signer: Signer,
                 on_event: Callable[[AccountEvent], None], *, symbols: Iterable[str] = (),
                 ws_url: str | None = None, on_health: Callable[[HealthSnapshot], None] | None = None,
                 force_listen_key: bool = False, silence_s: float = 30.0, probe_timeout_s: float = 5.0,
                 backoff: Callable[[int], float] = RECONNECT_BACKOFF.delay) -> None:
        self._client = client
        self._api_key = api_key
        self._signer = signer
        self._on_event = on_event
        self._on_health = on_health
        self._base = (ws_url or http_to_ws(client.base_url)).rstrip("/")
        self._symbols: set[str] = {s.upper() for s in symbols}
        self._use_ws_api = not force_listen_key
        self._backoff = backoff
        self._silence_s = silence_s
        self._probe_timeout_s = probe_timeout_s
        self._health = StreamHealth("account")
        self._last_trade: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self.via: str | None = None
        """``"ws-api"`` or ``"listen-key"`` once subscribed."""
        self.unsupported_reason: str | None = None

    def follow_symbols(self, symbols: Iterable[str]) -> None:
        self._symbols = {s.upper() for s in symbols}

    def health(self) -> HealthSnapshot:
        return self._health.snapshot()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="account-events")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> AccountEvents:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _mode(self, mode: StreamMode, reason: str | None) -> None:
        if (self._health.mode, self._health.reason) != (mode, reason):
            self._health.set_mode(mode, reason)
            if self._on_health is not None:
                try:
                    self._on_health(self._health.snapshot())
                except Exception:
                    log.exception("on_health callback failed")

    # ---- connection loop --------------------------------------------------------------------
    async def _run(self) -> None:
        attempt = 0
        connected_once = False
        while True:
            try:
                if self._use_ws_api:
                    ws = await open_socket(self._base + "/ws-api/v3")
                    key = None
                else:
                    key = await self._listen_key()
                    ws = await open_socket(f"{self._base}/ws/{key}")
            except StreamsNotServed as exc:
                if self._use_ws_api:
                    self._use_ws_api = False  # try the listenKey flow at once
                    continue
                self.unsupported_reason = str(exc)
                self._mode(StreamMode.POLLING, str(exc))
                attempt += 1
                self._use_ws_api = True
                await asyncio.sleep(max(self._backoff(attempt), 5.0))
                continue
            except (OSError, TimeoutError, asyncio.TimeoutError, BtxError) as exc:
                self._mode(StreamMode.POLLING, f"stream down: {type(exc).__name__}")
                attempt += 1
                await asyncio.sleep(self._backoff(attempt))
                continue
            if connected_once:
                self._health.reconnects += 1
            connected_once = True
            try:
                reason = await self._session(ws, key)
            except ConnectionClosed:
                reason = "closed"
            finally:
                await ws.close()
            if reason == "unsupported":
                self._use_ws_api = False
                continue
            attempt = attempt + 1 if reason.startswith("refused") else 1
            self._mode(StreamMode.POLLING, f"stream {reason}: reconnecting")
            await asyncio.sleep(self._backoff(attempt))

    async def _session(self, ws: ClientConnection, listen_key: str | None) -> str:
        keepalive = None
        if listen_key is None:
            outcome = await self._subscribe(ws)
            if outcome != "ok":
                return outcome
            self.via = "ws-api"
        else:
            self.via = "listen-key"
            keepalive = asyncio.create_task(self._keepalive(listen_key))
        self._mode(StreamMode.STREAM, None)
        await self._resync()
        probe: tuple[int, float] | None = None  # (id, deadline) of an unanswered ping
        try:
            while True:
                wait = self._silence_s if probe is None else max(0.0, probe[1] - time.monotonic())
                try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow aclose()'s cancel
                    async with asyncio.timeout(wait):
                        raw = await ws.recv()
                except TimeoutError:
                    if probe is not None:
                        self._mode(StreamMode.POLLING, "stale: no answer to ping")
                        return "stale"
                    if listen_key is not None:
                        continue  # a listenKey socket takes no requests; websockets pings it
                    ident = next(self._ids)
                    await ws.send(json.dumps({"id": ident, "method": "ping"}))
                    probe = (ident, time.monotonic() + self._probe_timeout_s)
                    continue
                except ConnectionClosed:
                    return "closed"
                message = loads(raw)
                if probe is not None and isinstance(message, dict) and message.get("id") == probe[0]:
                    probe = None
                    continue
                event = message.get("event") if isinstance(message, dict) and "subscriptionId" in message else message
                if not isinstance(event, dict) or "e" not in event:
                    continue
                kind = event["e"]
                if kind in ("eventStreamTerminated", "listenKeyExpired"):
                    if listen_key is not None:
                        return "expired"
                    outcome = await self._subscribe(ws)
                    if outcome != "ok":
                        return outcome
                    await self._resync()
                    continue
                self._handle(event)
        finally:
            if keepalive is not None:
                keepalive.cancel()

    async def _subscribe(self, ws: ClientConnection) -> str:
        """``userDataStream.subscribe.signature`` → ``"ok"``, ``"unsupported"`` (the exchange
        lacks the method: use the listenKey flow) or ``"refused: <msg>"`` (e.g. a bad key)."""
        params = {"apiKey": self._api_key, "timestamp": self._client.rest.clock.now_ms()}
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
        params["signature"] = unquote(self._signer.sign(payload))
        ident = next(self._ids)
        await ws.send(json.dumps({"id": ident, "method": "userDataStream.subscribe.signature", "params": params}))
        while True:
            message = loads(await ws.recv())
            if isinstance(message, dict) and message.get("id") == ident:
                break
        if message.get("status") == 200:
            return "ok"
        error = message.get("error") or {}
        log.warning("userDataStream.subscribe.signature refused: %s", error.get("msg"))
        if error.get("code") in (-1000, -1100, -1102, -1103, -1121) or message.get("status") == 404:
            return "unsupported"
        return f"refused: {error.get('msg') or 'no message'}"

    async def _listen_key(self) -> str:
        http = self._client.rest.http
        response = await http.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": self._api_key})
        if response.status_code == 404:
            raise StreamsNotServed("listenKey flow not served: HTTP 404")
        if response.status_code != 200:
            raise OSError(f"listenKey: HTTP {response.status_code}")
        return str(response.json()["listenKey"])

    async def _keepalive(self, key: str) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            with contextlib.suppress(Exception):
                await self._client.rest.http.put("/api/v3/userDataStream", params={"listenKey": key},
                                                 headers={"X-MBX-APIKEY": self._api_key})

    # ---- events -------------------------------------------------------------------------------
    def _handle(self, event: dict[str, Any]) -> None:
        kind = event["e"]
        self._health.event(event.get("E"))
        if kind == "executionReport":
            update = OrderUpdate.from_event(event)
            if update.trade_id >= 0:
                last = self._last_trade.get(update.symbol, -1)
                self._last_trade[update.symbol] = max(last, update.trade_id)
            self._emit(update)
        elif kind == "outboundAccountPosition":
            balances = tuple(Balance(asset=b["a"], free=b["f"], locked=b["l"]) for b in event.get("B", ()))
            self._emit(BalancesUpdate(event_time=event["E"], update_time=event.get("u", event["E"]),
                                      balances=balances))
        elif kind == "listStatus":
            self._emit(ListStatusUpdate.from_event(event))
        elif kind == "balanceUpdate":
            self._emit(BalanceDelta(event_time=event["E"], asset=event["a"], delta=event["d"],
                                    clear_time=event.get("T", event["E"])))

    async def _resync(self) -> None:
        """REST after a (re)subscribe: open orders, balances, fills since the last trade seen."""
        attempt = 0
        while True:
            try:
                open_orders = await self._client.open_orders()
                account = await self._client.account()
                trades: list[MyTrade] = []
                for symbol in sorted(self._symbols):
                    last = self._last_trade.get(symbol)
                    found = await self._client.my_trades(symbol, from_id=None if last is None else last + 1,
                                                         limit=1000)
                    trades.extend(found)
                    if found:
                        self._last_trade[symbol] = max(last or -1, max(t.id for t in found))
                break
            except BtxError as exc:
                attempt += 1
                log.warning("account resync failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(self._backoff(attempt))
        self._emit(AccountResync(tuple(open_orders), account, tuple(trades)))

    def _emit(self, event: AccountEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("on_event callback failed")


