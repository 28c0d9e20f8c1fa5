"""Paper exchange hygiene: the synthetic market's old rows are pruned, a user's never are."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from btx_tui.exchange.state.backfill import backfill_history
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.state.hygiene import ORDER_RETENTION_MS, TRADES_PER_MARKET
from btx_tui.exchange.state.trading import OrderRequest
from btx_tui.exchange.synthetic_market import PRUNE_EVERY_STEPS, SyntheticMarket

START = 1_796_000_000_000


def order(symbol: str, side: str, kind: str, qty: str, price: Decimal | None = None,
          cid: str | None = None) -> OrderRequest:
    return OrderRequest(symbol=symbol, side=side, type=kind, time_in_force="GTC" if kind == "LIMIT" else None,
                        quantity=Decimal(qty), quote_order_qty=None, price=price,
                        new_client_order_id=cid, resp_type="ACK")


def users_records(ex: Exchange, user: int) -> tuple:
    out = []
    for sym in ("ETHUSDT", "BTCUSDT"):
        out.append(ex.orders.all_orders(user, sym, None, None, None, 1000))
        out.append(ex.orders.my_trades(user, sym, None, None, None, None, 1000))
    return tuple(out)


@pytest.mark.long
def test_pruning_keeps_every_user_record_and_every_statistic(tmp_path: Path) -> None:
    clock = [START]
    ex = Exchange.open(tmp_path / "x", clock=lambda: clock[0])
    backfill_history(ex.store, ex.counters, ex.symbols, ex.now_ms(), 1, days=1)
    ex.market_data.load()
    market = SyntheticMarket(ex, 1)
    market.setup()
    market.prune = lambda: None  # type: ignore[method-assign,assignment,return-value]  # prune by hand below

    def run(steps: int) -> None:
        for _ in range(steps):
            clock[0] += 250
            market.step()

    run(8)
    user = ex.accounts.demo_account_id
    # A user's market orders (fills against the market maker), a cancelled and a filled limit order.
    ex.trading.place_order(user, order("ETHUSDT", "BUY", "MARKET", "0.05"))
    ex.trading.place_order(user, order("BTCUSDT", "SELL", "MARKET", "0.001"))
    far = ex.trading.place_order(user, order("ETHUSDT", "BUY", "LIMIT", "0.10", Decimal("1000.00"), "far"))
    ex.trading.cancel_order(user, "ETHUSDT", far["orderId"], None, None)
    bid = Decimal(ex.market_data.depth("ETHUSDT", 1)["bids"][0][0]) + ex.symbols["ETHUSDT"].tick_size
    resting = ex.trading.place_order(user, order("ETHUSDT", "BUY", "LIMIT", "0.01", bid, "top"))
    run(400)  # 100 s of market: the user's bid is hit, thousands of bot orders come and go
    assert ex.orders.get_order(user, "ETHUSDT", resting["orderId"], None)["status"] == "FILLED"
    mine = users_records(ex, user)
    assert len(mine[0]) + len(mine[2]) == 4 and len(mine[1]) + len(mine[3]) >= 3  # 4 orders, 3+ fills
    bots = [market._mm_account, market._taker_account]
    orders_before = ex.store.scalar("SELECT COUNT(*) FROM orders")
    stats_before = (ex.market_data.ticker_24hr(None), ex.market_data.avg_price("ETHUSDT"),
                    ex.market_data.klines("ETHUSDT", "1m", None, None, 1000),
                    ex.market_data.klines("BTCUSDT", "1h", None, None, 100))

    pruned = market.__class__.prune(market)

    assert pruned.orders > 0 and pruned.trades > 0
    assert users_records(ex, user) == mine  # not one of the user's rows changed
    assert (ex.market_data.ticker_24hr(None), ex.market_data.avg_price("ETHUSDT"),
            ex.market_data.klines("ETHUSDT", "1m", None, None, 1000),
            ex.market_data.klines("BTCUSDT", "1h", None, None, 100)) == stats_before
    assert ex.store.scalar("SELECT COUNT(*) FROM orders") == orders_before - pruned.orders
    old_closed = ex.store.scalar(
        f"SELECT COUNT(*) FROM orders WHERE account_id IN ({bots[0]}, {bots[1]}) AND is_open = 0"
        " AND update_time < ?", (clock[0] - ORDER_RETENTION_MS,))
    assert old_closed == 0
    for sym in ex.symbols:
        # Beyond the newest TRADES_PER_MARKET, only trades with a user or a still-stored order remain.
        cutoff = ex.store.scalar("SELECT time FROM trades WHERE symbol = ? ORDER BY time DESC LIMIT 1 OFFSET ?",
                                 (sym, TRADES_PER_MARKET - 1))
        if cutoff is None:
            continue
        leftovers = ex.store.trades("symbol = ? AND time < ?", (sym, cutoff))
        stored = {r[0] for r in ex.store.db.execute("SELECT order_id FROM orders")}
        for t in leftovers:
            assert user in (t.buyer_account, t.seller_account) or {t.buyer_order_id, t.seller_order_id} & stored
    assert len(ex.market_data.trades("ETHUSDT", 1000)) >= TRADES_PER_MARKET
    ex.check_invariants()  # executedQty == Σ fills for every remaining order, books == open orders

    run(40)  # the market goes on trading after a prune
    ex.check_invariants()
    ex.close()


def test_the_running_market_prunes_itself(tmp_path: Path) -> None:
    clock = [START]
    ex = Exchange.open(tmp_path / "x", clock=lambda: clock[0])
    market = SyntheticMarket(ex, 2)
    market.setup()
    counts = []
    for i in range(1, 3 * PRUNE_EVERY_STEPS + 1):
        clock[0] += 250
        market.step()
        if i % PRUNE_EVERY_STEPS == 0:
            counts.append(ex.store.scalar("SELECT COUNT(*) FROM orders"))
    # 30 s of re-quotes per prune: the order table stops growing after the first prune.
    assert counts[2] < counts[0] * 1.5, counts
    assert ex.store.scalar("SELECT COUNT(*) FROM orders WHERE is_open = 0 AND update_time < ?",
                           (clock[0] - ORDER_RETENTION_MS - PRUNE_EVERY_STEPS * 250,)) == 0
    ex.check_invariants()
    ex.close()
