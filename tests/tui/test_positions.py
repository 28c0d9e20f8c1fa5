"""The positions tab and the session P&L in the status bar, against a real paper exchange.

The account buys BTC, then sells part of it at another price, after the app started. Self-trades
cannot do this (each is a buy and a sell of the same coins at one price, which leaves no
position), so this exchange runs its synthetic market: the account trades with its traders.
The tab must show the average cost and realized P&L the service layer computes from the same
fills, and the status bar the P&L since launch.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from btx_tui.api.history import fetch_pnl
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange
from btx_tui.tui.widgets.positions import TOTAL_KEY, fmt_money

from .harness import client_for, make_app, market, ready, wait_for
from .table_lines import row_line


@pytest.fixture
def market_exchange(tmp_path: Path) -> Iterator[PaperExchange]:
    """A paper exchange of the test's own whose synthetic traders make a market."""
    ex = start_paper_exchange(tmp_path / "paper", market=True, seed=1)
    try:
        yield ex
    finally:
        ex.stop()


async def test_positions_show_average_cost_and_realized_pnl(market_exchange: PaperExchange) -> None:
    fresh_exchange = market_exchange
    app = make_app(fresh_exchange, symbol="BTCUSDT", prices_interval_s=1, history_interval_s=1)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.state.session_pnl is not None, what="fill history loaded")
        assert app.state.session_pnl == 0  # nothing traded since launch (prices may move)
        held_before = app.state.pnl.assets.get("BTC")
        assert held_before is None  # no BTC fills before the test's
        async with client_for(fresh_exchange) as client:
            await client.place_order(market("BTCUSDT", "BUY", "0.02"))
            await client.place_order(market("BTCUSDT", "SELL", "0.005"))
            expected = await fetch_pnl(client, ["BTCUSDT"])
        await wait_for(pilot, lambda: app.state.pnl is not None and "BTC" in app.state.pnl.assets
                       and app.state.pnl.markets["BTCUSDT"].sold == expected.markets["BTCUSDT"].sold,
                       what="every fill in the P&L")
        btc = expected.assets["BTC"]
        assert btc.realized != 0 and btc.avg_cost is not None  # the scenario realizes something
        assert app.state.pnl.assets["BTC"].avg_cost == btc.avg_cost
        assert app.state.pnl.assets["BTC"].realized == btc.realized
        app.dashboard.query_one(TabbedContent).active = "tab-positions"
        await pilot.pause(0.3)
        table = app.dashboard.positions
        shown = table.report  # the report on screen: its last price is the one in the row
        assert shown is not None
        last = shown.markets["BTCUSDT"].last_price
        line = row_line(table, "BTC").split()
        assert line[0] == "BTC"
        assert btc.qty == Decimal("0.01498")  # 0.02 bought less its 0.1 % fee in BTC, 0.005 sold
        assert line[1] == "0.01498"  # on BTCUSDT's step (0.00001)
        assert line[2] == f"{btc.avg_cost:,.2f}"  # on BTCUSDT's tick
        assert line[3] == f"{last:,.2f}"
        assert line[4] == fmt_money(shown.assets["BTC"].unrealized)
        assert line[5] == fmt_money(btc.realized)
        total = row_line(table, TOTAL_KEY).split()
        assert total[:2] == ["Total", "USDT"]
        assert total[-1] == fmt_money(expected.total_realized)
        assert total[-2] == fmt_money(shown.total_unrealized)
        # The status bar: the P&L since launch, what the store computed from the same report.
        status = app.dashboard.status_bar.render_info(app.status_info())
        assert f"P&L {fmt_money(app.state.session_pnl)}" in status.plain
        assert app.state.session_pnl != 0


async def test_the_status_bar_shows_the_session_pnl_coloured_and_drops_it_first() -> None:
    from btx_tui.tui.widgets.status_bar import StatusBar, StatusInfo

    from .fakes import fake_app

    app = fake_app()
    async with app.run_test(size=(80, 24)):
        bar = app.dashboard.query_one(StatusBar)
        info = StatusInfo(exchange="PAPER", paper=True, connection="live", latency_ms=12.0, data_age_s=1.0,
                          clock_offset_ms=0, permissions=frozenset({"READ", "TRADE", "WITHDRAW"}),
                          session_pnl=Decimal("1234.567"))
        up = bar.render_info(info)
        assert "P&L +1,234.57" in up.plain
        span = next(s for s in up.spans if up.plain[s.start:s.end] == "+1,234.57")
        assert span.style == bar._style("ok")
        down = bar.render_info(StatusInfo(**{**info.__dict__, "session_pnl": Decimal("-0.5")}))
        span = next(s for s in down.spans if down.plain[s.start:s.end] == "-0.50")
        assert span.style == bar._style("bad")
        assert "P&L -0.00" not in bar.render_info(StatusInfo(**{**info.__dict__, "session_pnl": Decimal("-0.001")})).plain
        # Narrower: the P&L goes before anything else does (the permissions stay whole).
        width = len(up.plain) - 1
        fitted = bar.render_info(info, width).plain
        assert "P&L" not in fitted and "READ TRADE WITHDRAW" in fitted and "clock" in fitted
