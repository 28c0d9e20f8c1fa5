"""``BtxClient``: one typed async method per endpoint of the BTX v3 contract.

Each method returns frozen pydantic models with Decimal money (never dicts, never floats) or
raises a :class:`~btx_tui.api.errors.BtxError`. Signing, the clock offset, the weight budget
and retries live in :class:`~btx_tui.api.rest.RestSession`; order placement with its three
outcomes lives in :mod:`btx_tui.api.orders`.

Usage::

    async with BtxClient("http://127.0.0.1:8080", key, SecretStr(secret)) as client:
        book = await client.depth("BTCUSDT", limit=20)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError

from . import orders as _orders
from .clock import ServerClock
from .errors import BadResponse, UnknownOrder
from .http import HttpSettings
from .models import (
    AggTrade,
    AvgPrice,
    BookTicker,
    Depth,
    ExchangeInfo,
    Kline,
    Pong,
    RateLimit,
    ServerTime,
    Ticker24h,
    TickerPrice,
    Trade,
)
from .models_trading import (
    Account,
    ApiRestrictions,
    CoinConfig,
    MyTrade,
    Order,
    Withdrawal,
    WithdrawApplyResult,
)
from .ratebudget import BudgetSnapshot, RateBudget
from .rest import Op, RestSession, RetryPolicy
from .models_account import (
    AccountCommission,
    AccountStatus,
    AssetDetail,
    Deposit,
    DepositAddress,
    MiniTicker,
    OrderCommissionRates,
    PreventedMatch,
    SystemStatus,
    TradeFee,
)
from .signing import Signer, encode_symbols, params

__all__ = ["BtxClient"]

M = TypeVar("M", bound=BaseModel)


def _one(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadResponse(f"The exchange's answer does not have the expected shape "
                          f"({model.__name__}: {exc.error_count()} problem(s))") from None


#: One ``TypeAdapter(tuple[model, ...])`` per model: a list validates in one pydantic-core
#: call instead of one Python-level ``model_validate`` per item (~1.5 µs each).
_LIST_ADAPTERS: dict[type[BaseModel], TypeAdapter[Any]] = {}


def _many(model: type[M], data: Any) -> tuple[M, ...]:
    if not isinstance(data, list):
        raise BadResponse(f"Expected a list of {model.__name__} from the exchange")
    adapter = _LIST_ADAPTERS.get(model)
    if adapter is None:
        adapter = _LIST_ADAPTERS[model] = TypeAdapter(tuple[model, ...])  # type: ignore[valid-type]
    try:
        return adapter.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise BadResponse(f"The exchange's answer does not have the expected shape "
                          f"({model.__name__}: {exc.error_count()} problem(s))") from None


def _symbols_param(symbols: Iterable[str] | None) -> tuple[str, str] | None:
    if symbols is None:
        return None
    return ("symbols", encode_symbols(symbols))


class BtxClient:
    """An async client for one exchange connection.

    Args:
        base_url: ``http(s)://host:port`` of the exchange.
        api_key: the key sent as ``X-MBX-APIKEY``; None for public data only.
        api_secret: the HMAC signing secret (a ``SecretStr``, never logged or shown), or a
            :class:`~btx_tui.api.signing.Signer` for an Ed25519/RSA key
            (:func:`~btx_tui.api.signing.load_private_key`).
        recv_window_ms: ``recvWindow`` sent with signed requests.
        timeout_s: per-request timeout (connect is capped at 5 s).
        transport: an httpx transport replacing the default (aiohttp's) — for fault-injection
            tests and the bench only.
        proxy: forward proxy URL; wins over ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``,
            which are honoured when it is None.
        ca_bundle: a PEM file of extra trusted CAs (the system trust store is always used).
        trust_env: read the proxy environment variables (False for the bundled paper exchange,
            which the app starts on loopback itself: a proxy could not reach it).
        retry: backoff for retryable operations.
        clock: the server clock (injectable to skew the local clock in tests).
        budget: the weight budget (injectable for tests).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        api_secret: SecretStr | Signer | None = None,
        *,
        recv_window_ms: int = 5000,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        clock: ServerClock | None = None,
        budget: RateBudget | None = None,
        proxy: str | None = None,
        ca_bundle: str | os.PathLike[str] | None = None,
        trust_env: bool = True,
    ) -> None:
        self._rest = RestSession(base_url, api_key, api_secret, recv_window_ms=recv_window_ms,
                                 timeout_s=timeout_s, transport=transport, retry=retry,
                                 budget=budget, clock=clock,
                                 http=HttpSettings(proxy=proxy, ca_bundle=ca_bundle, trust_env=trust_env))

    def __repr__(self) -> str:
        return f"BtxClient({self._rest!r})"

    async def __aenter__(self) -> BtxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._rest.aclose()

    # --- observability -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._rest.base_url

    @property
    def rest(self) -> RestSession:
        """The request pipeline (for the order module and tests)."""
        return self._rest

    @property
    def recv_window_ms(self) -> int:
        """``recvWindow`` of signed requests (order resolution waits it out before "absent")."""
        return self._rest.recv_window_ms

    @property
    def budget(self) -> BudgetSnapshot:
        """The weight budget now: used/limit/pause, for the status bar."""
        return self._rest.budget.snapshot()

    @property
    def last_latency_ms(self) -> float | None:
        """Round-trip time of the last HTTP exchange."""
        return self._rest.last_latency_ms

    @property
    def clock_offset_ms(self) -> int | None:
        """server − local clock in ms; None until the first sync."""
        return self._rest.clock.offset_ms

    async def sync_clock(self) -> int:
        """Measure the clock offset now (signed requests also do it lazily and every 5 min)."""
        return await self._rest.sync_clock()

    async def _get(self, path: str, p: Sequence[tuple[str, str]] = (), *, signed: bool = False) -> Any:
        return (await self._rest.call("GET", path, p, signed=signed, op=Op.READ)).data

    # --- market data (security NONE) ---------------------------------------------------------

    async def ping(self) -> Pong:
        await self._get("/api/v3/ping")
        return Pong(round_trip_ms=self._rest.last_latency_ms or 0.0)

    async def server_time(self) -> ServerTime:
        return _one(ServerTime, await self._get("/api/v3/time"))

    time = server_time

    async def exchange_info(self, symbol: str | None = None,
                            symbols: Sequence[str] | None = None) -> ExchangeInfo:
        """Markets and filters. Also adopts the declared REQUEST_WEIGHT limit and window into the budget."""
        p = [pair for pair in (("symbol", symbol) if symbol else None, _symbols_param(symbols)) if pair]
        info = _one(ExchangeInfo, await self._get("/api/v3/exchangeInfo", p))
        if (window := info.request_weight_window) is not None:
            self._rest.budget.adopt(*window)
        return info

    async def depth(self, symbol: str, limit: int = 100) -> Depth:
        return _one(Depth, await self._get("/api/v3/depth", params(("symbol", symbol), ("limit", limit))))

    async def trades(self, symbol: str, limit: int = 500) -> tuple[Trade, ...]:
        """Recent trades, oldest first."""
        return _many(Trade, await self._get("/api/v3/trades", params(("symbol", symbol), ("limit", limit))))

    async def agg_trades(self, symbol: str, limit: int = 500, *, from_id: int | None = None,
                         start_time: int | None = None, end_time: int | None = None) -> tuple[AggTrade, ...]:
        p = params(("symbol", symbol), ("fromId", from_id), ("startTime", start_time),
                   ("endTime", end_time), ("limit", limit))
        return _many(AggTrade, await self._get("/api/v3/aggTrades", p))

    async def klines(self, symbol: str, interval: str, limit: int = 500, *,
                     start_time: int | None = None, end_time: int | None = None) -> tuple[Kline, ...]:
        p = params(("symbol", symbol), ("interval", interval), ("startTime", start_time),
                   ("endTime", end_time), ("limit", limit))
        return _many(Kline, await self._get("/api/v3/klines", p))

    async def ticker_24hr(self, symbol: str) -> Ticker24h:
        return _one(Ticker24h, await self._get("/api/v3/ticker/24hr", params(("symbol", symbol))))

    async def tickers_24hr(self, symbols: Sequence[str] | None = None) -> tuple[Ticker24h, ...]:
        """24 h tickers for a whole watchlist in ONE request (``symbols=[...]``); None = all."""
        p = [pair for pair in (_symbols_param(symbols),) if pair]
        return _many(Ticker24h, await self._get("/api/v3/ticker/24hr", p))

    async def ticker_price(self, symbol: str) -> TickerPrice:
        return _one(TickerPrice, await self._get("/api/v3/ticker/price", params(("symbol", symbol))))

    async def ticker_prices(self, symbols: Sequence[str] | None = None) -> tuple[TickerPrice, ...]:
        p = [pair for pair in (_symbols_param(symbols),) if pair]
        return _many(TickerPrice, await self._get("/api/v3/ticker/price", p))

    async def book_ticker(self, symbol: str) -> BookTicker:
        return _one(BookTicker, await self._get("/api/v3/ticker/bookTicker", params(("symbol", symbol))))

    async def book_tickers(self, symbols: Sequence[str] | None = None) -> tuple[BookTicker, ...]:
        p = [pair for pair in (_symbols_param(symbols),) if pair]
        return _many(BookTicker, await self._get("/api/v3/ticker/bookTicker", p))

    async def avg_price(self, symbol: str) -> AvgPrice:
        return _one(AvgPrice, await self._get("/api/v3/avgPrice", params(("symbol", symbol))))

    # --- account (USER_DATA) -----------------------------------------------------------------

    async def account(self, omit_zero_balances: bool = False) -> Account:
        p = params(("omitZeroBalances", True if omit_zero_balances else None))
        return _one(Account, await self._get("/api/v3/account", p, signed=True))

    async def api_restrictions(self) -> ApiRestrictions:
        return _one(ApiRestrictions, await self._get("/sapi/v1/account/apiRestrictions", signed=True))

    async def rate_limit_order(self) -> tuple[RateLimit, ...]:
        return _many(RateLimit, await self._get("/api/v3/rateLimit/order", signed=True))

    # --- orders --------------------------------------------------------------------------------

    async def place_order(self, request: _orders.OrderRequest, *,
                          journal: _orders.OrderJournal | None = None,
                          resolver: _orders.ResolvePolicy | None = None) -> _orders.PlacementResult:
        """Place an order safely: ACCEPTED, REJECTED or UNKNOWN→resolved. See :mod:`.orders`."""
        return await _orders.submit_order(self, request, journal=journal, resolver=resolver)

    async def post_order(self, request: _orders.OrderRequest) -> Order:
        """One raw ``POST /api/v3/order`` — no retry, no resolution. Use :meth:`place_order`."""
        data = (await self._rest.call("POST", "/api/v3/order", request.to_params(),
                                      signed=True, op=Op.ONCE)).data
        return _one(Order, data)

    async def test_order(self, request: _orders.OrderRequest) -> None:
        """Validate an order without placing it (``POST /api/v3/order/test``); raises if invalid."""
        await self._rest.call("POST", "/api/v3/order/test", request.to_params(), signed=True, op=Op.ONCE)

    async def get_order(self, symbol: str, *, order_id: int | None = None,
                        orig_client_order_id: str | None = None) -> Order:
        if order_id is None and orig_client_order_id is None:
            raise ValueError("give order_id or orig_client_order_id")
        p = params(("symbol", symbol), ("orderId", order_id), ("origClientOrderId", orig_client_order_id))
        return _one(Order, await self._get("/api/v3/order", p, signed=True))

    async def cancel_order(self, symbol: str, *, order_id: int | None = None,
                           orig_client_order_id: str | None = None) -> Order:
        """Cancel one order; retried on network errors (idempotent by id).

        If a *retried* cancel meets -2011 the first attempt may have cancelled the order — or
        it filled meanwhile — so the order is queried and returned as it stands (check its
        ``status``: CANCELED or FILLED). A -2011 on the first attempt raises UnknownOrder.
        """
        if order_id is None and orig_client_order_id is None:
            raise ValueError("give order_id or orig_client_order_id")
        p = params(("symbol", symbol), ("orderId", order_id), ("origClientOrderId", orig_client_order_id))
        try:
            reply = await self._rest.call("DELETE", "/api/v3/order", p, signed=True, op=Op.CANCEL)
        except UnknownOrder as exc:
            if not exc.after_ambiguous_retry:
                raise
            # An earlier attempt may have cancelled it, or it filled meanwhile: ask.
            return await self.get_order(symbol, order_id=order_id, orig_client_order_id=orig_client_order_id)
        return _one(Order, reply.data)

    async def cancel_open_orders(self, symbol: str) -> tuple[Order, ...]:
        """Cancel every open order on ``symbol``; returns the cancel reports."""
        try:
            reply = await self._rest.call("DELETE", "/api/v3/openOrders", params(("symbol", symbol)),
                                          signed=True, op=Op.CANCEL)
        except UnknownOrder as exc:
            if not exc.after_ambiguous_retry:
                raise
            return ()  # an earlier attempt cancelled them; nothing is left open
        return _many(Order, reply.data)

    async def open_orders(self, symbol: str | None = None) -> tuple[Order, ...]:
        return _many(Order, await self._get("/api/v3/openOrders", params(("symbol", symbol)), signed=True))

    async def all_orders(self, symbol: str, *, order_id: int | None = None, start_time: int | None = None,
                         end_time: int | None = None, limit: int | None = None) -> tuple[Order, ...]:
        p = params(("symbol", symbol), ("orderId", order_id), ("startTime", start_time),
                   ("endTime", end_time), ("limit", limit))
        return _many(Order, await self._get("/api/v3/allOrders", p, signed=True))

    async def my_trades(self, symbol: str, *, order_id: int | None = None, start_time: int | None = None,
                        end_time: int | None = None, from_id: int | None = None,
                        limit: int | None = None) -> tuple[MyTrade, ...]:
        p = params(("symbol", symbol), ("orderId", order_id), ("startTime", start_time),
                   ("endTime", end_time), ("fromId", from_id), ("limit", limit))
        return _many(MyTrade, await self._get("/api/v3/myTrades", p, signed=True))

    # --- withdrawals ---------------------------------------------------------------------------

    async def withdraw_apply(self, coin: str, address: str, amount: Decimal, *, network: str | None = None,
                             address_tag: str | None = None,
                             withdraw_order_id: str | None = None) -> WithdrawApplyResult:
        """Request a withdrawal. Never retried: resolve doubts via ``withdraw_history(withdraw_order_id=…)``."""
        p = params(("coin", coin), ("network", network), ("address", address), ("addressTag", address_tag),
                   ("amount", amount), ("withdrawOrderId", withdraw_order_id))
        data = (await self._rest.call("POST", "/sapi/v1/capital/withdraw/apply", p,
                                      signed=True, op=Op.ONCE)).data
        return _one(WithdrawApplyResult, data)

    async def withdraw_history(self, *, coin: str | None = None, withdraw_order_id: str | None = None,
                               status: int | None = None, offset: int | None = None, limit: int | None = None,
                               start_time: int | None = None, end_time: int | None = None) -> tuple[Withdrawal, ...]:
        p = params(("coin", coin), ("withdrawOrderId", withdraw_order_id), ("status", status),
                   ("offset", offset), ("limit", limit), ("startTime", start_time), ("endTime", end_time))
        return _many(Withdrawal, await self._get("/sapi/v1/capital/withdraw/history", p, signed=True))

    async def capital_config(self) -> tuple[CoinConfig, ...]:
        return _many(CoinConfig, await self._get("/sapi/v1/capital/config/getall", signed=True))

    # --- beyond trading: windows, history, fees, wallet status, deposits -----------------------

    async def ui_klines(self, symbol: str, interval: str, limit: int = 500, *,
                        start_time: int | None = None, end_time: int | None = None) -> tuple[Kline, ...]:
        """``uiKlines``: candles "modified for presentation" (same shape as :meth:`klines`)."""
        p = params(("symbol", symbol), ("interval", interval), ("startTime", start_time),
                   ("endTime", end_time), ("limit", limit))
        return _many(Kline, await self._get("/api/v3/uiKlines", p))

    async def historical_trades(self, symbol: str, limit: int = 500, *,
                                from_id: int | None = None) -> tuple[Trade, ...]:
        """Older trades from ``from_id`` on (oldest first); the most recent without it."""
        p = params(("symbol", symbol), ("limit", limit), ("fromId", from_id))
        return _many(Trade, await self._get("/api/v3/historicalTrades", p))

    async def tickers_24hr_mini(self, symbols: Sequence[str] | None = None) -> tuple[MiniTicker, ...]:
        """24 h tickers with ``type=MINI`` (no change, bid/ask fields: less to send)."""
        p = [pair for pair in (_symbols_param(symbols), ("type", "MINI")) if pair]
        return _many(MiniTicker, await self._get("/api/v3/ticker/24hr", p))

    async def rolling_tickers(self, symbols: Sequence[str], window: str = "1d") -> tuple[Ticker24h, ...]:
        """Rolling-window tickers (``GET /api/v3/ticker``, ``windowSize`` 1m..59m, 1h..23h, 1d..7d)."""
        p = [_symbols_param(symbols), ("windowSize", window)]
        return _many(Ticker24h, await self._get("/api/v3/ticker", p))  # type: ignore[arg-type]

    async def trading_day_tickers(self, symbols: Sequence[str], time_zone: str = "0") -> tuple[Ticker24h, ...]:
        """The current trading day's tickers (``GET /api/v3/ticker/tradingDay``), day in ``time_zone``."""
        p = [_symbols_param(symbols), ("timeZone", time_zone)]
        return _many(Ticker24h, await self._get("/api/v3/ticker/tradingDay", p))  # type: ignore[arg-type]

    async def account_commission(self, symbol: str) -> AccountCommission:
        return _one(AccountCommission, await self._get("/api/v3/account/commission",
                                                       params(("symbol", symbol)), signed=True))

    async def order_commission_rates(self, request: _orders.OrderRequest) -> OrderCommissionRates:
        """``order/test`` with ``computeCommissionRates=true``: the rates ``request`` would pay."""
        p = [*request.to_params(), ("computeCommissionRates", "true")]
        data = (await self._rest.call("POST", "/api/v3/order/test", p, signed=True, op=Op.ONCE)).data
        return _one(OrderCommissionRates, data)

    async def prevented_matches(self, symbol: str, *, order_id: int | None = None,
                                prevented_match_id: int | None = None,
                                from_prevented_match_id: int | None = None,
                                limit: int | None = None) -> tuple[PreventedMatch, ...]:
        p = params(("symbol", symbol), ("preventedMatchId", prevented_match_id), ("orderId", order_id),
                   ("fromPreventedMatchId", from_prevented_match_id), ("limit", limit))
        return _many(PreventedMatch, await self._get("/api/v3/myPreventedMatches", p, signed=True))

    async def system_status(self) -> SystemStatus:
        return _one(SystemStatus, await self._get("/sapi/v1/system/status"))

    async def account_status(self) -> AccountStatus:
        return _one(AccountStatus, await self._get("/sapi/v1/account/status", signed=True))

    async def trade_fees(self, symbol: str | None = None) -> tuple[TradeFee, ...]:
        return _many(TradeFee, await self._get("/sapi/v1/asset/tradeFee", params(("symbol", symbol)), signed=True))

    async def asset_details(self, asset: str | None = None) -> dict[str, AssetDetail]:
        data = await self._get("/sapi/v1/asset/assetDetail", params(("asset", asset)), signed=True)
        if not isinstance(data, dict):
            raise BadResponse("Expected an object of assets from the exchange")
        return {name: _one(AssetDetail, detail) for name, detail in data.items()}

    async def deposit_address(self, coin: str, network: str | None = None) -> DepositAddress:
        p = params(("coin", coin), ("network", network))
        return _one(DepositAddress, await self._get("/sapi/v1/capital/deposit/address", p, signed=True))

    async def deposit_history(self, *, coin: str | None = None, status: int | None = None,
                              start_time: int | None = None, end_time: int | None = None,
                              offset: int | None = None, limit: int | None = None,
                              tx_id: str | None = None) -> tuple[Deposit, ...]:
        p = params(("coin", coin), ("status", status), ("startTime", start_time), ("endTime", end_time),
                   ("offset", offset), ("limit", limit), ("txId", tx_id))
        return _many(Deposit, await self._get("/sapi/v1/capital/deposit/hisrec", p, signed=True))
