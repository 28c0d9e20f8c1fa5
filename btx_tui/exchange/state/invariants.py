"""The paper exchange's invariants, checked across the parts (tests and soaks call it).

Kept out of the parts because each invariant ties two of them together: the ledger's locked
funds against what trading's open orders and the wallet's pending withdrawals reserve, the
books against the open orders, the stored fills against the orders' executed quantities.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from .books import OrderBooks
from .ledger import Ledger
from .order_lists import PENDING_NEW, oco_group
from .store import Store
from .symbols import SymbolSpec
from .trading import Trading, reservation
from .transaction import Transaction
from .wallet import Wallet

__all__ = ["check_invariants"]


def check_invariants(symbols: dict[str, SymbolSpec], ledger: Ledger, books: OrderBooks,
                     trading: Trading, wallet: Wallet, store: Store, tx: Transaction) -> None:
    """Raise AssertionError describing the first broken invariant.

    Conservation per asset, no negative balance, locked == what open (working and
    untriggered) orders reserve - an OCO's legs once, the larger need - plus pending
    withdrawals, books == working open orders, trigger books == untriggered open orders,
    executedQty == Σ fills <= origQty, client ids unique among open orders, an OCO never
    has two legs with executions, a list is open exactly while one of its orders is.
    """
    ledger.check_conservation()
    open_rows = trading.open_by_id
    client_ids = trading.client_order_index()
    want: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    resting = {o.order_id: o for book in books.values() for o in book.orders()}
    working = {oid for oid, r in open_rows.items() if r.working_time != -1}
    if set(resting) != working:
        raise AssertionError(f"book/open mismatch: {sorted(set(resting) ^ working)}")
    waiting = {t.order_id for tb in trading.triggers.values() for t in tb.triggers()}
    pending = {oid for oid, r in open_rows.items() if r.status == PENDING_NEW}
    untriggered = set(open_rows) - working - pending
    if waiting != untriggered:
        raise AssertionError(f"trigger/open mismatch: {sorted(waiting ^ untriggered)}")
    for oid in pending:
        if open_rows[oid].reserved or open_rows[oid].working_time != -1:
            raise AssertionError(f"pending order {oid} reserves funds or works")
    seen: set[tuple[int, str]] = set()
    list_need: dict[int, tuple[int, str, Decimal]] = {}
    for oid, row in open_rows.items():
        spec = symbols[row.symbol]
        if oid in resting:
            eng = resting[oid]
            if (eng.filled, eng.qty, eng.price, eng.seq) != (row.filled_lots, row.qty_lots,
                                                            row.price_ticks, row.seq):
                raise AssertionError(f"order {oid} engine {eng} != stored {row}")
        asset, amount = reservation(spec, row)
        if row.order_list_id != -1:
            if row.order_list_id not in trading.lists.open_by_id:
                raise AssertionError(f"order {oid} open but its list {row.order_list_id} is not")
            prev = list_need.get(row.order_list_id)
            if prev is None or prev[2] < amount:
                list_need[row.order_list_id] = (row.account_id, asset, amount)
        else:
            want[(row.account_id, asset)] += amount
        key = (row.account_id, row.client_order_id)
        if key in seen or client_ids.get(key) != oid:
            raise AssertionError(f"client id index broken for {key}")
        seen.add(key)
    if len(client_ids) != len(open_rows):
        raise AssertionError("stale client ids among open orders")
    for acct, asset, amount in list_need.values():
        want[(acct, asset)] += amount
    for list_id in trading.lists.open_by_id:
        if list_id not in list_need:
            raise AssertionError(f"list {list_id} open without an open order")
    for w in wallet.pending.values():
        want[(w.account_id, w.coin)] += w.amount + w.fee
    for acct, assets in ledger.accounts.items():
        for asset, bal in assets.items():
            if bal.locked != want.get((acct, asset), Decimal(0)):
                raise AssertionError(
                    f"account {acct} {asset} locked {bal.locked} != reserved "
                    f"{want.get((acct, asset), Decimal(0))}")
    for (acct, asset), amount in want.items():
        if amount and ledger.locked(acct, asset) != amount:
            raise AssertionError(f"account {acct} {asset} reserved {amount} but not locked")
    tx.sync()
    for row in store.orders("is_open = 1 OR executed_qty != '0'"):
        row = open_rows.get(row.order_id, row)
        spec = symbols[row.symbol]
        if row.executed_qty != spec.lots_to_qty(row.filled_lots):
            raise AssertionError(f"order {row.order_id} executedQty != filled lots")
        if row.orig_qty and row.executed_qty > row.orig_qty:
            raise AssertionError(f"order {row.order_id} executedQty > origQty")
    for lst in store.order_lists():
        group = set(oco_group(lst))
        legs = [r for r in trading.list_legs(lst) if r.order_id in group]
        if sum(1 for r in legs if r.executed_qty) > 1:
            raise AssertionError(f"list {lst.list_id}: both orders of its OCO pair executed")
        if lst.contingency_type == "OTO":
            first, *rest = trading.list_legs(lst)
            if any(r.executed_qty or r.status not in (PENDING_NEW, "CANCELED", "EXPIRED")
                   for r in rest) and first.status != "FILLED":
                raise AssertionError(f"OTO {lst.list_id}: a pending order went live unfilled")
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for t in store.trades():
        sums[t.buyer_order_id] += t.qty
        sums[t.seller_order_id] += t.qty
    for row in store.orders():
        row = open_rows.get(row.order_id, row)
        if row.executed_qty != sums.get(row.order_id, Decimal(0)):
            raise AssertionError(f"order {row.order_id} executedQty {row.executed_qty} "
                                 f"!= Σ fills {sums.get(row.order_id)}")
