"""The synthetic market: deterministic for a seed, alive, and it fills users' orders."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.state.trading import OrderRequest
from btx_tui.exchange.synthetic_market import LEVELS_PER_SIDE, SyntheticMarket


class Clock:
    """A fake clock: each step of the market is 250 ms later."""

    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


def run_market(data_dir: Path, seed: int, steps: int) -> tuple[Exchange, SyntheticMarket, Clock]:
    clock = Clock()
    ex = Exchange.open(data_dir, clock=clock)
    market = SyntheticMarket(ex, seed)
    market.setup()
    for _ in range(steps):
        clock.now += 250
        market.step()
    return ex, market, clock


def fingerprint(ex: Exchange) -> tuple:
    return tuple((s, tuple((t["price"], t["qty"]) for t in ex.market_data.trades(s, 50)), str(ex.market_data.depth(s, 10)))
                 for s in ("BTCUSDT", "BTTUSDT", "ETHBTC"))


def test_same_seed_same_market_and_different_seed_differs(tmp_path: Path) -> None:
    a, _, _ = run_market(tmp_path / "a", seed=7, steps=40)
    b, _, _ = run_market(tmp_path / "b", seed=7, steps=40)
    c, _, _ = run_market(tmp_path / "c", seed=8, steps=40)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)
    for ex in (a, b, c):
        ex.check_invariants()
        ex.close()


def test_every_market_has_a_deep_book_and_trades(tmp_path: Path) -> None:
    ex, _, _ = run_market(tmp_path, seed=1, steps=20)
    for symbol in ex.symbols:
        book = ex.market_data.depth(symbol, 100)
        assert len(book["bids"]) >= 25 and len(book["asks"]) >= 25, symbol
        assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0]), symbol
        assert ex.market_data.trades(symbol, 5), f"{symbol} never traded"
    assert LEVELS_PER_SIDE >= 25
    ex.check_invariants()
    ex.close()


def test_a_users_best_bid_is_filled_by_the_market(tmp_path: Path) -> None:
    ex, market, clock = run_market(tmp_path, seed=3, steps=4)
    user = ex.accounts.demo_account_id
    spec = ex.symbols["ETHUSDT"]
    best_bid = Decimal(ex.market_data.depth("ETHUSDT", 1)["bids"][0][0])
    price = best_bid + spec.tick_size  # alone at the top of the book: the next seller hits it
    placed = ex.trading.place_order(user, OrderRequest(
        symbol="ETHUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=Decimal("0.01"),
        quote_order_qty=None, price=price, new_client_order_id="user-bid", resp_type="ACK"))
    for _ in range(400):
        clock.now += 250
        market.step()
        order = ex.orders.get_order(user, "ETHUSDT", placed["orderId"], None)
        if order["status"] == "FILLED":
            break
    assert order["status"] == "FILLED", order
    fills = ex.orders.my_trades(user, "ETHUSDT", placed["orderId"], None, None, None, 10)
    assert sum(Decimal(t["qty"]) for t in fills) == Decimal("0.01")
    assert all(Decimal(t["price"]) == price and t["isMaker"] for t in fills)
    ex.check_invariants()
    ex.close()
