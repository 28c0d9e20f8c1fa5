"""Pilot tests of the dashboard against a real paper exchange over a real socket."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from btx_tui.exchange.process.launcher import start_paper_exchange
from tests.paper_account import PaperAccount
from btx_tui.tui.screens.confirm import ConfirmScreen

from .harness import client_for, free_port, limit, make_app, market, notifications, ready, wait_for

SIZE = (120, 36)


async def test_startup_shows_paper_mode_markets_and_permissions(fresh_account: PaperAccount) -> None:
    app = make_app(fresh_account)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.status_info().connection == "live", what="live status")
        info = app.status_info()
        assert info.paper and info.exchange == "PAPER"
        assert info.permissions == {"READ", "TRADE", "WITHDRAW"}
        assert info.weight_used > 0
        watchlist = app.dashboard.watchlist
        assert watchlist.symbols == ["BTTUSDT", "BTCUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX"]
        await wait_for(pilot, lambda: len(watchlist.tickers) == 5, what="tickers")
        assert app.state.symbol == "BTTUSDT"
        assets = set(app.dashboard.balances.balances)
        assert {"USDT", "BTC", "ETH", "BTT", "TRX"} <= assets
        assert app.dashboard.balances.balances["USDT"].free == Decimal("10000")


async def test_buy_limit_appears_in_open_orders_and_is_marked_in_the_book(
        fresh_account: PaperAccount) -> None:
    async with client_for(fresh_account) as client:
        await client.place_order(limit("BTCUSDT", "SELL", "0.01", "96000"))
        app = make_app(fresh_account, symbol="BTCUSDT")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            request = limit("BTCUSDT", "BUY", "0.001", "94500")
            app.trading.submit_order(request)
            table = app.dashboard.open_orders
            await wait_for(pilot, lambda: request.client_order_id in table.orders, what="order in open orders")
            on_exchange = {o.client_order_id: o for o in await client.open_orders("BTCUSDT")}
            assert on_exchange[request.client_order_id].price == Decimal("94500")
            await wait_for(pilot, lambda: any(r.own and r.kind == "bid" for r in app.dashboard.book.rows),
                           what="own bid marked")
            own = [r for r in app.dashboard.book.rows if r.own]
            assert [(r.kind, r.price) for r in own if r.kind == "bid"] == [("bid", "94,500.00")]
            assert ("ask", "96,000.00") in [(r.kind, r.price) for r in own]
            assert any("Order accepted" in n for n in notifications(app))


async def test_cancel_highlighted_order_after_confirmation(fresh_account: PaperAccount) -> None:
    async with client_for(fresh_account) as client:
        placed = await client.place_order(limit("ETHUSDT", "BUY", "0.01", "3000"))
        cid = placed.client_order_id
        app = make_app(fresh_account, symbol="ETHUSDT")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            table = app.dashboard.open_orders
            await wait_for(pilot, lambda: cid in table.orders, what="order listed")
            table.focus()
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
            body = str(app.screen.query_one("#confirm-body").render())
            assert "Cancel BUY LIMIT ETHUSDT: 0.0100 @ 3,000.00?" in body, body  # on the market's tick and step
            await pilot.press("n")  # back: nothing cancelled
            assert not isinstance(app.screen, ConfirmScreen)
            assert cid in {o.client_order_id for o in await client.open_orders("ETHUSDT")}
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation again")
            await pilot.press("y")
            await wait_for(pilot, lambda: cid not in table.orders, what="order gone from the table")
            assert cid not in {o.client_order_id for o in await client.open_orders("ETHUSDT")}
            assert any(n.startswith("Canceled") for n in notifications(app))


async def test_market_buy_changes_balances_by_the_fills(fresh_account: PaperAccount) -> None:
    async with client_for(fresh_account) as client:
        await client.place_order(limit("BTCUSDT", "SELL", "0.002", "95000"))
        app = make_app(fresh_account, symbol="BTCUSDT")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            balances = app.dashboard.balances
            await wait_for(pilot, lambda: balances.balances["BTC"].locked == Decimal("0.002"), what="locked BTC")
            before_usdt = balances.balances["USDT"].free
            before_btc = balances.balances["BTC"].free
            app.trading.submit_order(market("BTCUSDT", "BUY", "0.002"))
            await wait_for(pilot, lambda: balances.balances["BTC"].locked == 0, what="sell filled")
            await wait_for(pilot, lambda: balances.balances["USDT"].free != before_usdt, what="USDT moved")
            account = await client.account()
            remote = {b.asset: b for b in account.balances}
            shown = balances.balances
            assert shown["USDT"].free == remote["USDT"].free
            assert shown["BTC"].free == remote["BTC"].free
            # Self-trade: paid 190 USDT, received 190 USDT minus the seller's commission (0.1 %);
            # bought 0.002 BTC minus the buyer's commission, from our own 0.002 BTC that was locked.
            assert shown["USDT"].free == before_usdt - Decimal("0.19")
            assert shown["BTC"].free == before_btc + Decimal("0.002") - Decimal("0.000002")
            await wait_for(pilot, lambda: len(app.dashboard.fills.fills) >= 1, what="fills table")


async def test_cancel_all_of_the_selected_market(fresh_account: PaperAccount) -> None:
    async with client_for(fresh_account) as client:
        for price in ("3000", "3100"):
            await client.place_order(limit("ETHUSDT", "BUY", "0.01", price))
        other = await client.place_order(limit("BTCUSDT", "BUY", "0.001", "90000"))
        app = make_app(fresh_account, symbol="ETHUSDT")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_for(pilot, lambda: len(app.state.open_orders) == 3, what="three orders")
            await pilot.press("C")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
            assert "2 open order(s) on ETHUSDT" in str(app.screen.query_one("#confirm-body").render())
            await pilot.press("y")
            await wait_for(pilot, lambda: len(app.state.open_orders) == 1, what="ETH orders gone")
            remaining = await client.open_orders()
            assert [o.client_order_id for o in remaining] == [other.client_order_id]


async def test_rejected_order_shows_the_reason(fresh_account: PaperAccount) -> None:
    app = make_app(fresh_account, symbol="BTCUSDT")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.trading.submit_order(limit("BTCUSDT", "BUY", "10", "94000"))  # 940,000 USDT: far more than we have
        await wait_for(pilot, lambda: any("Order rejected" in n for n in notifications(app)), what="rejection")
        text = next(n for n in notifications(app) if "Order rejected" in n)
        assert "insufficient balance" in text
        assert app.state.open_orders == ()


async def test_read_only_key_cannot_open_the_order_form(fresh_account: PaperAccount) -> None:
    app = make_app(fresh_account, key="read")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.permissions == {"READ"}, what="permissions")
        depth = len(app.screen_stack)
        await pilot.press("b")
        await pilot.pause(0.1)
        assert len(app.screen_stack) == depth
        assert any("no TRADE permission" in n for n in notifications(app))
        await pilot.press("w")
        await pilot.pause(0.1)
        assert len(app.screen_stack) == depth
        assert any("no WITHDRAW permission" in n for n in notifications(app))


async def test_exchange_outage_degrades_then_recovers_without_restart(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "paper"
    exchange = start_paper_exchange(data, port=port, market=False)
    try:
        app = make_app(exchange, symbol="BTCUSDT")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_for(pilot, lambda: app.status_info().connection == "live", what="live")
            exchange.stop()
            await wait_for(pilot, lambda: app.status_info().connection == "down", what="down")
            info = app.status_info()
            assert info.last_error == "exchange unreachable"
            await wait_for(pilot, lambda: app.dashboard.book._view is not None and app.dashboard.book._view.stale,
                           what="book marked stale")
            exchange = start_paper_exchange(data, port=port, market=False)
            await wait_for(pilot, lambda: app.status_info().connection == "live", timeout=40, what="recovery")
            assert not app.dashboard.book._view.stale  # type: ignore[union-attr]
    finally:
        exchange.stop()


async def test_fill_of_a_resting_order_notifies_and_rings_once(fresh_account: PaperAccount) -> None:
    async with client_for(fresh_account) as client:
        resting = await client.place_order(limit("ETHUSDT", "BUY", "0.05", "3000"))
        app = make_app(fresh_account, symbol="ETHUSDT")
        bells: list[None] = []
        async with app.run_test(size=SIZE) as pilot:
            app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
            await ready(pilot)
            await wait_for(pilot, lambda: resting.client_order_id in app.dashboard.open_orders.orders,
                           what="resting order listed")
            # Someone else (here: the same account from another client) sells into it.
            await client.place_order(market("ETHUSDT", "SELL", "0.05"))
            await wait_for(pilot, lambda: any(n.startswith("Order filled") for n in notifications(app)),
                           what="fill notification")
            text = next(n for n in notifications(app) if n.startswith("Order filled"))
            assert "Bought 0.0500 ETH at 3,000.00 USDT (ETHUSDT)" in text, text  # as the panes show them
            assert len(bells) == 1
            await wait_for(pilot, lambda: resting.client_order_id not in app.dashboard.open_orders.orders,
                           what="order gone from open orders")
            assert any(f.is_buyer and f.order_id == resting.order.order_id
                       for f in app.dashboard.fills.fills.values())
            await pilot.pause(1.0)
            assert len(bells) == 1  # announced once, not on every poll
