"""Helpers shared by the ``test_core_*`` tests of the Exchange's parts (no tests here)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.state.trading import OrderRequest

D = Decimal
T0 = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC, a fixed start for the fake clock


class FakeClock:
    """A settable millisecond clock."""

    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t

    def advance(self, ms: int) -> None:
        self.t += ms


def open_exchange(path: Path, clock: FakeClock | None = None) -> Exchange:
    return Exchange.open(path, clock=clock or FakeClock())


def req(symbol: str, side: str, type_: str, qty: str | None = None, price: str | None = None,
        tif: str | None = None, quote: str | None = None, cid: str | None = None,
        resp: str | None = None) -> OrderRequest:
    if type_ == "LIMIT" and tif is None:
        tif = "GTC"
    return OrderRequest(symbol, side, type_, tif, D(qty) if qty else None, D(quote) if quote else None,
                        D(price) if price else None, cid, resp)


def bal(ex: Exchange, acct: int, asset: str) -> tuple[Decimal, Decimal]:
    return ex.accounts.ledger.free(acct, asset), ex.accounts.ledger.locked(acct, asset)


def snapshot(ex: Exchange) -> dict:
    """Everything observable about the exchange's state, for before/after comparisons."""
    ex.tx.sync()
    return {
        "balances": {(a, s): (b.free, b.locked) for a, assets in ex.accounts.ledger.accounts.items()
                     for s, b in assets.items() if b.free or b.locked},
        "fees": {k: v for k, v in ex.accounts.ledger.fees.items() if v},
        "deposits": {k: v for k, v in ex.accounts.ledger.deposits.items() if v},
        "withdrawn": {k: v for k, v in ex.accounts.ledger.withdrawn.items() if v},
        "orders": [tuple(_row(r)) for r in ex.store.orders()],
        "open": sorted(ex.trading.open_by_id),
        "trades": [tuple(_row(t)) for t in ex.store.trades()],
        "withdrawals": [tuple(_row(w)) for w in ex.store.withdrawals()],
        "books": {s: (b.depth(10_000), [(o.order_id, o.seq, o.filled) for o in b.orders()])
                  for s, b in ex.books.items()},
        "counters": dict(ex.counters.snapshot()),
        "lists": [tuple(_row(lst)) for lst in ex.store.order_lists()],
        "open_lists": sorted(ex.order_lists.open_by_id),
        "triggers": {s: sorted((t.order_id, t.stop, t.delta, t.extreme, t.tracking) for t in tb.triggers())
                     for s, tb in ex.trading.triggers.items()},
    }


def _row(r: object) -> list:
    return [getattr(r, f) for f in r.__slots__]  # type: ignore[attr-defined]
