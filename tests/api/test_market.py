"""Pure market-data views: cumulative depth, spread, grouping, tickers, tape, chart."""

from decimal import Decimal

from btx_tui.api.book_views import book_view, chart_view, group_levels, grouping_steps, tape, ticker_set
from btx_tui.api.models import Depth, Kline, PriceLevel, Ticker24h, Trade

D = Decimal
DEPTH = Depth.model_validate({"lastUpdateId": 9,
                              "bids": [["100.05", "1"], ["100.01", "2"], ["99.97", "3"]],
                              "asks": [["100.15", "1.5"], ["100.19", "0.5"], ["100.31", "4"]]})


def test_book_view_cumulative_and_spread() -> None:
    v = book_view(DEPTH, "X")
    assert [lvl.cumulative_qty for lvl in v.bids] == [D(1), D(3), D(6)]
    assert v.bids[1].cumulative_quote == D("100.05") + D("200.02")
    assert (v.best_bid, v.best_ask, v.spread) == (D("100.05"), D("100.15"), D("0.10"))
    assert v.mid == D("100.10") and v.spread_pct == D("0.0999")
    assert v.max_cumulative_qty == D(6)


def test_grouping_buckets_bids_down_and_asks_up() -> None:
    bids = group_levels(DEPTH.bids, D("0.1"), bids=True)
    assert [(lvl.price, lvl.qty) for lvl in bids] == [(D("100.0"), D(3)), (D("99.9"), D(3))]
    asks = group_levels(DEPTH.asks, D("0.1"), bids=False)
    assert [(lvl.price, lvl.qty) for lvl in asks] == [(D("100.2"), D(2)), (D("100.4"), D(4))]
    v = book_view(DEPTH, "X", group_step=D("0.1"), levels=1)
    assert len(v.bids) == 1 and v.best_bid == D("100.05")  # spread from the raw book


def test_grouping_steps() -> None:
    assert grouping_steps(D("0.01"), 3) == (D("0.01"), D("0.10"), D("1.00"))


def test_empty_book_has_no_spread() -> None:
    v = book_view(Depth(last_update_id=1, bids=(), asks=(PriceLevel(price=D(1), qty=D(1)),)), "X")
    assert v.spread is None and v.spread_pct is None and v.best_ask == D(1)


def _ticker(symbol: str) -> Ticker24h:
    z = "0"
    return Ticker24h.model_validate({"symbol": symbol, "priceChange": z, "priceChangePercent": z,
                                     "weightedAvgPrice": z, "lastPrice": "1", "openPrice": z, "highPrice": z,
                                     "lowPrice": z, "volume": z, "quoteVolume": z, "openTime": 0,
                                     "closeTime": 0, "firstId": 0, "lastId": 0, "count": 0})


def test_ticker_set_keeps_watchlist_order_and_reports_missing() -> None:
    s = ticker_set([_ticker("B"), _ticker("A")], ["A", "C", "B"])
    assert [t.symbol for t in s.tickers] == ["A", "B"] and s.missing == ("C",)
    assert s.get("B") is not None and s.get("C") is None


def test_tape_newest_first_with_aggressor_side() -> None:
    trades = [Trade(id=i, price=D(1), qty=D(1), quote_qty=D(1), time=i, is_buyer_maker=i % 2 == 0)
              for i in range(1, 4)]
    rows = tape(trades, limit=2)
    assert [(r.id, r.side) for r in rows] == [(3, "BUY"), (2, "SELL")]


def test_chart_ranges() -> None:
    ks = [Kline.model_validate([t, "1", h, lo, "1", v, t + 59, "0", 1, "0", "0", "0"])
          for t, h, lo, v in [(60, "5", "2", "7"), (0, "3", "1", "9")]]
    c = chart_view("X", "1m", ks)
    assert [k.open_time for k in c.candles] == [0, 60]
    assert (c.low, c.high, c.max_volume) == (D(1), D(5), D(9))
