"""Tests of the integer matching engine: hand-written scenarios plus a stateful
Hypothesis test that replays random order flow against a naive reference model."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from btx_tui.exchange.state.matching import (
    BUY, EXPIRED, FILLED, FOK, GTC, IOC, LIMIT, LIMIT_MAKER, MARKET, NEW,
    PARTIALLY_FILLED, REJECTED, SELL, WOULD_TAKE, Fill, Order, OrderBook,
)

# --------------------------------------------------------------------- helpers


class Ids:
    """Hands out order ids."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


@pytest.fixture
def book() -> OrderBook:
    return OrderBook("BTCUSDT")


@pytest.fixture
def ids() -> Ids:
    return Ids()


def limit(book: OrderBook, ids: Ids, side: str, price: int, qty: int, tif: str = GTC, acct: int = 1):
    order = Order(ids(), acct, side, price, qty)
    return order, book.submit(order, LIMIT, tif)


def ladder(book: OrderBook, ids: Ids) -> None:
    """Asks 101x2, 101x3, 102x5, 103x10; bids 99x4, 98x6 (account 9)."""
    for side, price, qty in [
        (SELL, 101, 2), (SELL, 101, 3), (SELL, 102, 5), (SELL, 103, 10),
        (BUY, 99, 4), (BUY, 98, 6),
    ]:
        limit(book, ids, side, price, qty, acct=9)


def fill_tuples(fills: list[Fill]) -> list[tuple[int, int, int, bool]]:
    return [(f.price, f.qty, f.maker_order_id, f.maker_done) for f in fills]


# ------------------------------------------------------------------ unit tests


def test_resting_limit_is_new_and_visible(book, ids):
    order, res = limit(book, ids, BUY, 100, 3)
    assert (res.status, res.rested, res.fills, res.reject_reason) == (NEW, True, [], None)
    assert book.get(order.order_id) is order
    assert book.best_bid() == 100 and book.best_ask() is None
    assert book.depth(5) == ([(100, 3)], [])
    assert order.seq == 1


def test_limit_buy_walks_levels_at_maker_prices_and_never_through_limit(book, ids):
    ladder(book, ids)
    taker, res = limit(book, ids, BUY, 102, 20, acct=2)
    # 101 level (FIFO: id 1 then id 2), then 102; 103 is beyond the limit.
    assert fill_tuples(res.fills) == [(101, 2, 1, True), (101, 3, 2, True), (102, 5, 3, True)]
    assert all(f.taker_order_id == taker.order_id and f.taker_side == BUY for f in res.fills)
    assert all(f.maker_account_id == 9 and f.taker_account_id == 2 for f in res.fills)
    assert res.status == PARTIALLY_FILLED and res.rested
    assert taker.filled == 10 and taker.remaining == 10
    assert taker.quote_filled == 101 * 5 + 102 * 5
    assert book.depth(5) == ([(102, 10), (99, 4), (98, 6)], [(103, 10)])


def test_limit_partially_fills_a_maker_which_keeps_its_place(book, ids):
    ladder(book, ids)
    _, res = limit(book, ids, BUY, 101, 1)
    assert fill_tuples(res.fills) == [(101, 1, 1, False)]
    assert res.status == FILLED and not res.rested
    maker = book.get(1)
    assert maker is not None and maker.filled == 1 and maker.quote_filled == 101
    _, res = limit(book, ids, BUY, 101, 2)
    assert fill_tuples(res.fills) == [(101, 1, 1, True), (101, 1, 2, False)]
    assert book.get(1) is None
    assert book.depth(1) == ([(99, 4)], [(101, 2)])


def test_limit_sell_taker_hits_best_bids_first(book, ids):
    ladder(book, ids)
    _, res = limit(book, ids, SELL, 98, 5, tif=IOC)
    assert fill_tuples(res.fills) == [(99, 4, 5, True), (98, 1, 6, False)]
    assert res.status == FILLED
    assert book.best_bid() == 98


def test_ioc_expires_rest_and_never_rests(book, ids):
    ladder(book, ids)
    order, res = limit(book, ids, BUY, 101, 8, tif=IOC)
    assert fill_tuples(res.fills) == [(101, 2, 1, True), (101, 3, 2, True)]
    assert res.status == EXPIRED and not res.rested
    assert order.filled == 5 and book.get(order.order_id) is None
    assert book.best_bid() == 99


def test_ioc_without_liquidity_expires_empty(book, ids):
    ladder(book, ids)
    order, res = limit(book, ids, BUY, 100, 8, tif=IOC)
    assert (res.fills, res.status, res.rested) == ([], EXPIRED, False)
    assert book.get(order.order_id) is None and book.best_bid() == 99


def test_fok_exact_fit_fills(book, ids):
    ladder(book, ids)
    _, res = limit(book, ids, BUY, 102, 10, tif=FOK)
    assert res.status == FILLED and sum(f.qty for f in res.fills) == 10
    assert book.best_ask() == 103


def test_fok_one_lot_short_expires_and_leaves_book_untouched(book, ids):
    ladder(book, ids)
    before = book.depth(10)
    before_orders = [dataclasses.replace(o) for o in book.orders()]
    order, res = limit(book, ids, BUY, 102, 11, tif=FOK)
    assert (res.fills, res.status, res.rested) == ([], EXPIRED, False)
    assert order.filled == 0
    assert book.depth(10) == before
    assert list(book.orders()) == before_orders


def test_limit_maker_rejected_when_it_would_take(book, ids):
    ladder(book, ids)
    before = book.depth(10)
    order = Order(ids(), 1, BUY, 101, 1)
    res = book.submit(order, LIMIT_MAKER, None)
    assert (res.status, res.reject_reason, res.fills, res.rested) == (REJECTED, WOULD_TAKE, [], False)
    assert book.depth(10) == before and book.get(order.order_id) is None
    sell = Order(ids(), 1, SELL, 99, 1)
    assert book.submit(sell, LIMIT_MAKER, None).status == REJECTED


def test_limit_maker_rests_when_passive(book, ids):
    ladder(book, ids)
    order = Order(ids(), 1, BUY, 100, 2)
    res = book.submit(order, LIMIT_MAKER, None)
    assert (res.status, res.rested, res.reject_reason) == (NEW, True, None)
    assert book.best_bid() == 100 and book.get(order.order_id) is order


def test_would_take(book, ids):
    assert not book.would_take(BUY, 10**9)
    ladder(book, ids)
    assert book.would_take(BUY, 101) and not book.would_take(BUY, 100)
    assert book.would_take(SELL, 99) and not book.would_take(SELL, 100)


def test_market_by_quantity_fills_and_expires_rest(book, ids):
    ladder(book, ids)
    order = Order(ids(), 1, BUY, 0, 4)
    res = book.submit(order, MARKET, None)
    assert res.status == FILLED and fill_tuples(res.fills) == [(101, 2, 1, True), (101, 2, 2, False)]
    big = Order(ids(), 1, SELL, 0, 50)
    res = book.submit(big, MARKET, None)
    assert res.status == EXPIRED and big.filled == 10 and not res.rested
    assert book.best_bid() is None and book.get(big.order_id) is None


def test_market_on_empty_book_expires(book, ids):
    res = book.submit(Order(ids(), 1, BUY, 0, 5), MARKET, None)
    assert (res.status, res.fills) == (EXPIRED, [])


def test_market_buy_by_quote_budget_stops_before_exceeding(book, ids):
    ladder(book, ids)
    order = Order(ids(), 1, BUY, 0, 0)
    # 5 lots @101 = 505, then 102 each: 505 + 2*102 = 709 <= 750; a third would be 811.
    res = book.submit(order, MARKET, None, quote_budget=750)
    assert fill_tuples(res.fills) == [(101, 2, 1, True), (101, 3, 2, True), (102, 2, 3, False)]
    assert order.filled == 7 and order.quote_filled == 709 <= 750
    assert res.status == FILLED  # budget exhausted (41 < 102): done, Binance-style
    assert book.depth(1)[1] == [(102, 3)]


def test_market_buy_by_quote_budget_exact_and_book_exhausted(book, ids):
    limit(book, ids, SELL, 10, 3)
    exact = Order(ids(), 1, BUY, 0, 0)
    assert book.submit(exact, MARKET, None, quote_budget=20).status == FILLED
    assert exact.filled == 2 and exact.quote_filled == 20
    rest = Order(ids(), 1, BUY, 0, 0)
    res = book.submit(rest, MARKET, None, quote_budget=1000)
    assert rest.filled == 1 and res.status == EXPIRED  # book ran out with budget left
    tiny = Order(ids(), 1, BUY, 0, 0)
    limit(book, ids, SELL, 10, 3)
    res = book.submit(tiny, MARKET, None, quote_budget=9)
    assert (res.fills, res.status) == ([], EXPIRED)


def test_market_buy_by_quantity_capped_by_balance_budget(book, ids):
    ladder(book, ids)
    order = Order(ids(), 1, BUY, 0, 8)
    res = book.submit(order, MARKET, None, quote_budget=600)  # 5@101=505, next lot 102 > 95 left
    assert order.filled == 5 and order.quote_filled == 505
    assert res.status == EXPIRED


def test_market_sell_by_quote_budget_never_skips_the_better_bid(book, ids):
    # Bids 97x2 then 95x1.  After 1@97 the 95 left cannot buy another lot at 97;
    # trading 1@95 instead would jump the price priority of the 97 bid: stop.
    limit(book, ids, BUY, 97, 2)
    limit(book, ids, BUY, 95, 1)
    order = Order(ids(), 1, SELL, 0, 0)
    res = book.submit(order, MARKET, None, quote_budget=192)
    assert fill_tuples(res.fills) == [(97, 1, 1, False)]
    assert res.status == FILLED and book.depth(5)[0] == [(97, 1), (95, 1)]


def test_market_sell_by_quote_budget(book, ids):
    ladder(book, ids)
    order = Order(ids(), 1, SELL, 0, 0)
    res = book.submit(order, MARKET, None, quote_budget=500)  # 4@99=396, 1@98=494; next 98 > 6
    assert fill_tuples(res.fills) == [(99, 4, 5, True), (98, 1, 6, False)]
    assert order.quote_filled == 494 and res.status == FILLED


def test_self_trade_is_allowed(book, ids):
    maker, _ = limit(book, ids, SELL, 100, 1, acct=7)
    _, res = limit(book, ids, BUY, 100, 1, acct=7)
    assert len(res.fills) == 1
    assert res.fills[0].maker_account_id == res.fills[0].taker_account_id == 7
    assert book.get(maker.order_id) is None


def test_cancel(book, ids):
    ladder(book, ids)
    order = book.cancel(3)
    assert order is not None and order.order_id == 3 and order.price == 102
    assert book.get(3) is None
    assert book.depth(5)[1] == [(101, 5), (103, 10)]
    assert book.cancel(3) is None          # already gone
    assert book.cancel(424242) is None     # never existed
    # Cancelling the last order of the best level moves the touch.
    book.cancel(1)
    book.cancel(2)
    assert book.best_ask() == 103


def test_cancel_after_partial_fill_returns_filled_amount(book, ids):
    ladder(book, ids)
    limit(book, ids, BUY, 103, 8)  # eats 101x5, 102x3
    order = book.cancel(3)
    assert order is not None and order.filled == 3 and order.remaining == 2
    assert book.depth(5)[1] == [(103, 10)]


def test_cancelled_or_filled_ids_cannot_be_cancelled(book, ids):
    ladder(book, ids)
    limit(book, ids, BUY, 101, 2)
    assert book.cancel(1) is None


def test_duplicate_resting_id_is_a_programming_error(book, ids):
    book.submit(Order(1, 1, BUY, 100, 1), LIMIT, GTC)
    with pytest.raises(ValueError):
        book.submit(Order(1, 1, BUY, 100, 1), LIMIT, GTC)


@pytest.mark.parametrize(
    "order,kind,tif,budget",
    [
        (Order(1, 1, "HOLD", 100, 1), LIMIT, GTC, None),
        (Order(1, 1, BUY, 0, 1), LIMIT, GTC, None),
        (Order(1, 1, BUY, 100, 0), LIMIT, GTC, None),
        (Order(1, 1, BUY, 100, 1), LIMIT, None, None),
        (Order(1, 1, BUY, 100, 1), LIMIT, GTC, 50),
        (Order(1, 1, BUY, 100, 1), LIMIT_MAKER, GTC, None),
        (Order(1, 1, BUY, 0, 0), MARKET, None, None),
        (Order(1, 1, BUY, 0, 1), MARKET, IOC, None),
        (Order(1, 1, BUY, 0, 0), MARKET, None, -1),
        (Order(1, 1, BUY, 0, 1), MARKET, None, -1),
        (Order(1, 1, BUY, 100, 2, filled=1), LIMIT, GTC, None),
        (Order(1, 1, BUY, 100, 1), "STOP_LOSS", None, None),
    ],
)
def test_invalid_submissions_raise_without_side_effects(book, order, kind, tif, budget):
    with pytest.raises(ValueError):
        book.submit(order, kind, tif, budget)
    assert len(book) == 0 and order.seq == 0
    good = Order(2, 1, BUY, 100, 1)
    book.submit(good, LIMIT, GTC)
    assert good.seq == 1  # the failed call consumed no sequence number


def test_fills_are_frozen_values(book, ids):
    ladder(book, ids)
    _, res = limit(book, ids, BUY, 101, 1, acct=3)
    fill = res.fills[0]
    assert fill == Fill(101, 1, 1, 7, 9, 3, BUY, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fill.qty = 2  # type: ignore[misc]


def test_depth_levels_best_first(book, ids):
    ladder(book, ids)
    assert book.depth(2) == ([(99, 4), (98, 6)], [(101, 5), (102, 5)])
    assert book.depth(1) == ([(99, 4)], [(101, 5)])
    assert book.depth(0) == ([], [])


def test_restore_keeps_seq_and_fifo_and_later_seqs(book, ids):
    a = Order(10, 1, SELL, 101, 2, seq=5)
    b = Order(11, 1, SELL, 101, 3, seq=3, filled=1, quote_filled=101)
    c = Order(12, 2, BUY, 99, 1, seq=8)
    for o in (a, c, b):  # out of arrival order on purpose
        book.restore(o)
    assert [o.seq for o in book.orders()] == [8, 3, 5]
    assert book.depth(5) == ([(99, 1)], [(101, 4)])
    new = Order(13, 3, BUY, 101, 3)
    res = book.submit(new, LIMIT, GTC)
    assert new.seq == 9
    # Time priority follows the restored seq: b (seq 3) before a (seq 5).
    assert fill_tuples(res.fills) == [(101, 2, 11, True), (101, 1, 10, False)]
    assert book.get(11) is None and b.filled == 3


def test_restore_rejects_crossing_and_duplicates(book, ids):
    book.restore(Order(1, 1, SELL, 100, 1, seq=1))
    with pytest.raises(ValueError):
        book.restore(Order(2, 1, BUY, 100, 1, seq=2))
    with pytest.raises(ValueError):
        book.restore(Order(1, 1, SELL, 101, 1, seq=3))
    with pytest.raises(ValueError):
        book.restore(Order(3, 1, SELL, 101, 2, seq=4, filled=2))
    assert len(book) == 1


def test_restore_with_unknown_seq_appends(book):
    book.restore(Order(1, 1, BUY, 100, 1, seq=7))
    o = Order(2, 1, BUY, 100, 1)
    book.restore(o)
    assert o.seq == 8
    assert [x.order_id for x in book.orders()] == [1, 2]


# -------------------------------------------------------- naive reference model


@dataclass
class RefOrder:
    order_id: int
    account_id: int
    side: str
    price: int
    qty: int
    seq: int
    filled: int = 0
    quote_filled: int = 0


class RefBook:
    """The slowest obvious implementation: one list, sorted from scratch on every match."""

    def __init__(self) -> None:
        self.resting: list[RefOrder] = []
        self.seq = 0

    def best(self, side: str) -> int | None:
        prices = [o.price for o in self.resting if o.side == side]
        if not prices:
            return None
        return max(prices) if side == BUY else min(prices)

    def submit(self, oid, acct, side, price, qty, kind, tif, budget):
        self.seq += 1
        taker = RefOrder(oid, acct, side, price, qty, self.seq)
        opposite = SELL if side == BUY else BUY

        def crosses(p: int) -> bool:
            if kind == MARKET:
                return True
            return p <= price if side == BUY else p >= price

        makers = [o for o in self.resting if o.side == opposite and crosses(o.price)]
        makers.sort(key=lambda o: (o.price if side == BUY else -o.price, o.seq))
        if kind == LIMIT_MAKER:
            if makers:
                return [], False, REJECTED, WOULD_TAKE, taker
            self.resting.append(taker)
            return [], True, NEW, None, taker
        if kind == LIMIT and tif == FOK and sum(m.qty - m.filled for m in makers) < qty:
            return [], False, EXPIRED, None, taker
        fills = []
        for m in makers:
            want = (qty - taker.filled) if qty else 10**18
            if want == 0:
                break
            q = min(want, m.qty - m.filled)
            if budget is not None:
                q = min(q, (budget - taker.quote_filled) // m.price)
                if q == 0:
                    break
            m.filled += q
            m.quote_filled += q * m.price
            taker.filled += q
            taker.quote_filled += q * m.price
            done = m.filled == m.qty
            if done:
                self.resting.remove(m)
            fills.append((m.price, q, m.order_id, oid, m.account_id, acct, side, done))
            if not done:
                break  # never skip a better-priced or earlier maker for a later one
        if kind == MARKET:
            if qty:
                status = FILLED if taker.filled == qty else EXPIRED
            else:
                left = budget - taker.quote_filled
                best = self.best(opposite)
                ok = bool(fills) and (left == 0 or (best is not None and left < best))
                status = FILLED if ok else EXPIRED
            return fills, False, status, None, taker
        if taker.filled == qty:
            return fills, False, FILLED, None, taker
        if tif == GTC:
            self.resting.append(taker)
            return fills, True, PARTIALLY_FILLED if fills else NEW, None, taker
        return fills, False, EXPIRED, None, taker

    def cancel(self, oid: int) -> RefOrder | None:
        for o in self.resting:
            if o.order_id == oid:
                self.resting.remove(o)
                return o
        return None


def snapshot(orders) -> list[tuple]:
    return sorted(
        (o.order_id, o.account_id, o.side, o.price, o.qty, o.seq, o.filled, o.quote_filled)
        for o in orders
    )


KINDS = [(LIMIT, GTC), (LIMIT, GTC), (LIMIT, IOC), (LIMIT, FOK), (LIMIT_MAKER, None),
         (MARKET, None)]


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook("TEST")
        self.ref = RefBook()
        self.next_id = 1

    @rule(
        acct=st.integers(1, 3),
        side=st.sampled_from([BUY, SELL]),
        kind_tif=st.sampled_from(KINDS),
        price=st.integers(95, 105),
        qty=st.integers(1, 6),
        by_quote=st.booleans(),
        budget=st.none() | st.integers(0, 1500),
    )
    def submit(self, acct, side, kind_tif, price, qty, by_quote, budget):
        kind, tif = kind_tif
        if kind != MARKET:
            budget = None
        elif by_quote:
            qty, budget = 0, budget if budget is not None else 700
        if kind == MARKET:
            price = 0
        oid = self.next_id
        self.next_id += 1
        before = {o.order_id: (o.seq, o.price) for o in self.book.orders()}
        depth_before = self.book.depth(100)
        order = Order(oid, acct, side, price, qty)
        res = self.book.submit(order, kind, tif, budget)
        r_fills, r_rested, r_status, r_reason, r_taker = self.ref.submit(
            oid, acct, side, price, qty, kind, tif, budget
        )
        got = [(f.price, f.qty, f.maker_order_id, f.taker_order_id, f.maker_account_id,
                f.taker_account_id, f.taker_side, f.maker_done) for f in res.fills]
        assert got == r_fills
        assert (res.rested, res.status, res.reject_reason) == (r_rested, r_status, r_reason)
        assert (order.filled, order.quote_filled, order.seq) == (
            r_taker.filled, r_taker.quote_filled, r_taker.seq)
        # executed = Σ fills <= qty; quote matches; budget respected
        assert order.filled == sum(f.qty for f in res.fills)
        assert order.quote_filled == sum(f.qty * f.price for f in res.fills)
        if qty:
            assert order.filled <= qty
        if budget is not None:
            assert order.quote_filled <= budget
        # only GTC / LIMIT_MAKER may rest
        if kind == MARKET or tif in (IOC, FOK) or res.status in (FILLED, EXPIRED, REJECTED):
            assert not res.rested and self.book.get(oid) is None
        else:
            assert res.rested and self.book.get(oid) is order
        if tif == FOK and res.status == EXPIRED:
            assert res.fills == [] and self.book.depth(100) == depth_before
        if res.status == REJECTED:
            assert self.book.depth(100) == depth_before
        # price-time priority: prices never worsen, FIFO by seq within a price,
        # a limit is never traded through, fills at the maker's own price
        for f in res.fills:
            assert f.price == before[f.maker_order_id][1]
            if kind == LIMIT:
                assert f.price <= price if side == BUY else f.price >= price
        keys = [((f.price if side == BUY else -f.price), before[f.maker_order_id][0])
                for f in res.fills]
        assert keys == sorted(keys)
        # a taker only moves past a maker it has exhausted
        assert all(f.maker_done for f in res.fills[:-1])

    @rule(data=st.data())
    def cancel(self, data):
        oid = data.draw(st.integers(0, self.next_id + 2))
        got = self.book.cancel(oid)
        want = self.ref.cancel(oid)
        assert (got is None) == (want is None)
        if got is not None:
            assert snapshot([got]) == snapshot([want])
            assert self.book.get(oid) is None

    @precondition(lambda self: len(self.book) > 0)
    @rule(data=st.data())
    def cancel_then_restore(self, data):
        """Pull a resting order and put it back: it must regain its time priority."""
        resting = sorted(o.order_id for o in self.book.orders())
        oid = data.draw(st.sampled_from(resting))
        order = self.book.cancel(oid)
        assert order is not None
        self.book.restore(order)
        assert self.book.get(oid) is order

    @rule(seed=st.integers(0, 2**16))
    def restart(self, seed):
        """Rebuild the book from its resting orders in a shuffled order (as after a restart)."""
        saved = [dataclasses.replace(o) for o in self.book.orders()]
        random.Random(seed).shuffle(saved)
        fresh = OrderBook("TEST")
        for o in saved:
            fresh.restore(o)
        self.book = fresh
        # The reference continues from the highest restored seq, as documented.
        self.ref.seq = max((o.seq for o in saved), default=0)

    @invariant()
    def book_is_sorted_uncrossed_fifo_and_equal_to_reference(self):
        bids, asks = self.book.depth(1000)
        assert [p for p, _ in bids] == sorted({p for p, _ in bids}, reverse=True)
        assert [p for p, _ in asks] == sorted({p for p, _ in asks})
        bb, ba = self.book.best_bid(), self.book.best_ask()
        assert bb == (bids[0][0] if bids else None) and ba == (asks[0][0] if asks else None)
        if bb is not None and ba is not None:
            assert bb < ba
        orders = list(self.book.orders())
        for side, levels in ((BUY, bids), (SELL, asks)):
            mine = [o for o in orders if o.side == side]
            # orders() walks best price first, FIFO by seq within a level
            order_keys = [((-o.price if side == BUY else o.price), o.seq) for o in mine]
            assert order_keys == sorted(order_keys)
            totals: dict[int, int] = {}
            for o in mine:
                assert 0 <= o.filled < o.qty
                totals[o.price] = totals.get(o.price, 0) + o.remaining
            assert sorted(totals.items()) == sorted(levels)
        for o in orders:
            assert self.book.get(o.order_id) is o
        assert len(self.book) == len(orders)
        assert snapshot(orders) == snapshot(self.ref.resting)
        assert self.ref.best(BUY) == bb and self.ref.best(SELL) == ba


BookMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBookMachine = BookMachine.TestCase
