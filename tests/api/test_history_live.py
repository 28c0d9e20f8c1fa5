"""P&L and CSV export against the real paper exchange, with real fills from its synthetic market."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import SecretStr

from btx_tui.api.client import BtxClient
from btx_tui.api.export import FILL_COLUMNS, ORDER_COLUMNS, write_fills_csv
from btx_tui.api.history import fetch_fills, fetch_orders, fetch_pnl
from btx_tui.api.orders import OrderRequest
from btx_tui.cli import main
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

SYMBOLS = ("ETHUSDT", "BTCUSDT", "ETHBTC")


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PaperExchange, dict]]:
    """A market-running exchange where the demo account bought and sold on three markets."""
    ex = start_paper_exchange(tmp_path_factory.mktemp("history") / "paper", seed=11)

    async def trade() -> dict:
        key, secret = ex.key("full")
        async with BtxClient(ex.base_url, key, SecretStr(secret), trust_env=False) as c:
            before = (await c.account()).free()
            for req in (OrderRequest("ETHUSDT", "BUY", "MARKET", quantity=D("0.0500")),
                        OrderRequest("ETHUSDT", "BUY", "MARKET", quantity=D("0.0300")),
                        OrderRequest("ETHUSDT", "SELL", "MARKET", quantity=D("0.0200")),
                        OrderRequest("BTCUSDT", "BUY", "MARKET", quote_order_qty=D("150.00")),
                        OrderRequest("ETHBTC", "BUY", "MARKET", quantity=D("0.0400")),
                        OrderRequest("ETHBTC", "SELL", "MARKET", quantity=D("0.0100"))):
                await c.place_order(req)
            price = (await c.ticker_price("ETHUSDT")).price
            await c.place_order(OrderRequest("ETHUSDT", "BUY", "LIMIT", quantity=D("0.0100"),
                                             price=(price / 2).quantize(D("0.01"))))  # stays open
            after = (await c.account()).free()
            return {"before": before, "after": after}

    balances = asyncio.run(trade())
    try:
        yield ex, balances
    finally:
        ex.stop()


def client(ex: PaperExchange) -> BtxClient:
    key, secret = ex.key("full")
    return BtxClient(ex.base_url, key, SecretStr(secret), trust_env=False)


def test_pnl_of_real_fills_matches_the_balances_they_moved(traded: tuple[PaperExchange, dict]) -> None:
    ex, bal = traded

    async def go():  # type: ignore[no-untyped-def]
        async with client(ex) as c:
            report = await fetch_pnl(c, SYMBOLS)
            fills = await fetch_fills(c, SYMBOLS)
            return report, fills

    report, fills = asyncio.run(go())
    assert {f.symbol for f in fills} == set(SYMBOLS)
    for sym in SYMBOLS:
        pos = report.markets[sym]
        mine = [f for f in fills if f.symbol == sym]
        # What the fills moved in the market's quote: proceeds net of quote fees minus what buys paid.
        quote_flow = sum((f.quote_qty - (f.commission if f.commission_asset == pos.quote else 0)) if not f.is_buyer
                         else -f.quote_qty for f in mine)
        assert pos.realized - pos.cost == quote_flow, sym
        base_flow = sum((f.qty - (f.commission if f.commission_asset == pos.base else 0)) if f.is_buyer
                        else -f.qty for f in mine)
        assert pos.qty == base_flow and pos.untracked_sold == 0, sym
        assert pos.avg_cost is not None and pos.avg_cost > 0 and pos.unrealized is not None
    # ETH was traded against USDT and BTC: the ETH balance moved by exactly the two positions.
    d_eth = bal["after"]["ETH"] - bal["before"]["ETH"]
    assert d_eth == report.markets["ETHUSDT"].qty + report.markets["ETHBTC"].qty == report.assets["ETH"].qty
    assert report.total == report.total_realized + report.total_unrealized and report.unvalued == []


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _ms(iso: str) -> int:
    when = datetime.fromisoformat(iso)
    assert when.tzinfo is not None, iso
    return round(when.timestamp() * 1000)


def test_cli_exports_exactly_what_mytrades_and_allorders_say(
        traded: tuple[PaperExchange, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ex, _ = traded
    key, secret = ex.key("full")
    monkeypatch.setenv("BTX_BASE_URL", ex.base_url)
    monkeypatch.setenv("BTX_API_KEY", key)
    monkeypatch.setenv("BTX_API_SECRET", secret)

    async def truth():  # type: ignore[no-untyped-def]
        async with client(ex) as c:
            return ([t for s in SYMBOLS for t in await c.my_trades(s)],
                    [o for s in SYMBOLS for o in await c.all_orders(s)])

    trades, orders = asyncio.run(truth())
    orders.sort(key=lambda o: (o.time, o.symbol, o.order_id))  # the export is one timeline
    out = tmp_path / "fills.csv"
    with pytest.raises(SystemExit) as done:
        main(["export", "fills", "--since", "2000-01-01", "--symbol", "ETHUSDT,BTCUSDT", "--symbol", "ETHBTC",
              "--out", str(out), "--tz", "Europe/Berlin"])
    assert done.value.code == 0
    text = out.read_text()
    assert text.splitlines()[0] == ",".join(FILL_COLUMNS)
    rows = _rows(text)
    assert len(rows) == len(trades) >= 6
    assert [_ms(r["time"]) for r in rows] == sorted(t.time for t in trades)
    by_id = {(t.symbol, t.id): t for t in trades}
    for r in rows:
        t = by_id[(r["symbol"], int(r["trade_id"]))]
        assert r["time"].endswith(("+01:00", "+02:00")) and _ms(r["time"]) == t.time
        assert (D(r["price"]), D(r["qty"]), D(r["quote_qty"]), D(r["commission"])) == (
            t.price, t.qty, t.quote_qty, t.commission)
        assert r["price"] == format(t.price, "f") and "E" not in r["commission"]  # exact digits, no exponent
        assert r["side"] == ("BUY" if t.is_buyer else "SELL") and r["commission_asset"] == t.commission_asset
        assert int(r["order_id"]) == t.order_id

    with pytest.raises(SystemExit) as done:
        main(["export", "orders", "--symbol", "ETHUSDT,BTCUSDT,ETHBTC", "--tz", "UTC"])
    assert done.value.code == 0
    printed = capsys.readouterr()
    rows = _rows(printed.out)
    assert printed.out.splitlines()[0] == ",".join(ORDER_COLUMNS)
    assert f"wrote {len(orders)} orders" in printed.err
    assert [(r["symbol"], int(r["order_id"])) for r in rows] == [(o.symbol, o.order_id) for o in orders]
    for r, o in zip(rows, orders):
        assert r["time"].endswith("+00:00") and _ms(r["time"]) == o.time and _ms(r["update_time"]) == o.update_time
        assert (r["status"], r["side"], r["type"]) == (o.status, o.side, o.type)
        assert (D(r["orig_qty"]), D(r["executed_qty"]), D(r["cummulative_quote_qty"])) == (
            o.orig_qty, o.executed_qty, o.cummulative_quote_qty)
    assert {r["status"] for r in rows} == {"FILLED", "NEW"}

    with pytest.raises(SystemExit) as done:  # nothing after the future date: the header alone
        main(["export", "fills", "--since", "2999-01-01", "--symbol", "ETHUSDT", "--out", str(out)])
    assert done.value.code == 0 and out.read_text() == ",".join(FILL_COLUMNS) + "\n"


def test_bad_export_arguments_are_clear_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                traded: tuple[PaperExchange, dict],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    ex, _ = traded
    key, secret = ex.key("full")
    monkeypatch.setenv("BTX_BASE_URL", ex.base_url)
    monkeypatch.setenv("BTX_API_KEY", key)
    monkeypatch.setenv("BTX_API_SECRET", secret)
    out = tmp_path / "x.csv"
    for argv, message in ((["export", "fills", "--since", "yesterday"], "expected a date"),
                          (["export", "fills", "--symbol", "NOPEUSDT", "--out", str(out)], "unknown market"),
                          (["export", "orders", "--tz", "Mars/Olympus"], "unknown time zone")):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
        assert message in capsys.readouterr().err
    assert not out.exists()


def test_fetch_walks_every_page(traded: tuple[PaperExchange, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    ex, _ = traded
    import btx_tui.api.history as history

    monkeypatch.setattr(history, "PAGE", 2)  # three pages of fills, like 1000-row pages would

    async def go():  # type: ignore[no-untyped-def]
        async with client(ex) as c:
            paged = await fetch_fills(c, ["ETHUSDT"])
            orders = await fetch_orders(c, ["ETHUSDT"])
            return paged, list(await c.my_trades("ETHUSDT")), orders, list(await c.all_orders("ETHUSDT"))

    paged, whole, orders, all_orders = asyncio.run(go())
    assert len(whole) > 2 and paged == whole and orders == all_orders
    buf = io.StringIO()
    assert write_fills_csv(paged, buf) == len(whole)
