"""P&L from fills: average cost, realized/unrealized, fees in every asset, several quotes."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest

from btx_tui.api.models_trading import MyTrade
from btx_tui.api.pnl import Prices, SessionPnl, compute_pnl

MARKETS = {"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT"), "ETHBTC": ("ETH", "BTC"),
           "BNBUSDT": ("BNB", "USDT"), "XYZABC": ("XYZ", "ABC")}
_ids = itertools.count(1)


def fill(symbol: str, buy: bool, price: str, qty: str, fee: str = "0", fee_asset: str | None = None) -> MyTrade:
    n = next(_ids)
    p, q = D(price), D(qty)
    return MyTrade(symbol=symbol, id=n, order_id=n, price=p, qty=q, quote_qty=p * q, commission=D(fee),
                   commission_asset=fee_asset or MARKETS[symbol][1], time=1000 + n, is_buyer=buy,
                   is_maker=False)


def pnl(trades: list[MyTrade], last: dict[str, str]):
    lastd = {k: D(v) for k, v in last.items()}
    return compute_pnl(trades, MARKETS, Prices(lastd, MARKETS), lastd)


def test_two_buys_average_then_a_partial_sell_realizes_against_the_average() -> None:
    r = pnl([fill("BTCUSDT", True, "100", "1"), fill("BTCUSDT", True, "200", "1"),
             fill("BTCUSDT", False, "300", "0.5")], {"BTCUSDT": "250"})
    p = r.markets["BTCUSDT"]
    assert p.qty == D("1.5") and p.avg_cost == D("150") and p.cost == D("225")
    assert p.realized == D("75")  # 0.5 × (300 − 150)
    assert p.unrealized == D("150")  # 1.5 × 250 − 225
    assert (r.total_realized, r.total_unrealized, r.total) == (D("75"), D("150"), D("225"))
    assert r.assets["BTC"].avg_cost == D("150")


def test_fee_in_base_on_a_buy_raises_the_cost_per_unit() -> None:
    r = pnl([fill("BTCUSDT", True, "100", "1", "0.001", "BTC")], {"BTCUSDT": "100"})
    p = r.markets["BTCUSDT"]
    assert p.qty == D("0.999") and p.cost == D("100")
    assert p.unrealized == D("-0.1")  # 0.999 × 100 − 100
    assert p.fees_in_quote == D("0.1")


def test_fee_in_quote_adds_to_cost_and_lowers_proceeds() -> None:
    r = pnl([fill("ETHUSDT", True, "2000", "1", "2", "USDT"), fill("ETHUSDT", False, "2100", "1", "2.1", "USDT")],
            {"ETHUSDT": "2100"})
    p = r.markets["ETHUSDT"]
    assert p.qty == 0 and p.cost == 0 and p.avg_cost is None
    assert p.realized == D("2100") - D("2.1") - D("2002")  # 95.9
    assert p.unrealized == 0 and p.fees_in_quote == D("4.1")


def test_fee_in_base_on_a_sell_shrinks_the_position_and_is_a_realized_loss() -> None:
    r = pnl([fill("BTCUSDT", True, "100", "2"), fill("BTCUSDT", False, "100", "1", "0.01", "BTC")],
            {"BTCUSDT": "100"})
    p = r.markets["BTCUSDT"]
    assert p.qty == D("0.99") and p.realized == D("-1")  # proceeds 100 − basis 1.01 × 100


def test_fee_in_a_third_asset_is_valued_at_the_last_price_or_listed_when_it_cannot_be() -> None:
    r = pnl([fill("BTCUSDT", True, "100", "1", "0.01", "BNB"), fill("BTCUSDT", False, "110", "1", "0.01", "BNB")],
            {"BTCUSDT": "110", "BNBUSDT": "500"})
    p = r.markets["BTCUSDT"]
    assert p.realized == D("110") - D("5") - D("105")  # cost 100 + 5, proceeds 110 − 5
    assert p.fees_in_quote == D("10") and r.unvalued_fees == {}
    r2 = pnl([fill("BTCUSDT", True, "100", "1", "3", "CAKE")], {"BTCUSDT": "100"})
    assert r2.unvalued_fees == {"CAKE": D("3")} and r2.markets["BTCUSDT"].cost == D("100")


def test_several_quote_markets_are_exact_in_their_quote_and_valued_in_usdt_at_last_prices() -> None:
    r = pnl([fill("ETHBTC", True, "0.05", "2"), fill("ETHBTC", False, "0.06", "1"),
             fill("ETHUSDT", True, "2000", "1")],
            {"ETHBTC": "0.055", "BTCUSDT": "40000", "ETHUSDT": "2200"})
    eb = r.markets["ETHBTC"]
    assert (eb.qty, eb.cost, eb.realized, eb.unrealized) == (D("1"), D("0.05"), D("0.01"), D("0.005"))
    assert r.total_realized == D("0.01") * 40000  # 400 USDT
    assert r.total_unrealized == D("0.005") * 40000 + D("200")
    eth = r.assets["ETH"]
    assert eth.qty == D("2") and eth.avg_cost == (D("0.05") * 40000 + D("2000")) / 2
    assert eth.realized == D("400") and eth.unrealized == D("400")


def test_an_unvaluable_quote_is_left_out_of_the_totals_and_named() -> None:
    r = pnl([fill("XYZABC", True, "1", "5"), fill("BTCUSDT", True, "100", "1")], {"XYZABC": "2", "BTCUSDT": "90"})
    assert r.unvalued == ["XYZABC"] and r.markets["XYZABC"].unrealized == D("5")
    assert r.total_unrealized == D("-10")


def test_selling_coins_the_fills_never_bought_realizes_nothing_for_them() -> None:
    r = pnl([fill("BTCUSDT", True, "100", "1"), fill("BTCUSDT", False, "150", "3")], {"BTCUSDT": "150"})
    p = r.markets["BTCUSDT"]
    assert p.untracked_sold == D("2") and p.qty == 0 and p.realized == D("50")


def test_trades_apply_in_time_order_whatever_order_they_come_in() -> None:
    a, b, c = fill("BTCUSDT", True, "100", "1"), fill("BTCUSDT", True, "200", "1"), fill("BTCUSDT", False, "300", "1")
    assert pnl([c, b, a], {"BTCUSDT": "1"}).markets["BTCUSDT"].realized == D("150")


def test_session_pnl_is_the_change_of_the_total_since_the_snapshot() -> None:
    trades = [fill("BTCUSDT", True, "100", "1")]
    start = pnl(trades, {"BTCUSDT": "110"})
    session = SessionPnl(start)
    later = pnl(trades + [fill("BTCUSDT", False, "130", "0.5")], {"BTCUSDT": "120"})
    # then: unrealized 10; now: realized 15 + unrealized 0.5 × 120 − 50 = 10 → 25
    assert session.since_start(later) == D("15")
    with pytest.raises(ValueError):
        session.since_start(compute_pnl([], MARKETS, Prices({}, MARKETS), {}, valuation="BTC"))


def test_prices_convert_directly_inversely_and_through_one_asset() -> None:
    pr = Prices({"ETHBTC": D("0.05"), "BTCUSDT": D("40000")}, MARKETS)
    assert pr.rate("ETH", "USDT") == D("2000.00")
    assert pr.rate("USDT", "BTC") == 1 / D("40000")
    assert pr.rate("XYZ", "USDT") is None
