"""Every endpoint against the real paper exchange: typed, frozen, Decimal results."""

from __future__ import annotations

from decimal import Decimal

from btx_tui.api import OrderRequest, Outcome, SymbolRules, check_order
from btx_tui.api.book_views import fetch_book, fetch_chart, fetch_tape, fetch_watchlist
from btx_tui.api.models_trading import OrderStatus

from .conftest import FaultTransport

D = Decimal


async def test_market_data_endpoints(make_client) -> None:
    transport = FaultTransport()
    async with make_client(None, transport=transport) as c:
        # The ping crossed the wire and was timed (``>= 0`` held even when nothing was timed).
        assert (await c.ping()).round_trip_ms > 0 and transport.count("GET", "/api/v3/ping") == 1
        assert (await c.server_time()).server_time > 1_600_000_000_000
        info = await c.exchange_info()
        names = {s.symbol for s in info.symbols}
        assert {"BTTUSDT", "BTCUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX"} <= names
        btt = info.symbol("BTTUSDT")
        assert btt.price_filter is not None and btt.price_filter.tick_size <= D("0.0000000001")
        one = await c.exchange_info(symbol="BTCUSDT")
        assert [s.symbol for s in one.symbols] == ["BTCUSDT"]
        depth = await c.depth("BTCUSDT", limit=5)
        assert isinstance(depth.bids, tuple)
        assert isinstance(await c.trades("BTCUSDT", limit=5), tuple)
        assert isinstance(await c.agg_trades("BTCUSDT", limit=5), tuple)
        assert isinstance(await c.klines("BTCUSDT", "1m", limit=5), tuple)
        t = await c.ticker_24hr("BTCUSDT")
        assert t.symbol == "BTCUSDT" and isinstance(t.volume, Decimal)
        before = transport.count("GET", "/api/v3/ticker/24hr")
        many = await c.tickers_24hr(["BTCUSDT", "BTTUSDT", "ETHUSDT"])
        assert {x.symbol for x in many} == {"BTCUSDT", "BTTUSDT", "ETHUSDT"}
        assert transport.count("GET", "/api/v3/ticker/24hr") == before + 1  # ONE request
        assert (await c.ticker_price("BTCUSDT")).price > 0
        assert len(await c.ticker_prices(["BTCUSDT", "ETHUSDT"])) == 2
        assert (await c.book_ticker("BTCUSDT")).symbol == "BTCUSDT"
        assert len(await c.book_tickers()) >= 5
        assert (await c.avg_price("BTCUSDT")).price > 0
        assert c.budget.used > 0 and c.budget.server_used is not None and c.budget.limit == 6000
        assert c.last_latency_ms is not None


async def test_market_helpers_one_request_each(make_client) -> None:
    transport = FaultTransport()
    async with make_client(None, transport=transport) as c:
        watch = await fetch_watchlist(c, ["ETHUSDT", "BTCUSDT"])
        assert [t.symbol for t in watch.tickers] == ["ETHUSDT", "BTCUSDT"]
        book = await fetch_book(c, "BTCUSDT", limit=20, group_step=D("1"))
        assert book.symbol == "BTCUSDT"
        chart = await fetch_chart(c, "BTCUSDT", "1m", limit=10)
        assert chart.interval == "1m"
        assert isinstance(await fetch_tape(c, "BTCUSDT"), tuple)
        assert len(transport.seen) == 4


async def test_signed_account_endpoints(make_client) -> None:
    async with make_client("full") as c:
        acc = await c.account()
        assert acc.can_trade and acc.balance("USDT").free > 0
        nonzero = await c.account(omit_zero_balances=True)
        assert all(b.free + b.locked > 0 for b in nonzero.balances)
        r = await c.api_restrictions()
        assert r.enable_spot_and_margin_trading and r.enable_withdrawals
        limits = await c.rate_limit_order()
        assert {rl.interval for rl in limits} == {"SECOND", "DAY"} and all(rl.count is not None for rl in limits)
        assert c.clock_offset_ms is not None  # synced before the first signed request
    async with make_client("read") as c:
        r = await c.api_restrictions()
        assert not r.enable_spot_and_margin_trading and not r.enable_withdrawals


async def test_order_lifecycle_with_preflight(make_client) -> None:
    async with make_client("full") as c:
        info = await c.exchange_info(symbol="BTCUSDT")
        rules = SymbolRules.from_symbol_info(info.symbol("BTCUSDT"))
        acc = await c.account()
        pre = check_order(rules, side="BUY", type="LIMIT", quantity=D("0.0010004"), price=D("10000.019"),
                          free_balances=acc.free(), commission_rates=acc.commission_rates)
        assert pre.ok and pre.price == D("10000.01") and pre.quantity == D("0.001")
        request = pre.to_request()
        assert await c.test_order(request) is None
        placed = await c.place_order(request)
        assert placed.outcome is Outcome.ACCEPTED and placed.order is not None
        assert placed.order.client_order_id == request.client_order_id
        assert placed.order.status is OrderStatus.NEW and placed.resolution_attempts == 0
        oid = placed.order.order_id
        got = await c.get_order("BTCUSDT", order_id=oid)
        assert got.price == D("10000.01") and got.orig_qty == D("0.001")
        assert oid in {o.order_id for o in await c.open_orders("BTCUSDT")}
        assert oid in {o.order_id for o in await c.open_orders()}
        locked = (await c.account()).balance("USDT").locked
        assert locked >= D("10.00001")
        cancelled = await c.cancel_order("BTCUSDT", orig_client_order_id=request.client_order_id)
        assert cancelled.status is OrderStatus.CANCELED and cancelled.order_client_id == request.client_order_id
        assert oid in {o.order_id for o in await c.all_orders("BTCUSDT", limit=1000)}
        # cancel_open_orders cancels everything open on the symbol
        for price in (D("9000"), D("9001")):
            res = await c.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=price))
            assert res.outcome is Outcome.ACCEPTED
        reports = await c.cancel_open_orders("BTCUSDT")
        assert len(reports) >= 2 and all(r.status is OrderStatus.CANCELED for r in reports)
        assert await c.open_orders("BTCUSDT") == ()


async def test_self_cross_fills_and_my_trades(make_client) -> None:
    async with make_client("full") as c:
        sell = await c.place_order(OrderRequest("ETHUSDT", "SELL", "LIMIT", quantity=D("0.01"), price=D("3000")))
        assert sell.outcome is Outcome.ACCEPTED
        buy = await c.place_order(OrderRequest("ETHUSDT", "BUY", "LIMIT", quantity=D("0.01"), price=D("3000")))
        assert buy.outcome is Outcome.ACCEPTED and buy.order is not None
        assert buy.order.status is OrderStatus.FILLED and buy.order.fills
        assert buy.order.fills[0].commission_asset == "ETH"
        trades = await c.my_trades("ETHUSDT", order_id=buy.order.order_id)
        assert trades and trades[0].qty == D("0.01") and trades[0].is_buyer


async def test_withdrawal_endpoints(make_client) -> None:
    async with make_client("full") as c:
        config = {cc.coin: cc for cc in await c.capital_config()}
        trx = config["TRX"].default_network
        assert trx is not None and trx.withdraw_min == D("10")
        res = await c.withdraw_apply("TRX", "T" + "1" * 33, D("12"), withdraw_order_id="btx-w1")
        assert res.id
        history = await c.withdraw_history(coin="TRX")
        mine = [w for w in history if w.id == res.id]
        assert mine and mine[0].amount == D("12") and mine[0].withdraw_order_id == "btx-w1"
