"""A deterministic stand-in for :class:`~btx_tui.api.client.BtxClient`, for snapshot tests.

Every answer is a fixed pydantic model built from fixed data (the paper exchange's own
market specs for ``exchangeInfo``; a two-sided BTTUSDT book; the demo account's balances;
trades and candles with fixed timestamps), so a screenshot of the dashboard cannot change
between runs. Inject it with ``BtxApp(settings, connection, client_factory=fake_client_factory())``
and freeze what still depends on the clock with :func:`freeze_clock`.

Orders sent to it are recorded in :attr:`FakeClient.placed` and accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from btx_tui.api.models import AggTrade, Depth, ExchangeInfo, Kline, Ticker24h, TickerPrice, Trade
from btx_tui.api.models_trading import Account, ApiRestrictions, MyTrade, Order
from btx_tui.api.orders import OrderRequest, Outcome, PlacementResult
from btx_tui.config import Settings
from btx_tui.exchange.state.symbols import MARKETS
from btx_tui.tui.app import BtxApp
from btx_tui.tui.connection_health import Connection

T0 = 1_700_000_000_000
"""A fixed "now" (2023-11-14 22:13:20 UTC) for every timestamp the fake returns."""

WATCHLIST = ("BTTUSDT", "BTCUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX")

ASKS = (("0.0000006200", "10000000"), ("0.0000006210", "25000000"), ("0.0000006230", "40000000"),
        ("0.0000006250", "80000000"))
BIDS = (("0.0000006000", "10000000"), ("0.0000005990", "30000000"), ("0.0000005970", "45000000"),
        ("0.0000005950", "90000000"))

BALANCES = {"USDT": ("9994.00000000", "6.00000000"), "BTC": ("0.25000000", "0"), "ETH": ("3.00000000", "0"),
            "BTT": ("40000000.00000000", "10000000.00000000"), "TRX": ("20000.00000000", "0")}

PRICES = {s: MARKETS[s].ref_price for s in MARKETS}
PRICES["BTTUSDT"] = Decimal("0.0000006100")


@dataclass
class FakeBudget:
    used: int = 120
    limit: int = 6000
    paused_for: float = 0.0


def exchange_info() -> ExchangeInfo:
    return ExchangeInfo.model_validate({
        "timezone": "UTC", "serverTime": T0, "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}],
        "symbols": [spec.exchange_info() for spec in MARKETS.values()],
    })


def depth() -> Depth:
    return Depth.model_validate({"lastUpdateId": 42, "bids": [list(b) for b in BIDS], "asks": [list(a) for a in ASKS]})


def account() -> Account:
    return Account.model_validate({
        "makerCommission": 10, "takerCommission": 10,
        "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0", "seller": "0"},
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "updateTime": T0, "accountType": "SPOT",
        "balances": [{"asset": a, "free": f, "locked": lk} for a, (f, lk) in BALANCES.items()],
        "permissions": ["SPOT"],
    })


def ticker(symbol: str) -> Ticker24h:
    last = PRICES[symbol]
    return Ticker24h.model_validate({
        "symbol": symbol, "priceChange": str(last / 100), "priceChangePercent": "1.00",
        "weightedAvgPrice": str(last), "prevClosePrice": str(last * Decimal("0.99")), "lastPrice": str(last),
        "lastQty": "1", "bidPrice": str(last), "bidQty": "1", "askPrice": str(last), "askQty": "1",
        "openPrice": str(last * Decimal("0.99")), "highPrice": str(last * Decimal("1.02")),
        "lowPrice": str(last * Decimal("0.98")), "volume": "1000", "quoteVolume": str(last * 1000),
        "openTime": T0 - 86_400_000, "closeTime": T0, "firstId": 1, "lastId": 100, "count": 100,
    })


def trades(symbol: str, limit: int) -> tuple[Trade, ...]:
    base = PRICES[symbol]
    tick = MARKETS[symbol].tick_size
    rows = [Trade.model_validate({"id": i, "price": str(base + tick * (i % 5 - 2)), "qty": str(MARKETS[symbol].step_size * (i + 1)),
                                  "quoteQty": "0", "time": T0 - (40 - i) * 1000, "isBuyerMaker": i % 2 == 0})
            for i in range(40)]
    return tuple(rows[-limit:])


def agg_trades(symbol: str, limit: int) -> tuple[AggTrade, ...]:
    return tuple(AggTrade(agg_id=t.id, price=t.price, qty=t.qty, first_trade_id=t.id, last_trade_id=t.id,
                          time=t.time, is_buyer_maker=t.is_buyer_maker) for t in trades(symbol, limit))


def klines(symbol: str, limit: int) -> tuple[Kline, ...]:
    base, tick = PRICES[symbol], MARKETS[symbol].tick_size
    out = []
    for i in range(min(limit, 60)):
        o = base + tick * ((i * 7) % 11 - 5)
        c = base + tick * ((i * 5) % 11 - 5)
        start = T0 - (60 - i) * 60_000
        out.append(Kline.model_validate([start, str(o), str(max(o, c) + tick), str(min(o, c) - tick), str(c), "10",
                                         start + 59_999, "0", 10, "5", "0"]))
    return tuple(out)


def resting_orders() -> tuple[Order, ...]:
    """Two open orders with the widest numbers the markets have (BTT's tiny price, big size)."""
    def order(n: int, symbol: str, side: str, price: str, qty: str, done: str) -> Order:
        return Order(symbol=symbol, order_id=n, client_order_id=f"fake-{n}", price=Decimal(price),
                     orig_qty=Decimal(qty), executed_qty=Decimal(done), cummulative_quote_qty=Decimal(0),
                     status="PARTIALLY_FILLED" if Decimal(done) else "NEW", time_in_force="GTC", type="LIMIT",
                     side=side, time=T0 - n * 1000, update_time=T0 - n * 1000)
    return (order(1, "BTTUSDT", "SELL", "0.0000007", "10000000", "0"),
            order(2, "BTCUSDT", "BUY", "90000", "0.001", "0.0004"))


class FakeClient:
    """Answers every call the dashboard makes from fixed data; records placed orders."""

    def __init__(self, resting: tuple[Order, ...] = (), trades: tuple[MyTrade, ...] = ()) -> None:
        self.resting = resting
        self.trades = trades
        """What ``my_trades`` answers, by symbol (none unless a test asks)."""
        """What ``open_orders`` answers (none unless a test asks)."""
        self.placed: list[OrderRequest] = []
        self._prices_served = asyncio.Event()
        self._info_served = asyncio.Event()
        self.budget = FakeBudget()
        self.last_latency_ms: float | None = 12.0
        self.clock_offset_ms: int | None = 0
        self._next_id = 1000

    async def aclose(self) -> None:
        return None

    async def exchange_info(self, *_: Any, **__: Any) -> ExchangeInfo:
        self._info_served.set()
        return exchange_info()

    async def api_restrictions(self) -> ApiRestrictions:
        return ApiRestrictions(enable_reading=True, enable_spot_and_margin_trading=True, enable_withdrawals=True)

    async def account(self, omit_zero_balances: bool = False) -> Account:
        # Answer only once prices are out, so the balances pane is valued the same way every
        # run (and because balances.rate_to recurses forever on an empty price map).
        await self._prices_served.wait()
        return account()

    async def tickers_24hr(self, symbols: Any = None) -> tuple[Ticker24h, ...]:
        # The first tickers follow the markets, as the snapshots show them: tickers drawn
        # before the ticks are known widen the watchlist's columns for good (they only grow).
        if not self._info_served.is_set():
            await asyncio.wait_for(self._info_served.wait(), timeout=5)
            await asyncio.sleep(0.2)
        return tuple(ticker(s) for s in (symbols or WATCHLIST) if s in PRICES)

    async def ticker_prices(self, symbols: Any = None) -> tuple[TickerPrice, ...]:
        self._prices_served.set()
        return tuple(TickerPrice(symbol=s, price=p) for s, p in PRICES.items())

    async def depth(self, symbol: str, limit: int = 100) -> Depth:
        return depth()

    async def trades(self, symbol: str, limit: int = 500) -> tuple[Trade, ...]:
        return trades(symbol, limit)

    async def agg_trades(self, symbol: str, limit: int = 500, **_: Any) -> tuple[AggTrade, ...]:
        return agg_trades(symbol, limit)

    async def klines(self, symbol: str, interval: str, limit: int = 500, **_: Any) -> tuple[Kline, ...]:
        return klines(symbol, limit)

    async def open_orders(self, symbol: str | None = None) -> tuple[Order, ...]:
        return tuple(o for o in self.resting if symbol is None or o.symbol == symbol)

    async def all_orders(self, symbol: str, **_: Any) -> tuple[Order, ...]:
        return ()

    async def my_trades(self, symbol: str, **_: Any) -> tuple[MyTrade, ...]:
        return tuple(t for t in self.trades if t.symbol == symbol)

    async def place_order(self, request: OrderRequest, **_: Any) -> PlacementResult:
        self.placed.append(request)
        self._next_id += 1
        order = Order(symbol=request.symbol, order_id=self._next_id, client_order_id=request.client_order_id,
                      transact_time=T0, price=request.price, orig_qty=request.quantity, executed_qty=Decimal(0),
                      cummulative_quote_qty=Decimal(0), status="NEW", time_in_force=request.time_in_force,
                      type=request.type, side=request.side)
        return PlacementResult(Outcome.ACCEPTED, request, order=order, initial_outcome=Outcome.ACCEPTED)


def fake_client_factory(client: FakeClient | None = None) -> Callable[[Connection, Settings], FakeClient]:
    """A ``client_factory`` for :class:`BtxApp` that always returns ``client`` (or a new FakeClient)."""
    the_client = client or FakeClient()
    return lambda connection, settings: the_client


def fake_app(client: FakeClient | None = None, **ui: object) -> BtxApp:
    """The real app on a :class:`FakeClient`, in paper mode, with the default watchlist.

    Streams off: a fake client has no WebSocket side, and the fakes' screens must not depend
    on how fast a refused stream connection is noticed."""
    ui.setdefault("timezone", "UTC")  # times on screen must not depend on the machine's zone
    settings = Settings.model_validate({"ui": {"watchlist": list(WATCHLIST), **ui},
                                        "exchange": {"streams": False}})
    connection = Connection("http://127.0.0.1:9", "fake-key", SecretStr("fake-secret"), paper=True)
    return BtxApp(settings, connection, client_factory=fake_client_factory(client))  # type: ignore[arg-type]


def freeze_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin what the status bar derives from the wall clock (the data's age)."""
    import btx_tui.tui.app as app_module

    monkeypatch.setattr(app_module, "freshest_age_s", lambda feeds: 0.0)
