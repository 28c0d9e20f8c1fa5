"""Keep the paper exchange's database bounded while the synthetic market runs.

The synthetic traders re-quote every step: left alone they write ~250 order rows a second
(~240 MB an hour).  Nobody reads those rows back - the market's statistics live in the
``kline_1m`` aggregates, written in the same transaction as each trade - so
:func:`prune_synthetic_history` deletes, for the synthetic market's accounts only:

* their closed orders (cancelled re-quotes, filled takers) older than ``order_retention_ms``;
  (the freed pages are reused by the next rows, so the file stops growing rather than shrinks)
* raw trades between two of them (or backfilled history, account 0) beyond the newest
  ``trades_per_market`` of each market, once neither side's order exists any more.

A user's records are never touched: an order is deleted only when its account is one of the
given synthetic accounts, a trade only when *both* sides are.  The last condition keeps the
exchange's invariant (an order's executedQty equals the sum of its stored fills): a trade
disappears only after both of its orders did, so every remaining order keeps all its fills.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .backfill import HISTORY_ACCOUNT
from .store import Store
from .transaction import Transaction

__all__ = ["ORDER_RETENTION_MS", "TRADES_PER_MARKET", "Pruned", "prune_synthetic_history"]

ORDER_RETENTION_MS = 30_000
"""How long the synthetic market's closed orders are kept."""
TRADES_PER_MARKET = 500
"""Raw synthetic trades kept per market (``/api/v3/trades``' default page)."""


@dataclass(frozen=True, slots=True)
class Pruned:
    orders: int
    trades: int


def prune_synthetic_history(store: Store, tx: Transaction, synthetic_accounts: Iterable[int],
                            symbols: Iterable[str], now_ms: int, *,
                            order_retention_ms: int = ORDER_RETENTION_MS,
                            trades_per_market: int = TRADES_PER_MARKET) -> Pruned:
    """Delete the synthetic market's old rows (see the module docstring), in one transaction."""
    bots = sorted({int(a) for a in synthetic_accounts})
    if not bots:
        return Pruned(0, 0)
    marks = ", ".join("?" * len(bots))
    traders = ", ".join("?" * (len(bots) + 1))
    db = store.db
    orders = trades = 0
    with tx.mutation():
        tx.sync()
        orders = db.execute(
            f"DELETE FROM orders WHERE account_id IN ({marks}) AND is_open = 0 AND update_time < ?",
            (*bots, now_ms - order_retention_ms)).rowcount
        for symbol in symbols:
            row = db.execute("SELECT time FROM trades WHERE symbol = ? ORDER BY time DESC LIMIT 1 OFFSET ?",
                             (symbol, trades_per_market - 1)).fetchone()
            if row is None:
                continue
            trades += db.execute(
                f"DELETE FROM trades WHERE symbol = ? AND time < ?"
                f" AND buyer_account IN ({traders}) AND seller_account IN ({traders})"
                " AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = trades.buyer_order_id)"
                " AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = trades.seller_order_id)",
                (symbol, row[0], *bots, HISTORY_ACCOUNT, *bots, HISTORY_ACCOUNT)).rowcount
    # Hand the write-ahead log back: without this it stays at its largest size.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Pruned(orders, trades)
