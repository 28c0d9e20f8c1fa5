"""Hypothesis stateful test of the Exchange: random limit/maker/market orders, stop-loss /
take-profit orders (fixed and trailing), OCO / OTO / OTOCO lists, amends, cancels and withdrawals across
several accounts and symbols; after every step the ledger is conserved, no balance is
negative, locked funds equal what open and untriggered orders (an OCO once) and pending
withdrawals reserve, the books are never crossed, an OCO never executes both legs,
executedQty == Σ fills <= origQty, and every rejection (including a duplicate open client
id) leaves the state untouched."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.state.symbols import MARKETS
from btx_tui.exchange.state.trading import OcoRequest, OrderRequest, OtoRequest

from .core_support import D, FakeClock, open_exchange, req, snapshot

SYMBOLS = {
    # symbol: (center price, price step between generated prices, lots min, lots max)
    "BTCUSDT": (D("95000"), D("1"), 10, 3000),
    "ETHBTC": (D("0.0358"), D("0.00001"), 30, 5000),
    "BTTUSDT": (D("0.0000006"), D("0.0000000001"), 9_000_000, 30_000_000),
}
FUNDING = {"USDT": D("50000"), "BTC": D("2"), "ETH": D("20"), "BTT": D("200000000")}
TRON = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"


class ExchangeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="btx-core-state-"))
        self.clock = FakeClock()
        self.ex = open_exchange(self.dir, self.clock)
        self.accts = [self.ex.accounts.create_account(FUNDING) for _ in range(3)]
        self.rejections = 0

    def teardown(self) -> None:
        self.ex.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _attempt(self, acct: int, order, test: bool = False) -> dict | None:
        before = snapshot(self.ex)
        try:
            if isinstance(order, OcoRequest):
                return self.ex.trading.place_oco(acct, order)
            if isinstance(order, OtoRequest):
                return self.ex.trading.place_oto(acct, order)
            return self.ex.trading.place_order(acct, order, test=test)
        except ApiError as err:
            assert err.code in (-1013, -2010), err
            assert snapshot(self.ex) == before, f"rejected {order} changed state"
            self.rejections += 1
            return None

    def _qty(self, sym: str, size: int) -> str:
        _, _, lo, hi = SYMBOLS[sym]
        return str(MARKETS[sym].lots_to_qty(lo + (hi - lo) * size // 1000))

    @rule(a=st.integers(0, 2), sym=st.sampled_from(sorted(SYMBOLS)), buy=st.booleans(),
          type_=st.sampled_from(["STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]),
          off=st.integers(-6, 6), limit_off=st.integers(-3, 3), size=st.integers(0, 1000),
          trailing=st.sampled_from([None, None, 10, 25]), with_stop=st.booleans())
    def stop(self, a, sym, buy, type_, off, limit_off, size, trailing, with_stop):
        center, step, _, _ = SYMBOLS[sym]
        stop = center + step * off if (with_stop or trailing is None) else None
        price = center + step * (off + limit_off) if type_.endswith("_LIMIT") else None
        tif = "GTC" if price is not None else None
        self.clock.advance(7)
        order = OrderRequest(sym, "BUY" if buy else "SELL", type_, tif, D(self._qty(sym, size)), None,
                             price, None, "RESULT", stop, trailing)
        r = self._attempt(self.accts[a], order)
        if r is not None:
            assert r["type"] == type_ and D(r["executedQty"]) <= D(r["origQty"])

    @rule(a=st.integers(0, 2), sym=st.sampled_from(sorted(SYMBOLS)), buy=st.booleans(),
          gap=st.integers(1, 6), size=st.integers(0, 1000), limit_leg=st.booleans(),
          trailing=st.sampled_from([None, 10]))
    def oco(self, a, sym, buy, gap, size, limit_leg, trailing):
        center, step, _, _ = SYMBOLS[sym]
        last = self.ex.market_data.last_price(sym) or center
        hi, lo = last + step * gap, last - step * gap
        side = "BUY" if buy else "SELL"
        qty = D(self._qty(sym, size))

        def leg(type_, price=None, stop=None, delta=None):
            tif = "GTC" if type_.endswith("_LIMIT") else None
            return OrderRequest(sym, side, type_, tif, qty, None, price, None, None, stop, delta)

        # SELL: take profit (or limit) above, stop loss below; BUY the other way round.
        profit_at, loss_at = (hi, lo) if side == "SELL" else (lo, hi)
        profit = leg("LIMIT_MAKER", price=profit_at) if limit_leg else \
            leg("TAKE_PROFIT_LIMIT", price=profit_at, stop=profit_at)
        loss = leg("STOP_LOSS_LIMIT", price=loss_at, stop=loss_at, delta=trailing)
        above, below = (profit, loss) if side == "SELL" else (loss, profit)
        self.clock.advance(7)
        r = self._attempt(self.accts[a], OcoRequest(sym, side, qty, None, above, below, None))
        if r is not None:
            assert len(r["orderReports"]) == 2 and r["contingencyType"] == "OCO"

    @rule(sym=st.sampled_from(sorted(SYMBOLS)), off=st.integers(-7, 7), up=st.booleans())
    def trade_at(self, sym, off, up):
        """Two accounts trade at one price: moves the last price (and fires what it crosses)."""
        center, step, lo, _ = SYMBOLS[sym]
        price = str(center + step * off)
        qty = str(MARKETS[sym].lots_to_qty(lo))
        maker, taker = ("SELL", "BUY") if up else ("BUY", "SELL")
        self.clock.advance(5)
        if self._attempt(self.accts[0], req(sym, maker, "LIMIT", qty, price)) is not None:
            self._attempt(self.accts[1], req(sym, taker, "LIMIT", qty, price, tif="IOC"))

    @rule(a=st.integers(0, 2), sym=st.sampled_from(sorted(SYMBOLS)), buy=st.booleans(),
          off=st.integers(-5, 5), gap=st.integers(1, 6), size=st.integers(0, 1000),
          pair=st.booleans(), tif=st.sampled_from(["GTC", "GTC", "IOC"]))
    def oto(self, a, sym, buy, off, gap, size, pair, tif):
        """A working LIMIT entry, then a take-profit (OTO) or a bracket (OTOCO) the other way."""
        center, step, _, _ = SYMBOLS[sym]
        side, exit_side = ("BUY", "SELL") if buy else ("SELL", "BUY")
        qty = D(self._qty(sym, size))
        entry = center + step * off
        work = OrderRequest(sym, side, "LIMIT", tif, qty, None, entry, None, None)
        up, down = entry + step * gap, entry - step * gap
        profit_at, loss_at = (up, down) if exit_side == "SELL" else (down, up)
        profit = OrderRequest(sym, exit_side, "LIMIT_MAKER", None, qty, None, profit_at, None, None)
        if pair:
            loss = OrderRequest(sym, exit_side, "STOP_LOSS", None, qty, None, None, None, None, loss_at)
            pending = (profit, loss) if exit_side == "SELL" else (loss, profit)
        else:
            pending = (OrderRequest(sym, exit_side, "LIMIT", "GTC", qty, None, profit_at, None, None),)
        self.clock.advance(7)
        r = self._attempt(self.accts[a], OtoRequest(sym, None, work, pending, exit_side, None))
        if r is not None:
            assert len(r["orderReports"]) == 1 + len(pending)
            assert {x["status"] for x in r["orderReports"][1:]} == {"PENDING_NEW"}

    @precondition(lambda self: bool(self.ex.trading.open_by_id))
    @rule(pick=st.integers(0, 10_000), frac=st.integers(1, 9))
    def amend(self, pick, frac):
        rows = sorted(self.ex.trading.open_by_id.values(), key=lambda r: r.order_id)
        row = rows[pick % len(rows)]
        spec = MARKETS[row.symbol]
        lots = row.qty_lots * frac // 10
        before = snapshot(self.ex)
        self.clock.advance(3)
        try:
            out = self.ex.trading.amend_keep_priority(row.account_id, row.symbol, row.order_id, None,
                                                      None, spec.lots_to_qty(max(lots, 1)))
        except ApiError as err:
            assert err.code in (-1013, -2038), err
            assert snapshot(self.ex) == before
            return
        assert D(out["amendedOrder"]["qty"]) == spec.lots_to_qty(max(lots, 1))

    @rule(a=st.integers(0, 2), sym=st.sampled_from(sorted(SYMBOLS)), buy=st.booleans(),
          off=st.integers(-5, 5), size=st.integers(0, 1000),
          kind=st.sampled_from(["GTC", "GTC", "IOC", "FOK", "MAKER"]),
          cid=st.sampled_from([None, None, "c0", "c1", "c2"]))
    def limit(self, a, sym, buy, off, size, kind, cid):
        center, step, lo, hi = SYMBOLS[sym]
        lots = lo + (hi - lo) * size // 1000
        qty = MARKETS[sym].lots_to_qty(lots)
        price = center + step * off
        type_ = "LIMIT_MAKER" if kind == "MAKER" else "LIMIT"
        tif = None if kind == "MAKER" else kind
        self.clock.advance(7)
        r = self._attempt(self.accts[a], req(sym, "BUY" if buy else "SELL", type_, str(qty), str(price),
                                             tif=tif, cid=cid))
        if r is not None:
            assert D(r["executedQty"]) <= D(r["origQty"])
            assert sum((D(f["qty"]) for f in r["fills"]), D(0)) == D(r["executedQty"])

    @rule(a=st.integers(0, 2), sym=st.sampled_from(sorted(SYMBOLS)), buy=st.booleans(),
          size=st.integers(0, 1000), by_quote=st.booleans())
    def market(self, a, sym, buy, size, by_quote):
        center, _, lo, hi = SYMBOLS[sym]
        lots = lo + (hi - lo) * size // 1000
        qty = MARKETS[sym].lots_to_qty(lots)
        side = "BUY" if buy else "SELL"
        self.clock.advance(5)
        if by_quote:
            order = req(sym, side, "MARKET", quote=str(qty * center))
        else:
            order = req(sym, side, "MARKET", str(qty))
        r = self._attempt(self.accts[a], order)
        if r is not None:
            assert r["status"] in ("FILLED", "EXPIRED")
            assert sum((D(f["qty"]) for f in r["fills"]), D(0)) == D(r["executedQty"])

    @precondition(lambda self: bool(self.ex.trading.open_by_id))
    @rule(pick=st.integers(0, 10_000), by_cid=st.booleans())
    def cancel(self, pick, by_cid):
        rows = sorted(self.ex.trading.open_by_id.values(), key=lambda r: r.order_id)
        row = rows[pick % len(rows)]
        self.clock.advance(3)
        if by_cid:
            out = self.ex.trading.cancel_order(row.account_id, row.symbol, None, row.client_order_id, None)
        else:
            out = self.ex.trading.cancel_order(row.account_id, row.symbol, row.order_id, None, None)
        assert out["status"] == "CANCELED" and out["orderId"] == row.order_id
        try:
            self.ex.trading.cancel_order(row.account_id, row.symbol, row.order_id, None, None)
            raise AssertionError("second cancel succeeded")
        except ApiError as err:
            assert err.code == -2011

    @precondition(lambda self: bool(self.ex.trading.open_by_id))
    @rule(pick=st.integers(0, 10_000))
    def duplicate_open_client_id(self, pick):
        rows = sorted(self.ex.trading.open_by_id.values(), key=lambda r: r.order_id)
        row = rows[pick % len(rows)]
        center, step, lo, _ = SYMBOLS[row.symbol]
        order = req(row.symbol, row.side, "LIMIT", str(MARKETS[row.symbol].lots_to_qty(lo)),
                    str(center), cid=row.client_order_id)
        before = snapshot(self.ex)
        try:
            self.ex.trading.place_order(row.account_id, order)
            raise AssertionError("duplicate client id accepted")
        except ApiError as err:
            assert (err.code, err.msg) == (-2010, "Duplicate order sent.")
        assert snapshot(self.ex) == before

    @rule(a=st.integers(0, 2), amount=st.integers(10, 60_000))
    def withdraw(self, a, amount):
        before = snapshot(self.ex)
        try:
            self.ex.wallet.withdraw_apply(self.accts[a], "USDT", "TRX", TRON, None, D(amount), None)
        except ApiError as err:
            assert err.code == -4026 and snapshot(self.ex) == before

    @rule(ms=st.sampled_from([500, 3000, 10_000]))
    def time_passes(self, ms):
        self.clock.advance(ms)
        self.ex.wallet.process_withdrawals()

    @invariant()
    def consistent(self):
        self.ex.check_invariants()
        for book in self.ex.books.values():
            bid, ask = book.best_bid(), book.best_ask()
            assert bid is None or ask is None or bid < ask, f"crossed book {book.symbol}"


ExchangeMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestExchangeMachine = ExchangeMachine.TestCase
