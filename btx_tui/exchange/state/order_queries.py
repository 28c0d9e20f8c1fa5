"""Reading an account's orders and trades: one order, open orders, order history, myTrades.

Apart from ``trading`` (which changes state) because these only read: the open orders from
the trading part's memory, everything else from the store after the transaction's ``sync``
has made pending writes of an open batch visible.
"""

from __future__ import annotations

from ..errors import order_not_found
from .order_json import order_json, trade_json
from .store import Store
from .symbols import SymbolSpec, spec_for
from .trading import Trading
from .transaction import Transaction

__all__ = ["OrderQueries"]


class OrderQueries:
    """get_order, open_orders, all_orders and my_trades (no state of its own)."""

    def __init__(self, store: Store, tx: Transaction, symbols: dict[str, SymbolSpec],
                 trading: Trading) -> None:
        self._store = store
        self._tx = tx
        self._symbols = symbols
        self._trading = trading

    def get_order(self, account_id: int, symbol: str, order_id: int | None,
                  orig_client_order_id: str | None) -> dict:
        """One order of the account (open or closed); -2013 if it does not exist."""
        spec_for(self._symbols, symbol)
        row = self._trading.find_open(account_id, symbol, order_id, orig_client_order_id)
        if row is None:
            self._tx.sync()
            if order_id is not None:
                rows = self._store.orders("order_id = ? AND account_id = ? AND symbol = ?",
                                         (order_id, account_id, symbol))
                if rows and orig_client_order_id is not None and rows[0].client_order_id != orig_client_order_id:
                    rows = []
            elif orig_client_order_id is not None:
                rows = self._store.orders("account_id = ? AND client_order_id = ? AND symbol = ?",
                                         (account_id, orig_client_order_id, symbol),
                                         "ORDER BY order_id DESC LIMIT 1")
            else:
                rows = []
            if not rows:
                raise order_not_found()
            row = rows[0]
        return order_json(row)

    def open_orders(self, account_id: int, symbol: str | None) -> list[dict]:
        if symbol is not None:
            spec_for(self._symbols, symbol)
        rows = sorted((r for r in self._trading.open_by_id.values() if r.account_id == account_id
                       and (symbol is None or r.symbol == symbol)), key=lambda r: r.order_id)
        return [order_json(r) for r in rows]

    def all_orders(self, account_id: int, symbol: str, order_id: int | None,
                   start: int | None, end: int | None, limit: int | None) -> list[dict]:
        """The account's orders on ``symbol``, oldest first: from ``order_id`` if given, else
        the most recent ``limit`` (default 500, max 1000) within the time range."""
        spec_for(self._symbols, symbol)
        self._tx.sync()
        limit = min(max(limit or 500, 1), 1000)
        where, args = ["account_id = ?", "symbol = ?"], [account_id, symbol]
        if start is not None:
            where.append("time >= ?"); args.append(start)
        if end is not None:
            where.append("time <= ?"); args.append(end)
        if order_id is not None:
            where.append("order_id >= ?"); args.append(order_id)
            rows = self._store.orders(" AND ".join(where), tuple(args), f"ORDER BY order_id LIMIT {limit}")
        elif start is not None:
            rows = self._store.orders(" AND ".join(where), tuple(args), f"ORDER BY order_id LIMIT {limit}")
        else:
            rows = self._store.orders(" AND ".join(where), tuple(args), f"ORDER BY order_id DESC LIMIT {limit}")
            rows.reverse()
        return [order_json(self._trading.open_by_id.get(r.order_id, r)) for r in rows]

    def my_trades(self, account_id: int, symbol: str, order_id: int | None,
                  start: int | None, end: int | None, from_id: int | None, limit: int | None) -> list[dict]:
        """The account's trades on ``symbol``, oldest first (a self-trade appears twice:
        once as buyer, once as seller)."""
        spec = spec_for(self._symbols, symbol)
        self._tx.sync()
        limit = min(max(limit or 500, 1), 1000)
        where = ["symbol = ?", "(buyer_account = ? OR seller_account = ?)"]
        args: list = [symbol, account_id, account_id]
        if order_id is not None:
            where.append("(buyer_order_id = ? OR seller_order_id = ?)"); args += [order_id, order_id]
        if start is not None:
            where.append("time >= ?"); args.append(start)
        if end is not None:
            where.append("time <= ?"); args.append(end)
        if from_id is not None:
            where.append("id >= ?"); args.append(from_id)
        ascending = from_id is not None or (start is not None and end is None)
        tail = f"ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT {limit}"
        rows = self._store.trades(" AND ".join(where), tuple(args), tail)
        if not ascending:
            rows.reverse()
        mine = {t.buyer_order_id for t in rows if t.buyer_account == account_id} | \
            {t.seller_order_id for t in rows if t.seller_account == account_id}
        list_ids = self._store.order_list_ids(mine) if mine else {}
        out: list[dict] = []
        for t in rows:
            for is_buyer in (True, False):
                acct = t.buyer_account if is_buyer else t.seller_account
                oid = t.buyer_order_id if is_buyer else t.seller_order_id
                if acct == account_id and (order_id is None or oid == order_id):
                    out.append(trade_json(spec, t, is_buyer, list_ids.get(oid, -1)))
        return out[-limit:] if not ascending else out[:limit]
