"""Order lists (OCO): their rows, ids, client ids and JSON; persistence of the list records.

Apart from ``trading.py`` because a list is a record of its own (``orderListId``,
``listClientOrderId``, ``contingencyType``, statuses) with its own table, index and wire
spelling; trading decides *when* a list changes (a leg fills, triggers or is cancelled) and
tells this part, which keeps the record, the open lists per account and the dirty rows.
"""

from __future__ import annotations

from ..errors import ApiError
from .counters import Counters
from .events import EventBus, OrderListUpdated
from .store import OrderListRow, OrderRow, Store

__all__ = ["OrderLists", "list_json", "new_list", "order_ids", "oco_group", "OCO", "OTO", "PENDING_NEW", "EXEC_STARTED", "ALL_DONE", "EXECUTING",
           "list_not_found"]

OCO, OTO = "OCO", "OTO"
PENDING_NEW = "PENDING_NEW"
"""Status of an OTO/OTOCO pending order until its working order fills."""
EXEC_STARTED, ALL_DONE = "EXEC_STARTED", "ALL_DONE"   # listStatusType
EXECUTING = "EXECUTING"                               # listOrderStatus (ALL_DONE when done)


def list_not_found() -> ApiError:
    """-2013 for a query of an order list that does not exist (the standard's NO_SUCH_ORDER)."""
    return ApiError(400, -2013, "Order list does not exist.")


def list_json(lst: OrderListRow, legs: list[OrderRow]) -> dict:
    """The standard's order-list object (without ``orderReports``)."""
    return {
        "orderListId": lst.list_id, "contingencyType": lst.contingency_type,
        "listStatusType": lst.list_status_type, "listOrderStatus": lst.list_order_status,
        "listClientOrderId": lst.list_client_order_id, "transactionTime": lst.transaction_time,
        "symbol": lst.symbol,
        "orders": [{"symbol": r.symbol, "orderId": r.order_id, "clientOrderId": r.client_order_id}
                   for r in legs],
    }


def order_ids(lst: OrderListRow) -> list[int]:
    return [int(x) for x in lst.order_ids.split(",")]


def oco_group(lst: OrderListRow) -> list[int]:
    """The orders of a list of which only one may execute: both legs of an OCO, the two
    pending orders of an OTOCO (the first order of an OTO list is its working order)."""
    ids = order_ids(lst)
    if lst.contingency_type == OCO:
        return ids
    return ids[1:] if len(ids) == 3 else []


class OrderLists:
    """Every order list; the open ones in memory (by id and by client id)."""

    def __init__(self, store: Store, counters: Counters, events: EventBus) -> None:
        self._store = store
        self._counters = counters
        self._events = events
        self.load()

    def load(self) -> None:
        self.open_by_id: dict[int, OrderListRow] = {}
        self._client_ids: dict[tuple[int, str], int] = {}
        self._dirty: dict[int, OrderListRow] = {}
        for lst in self._store.order_lists("is_open = 1"):
            self.open_by_id[lst.list_id] = lst
            self._client_ids[(lst.account_id, lst.list_client_order_id)] = lst.list_id

    def flush(self) -> None:
        if self._dirty:
            rows = list(self._dirty.values())
            self._store.put_many(rows)
            self._dirty.clear()
            if self._events.active:
                for r in rows:
                    self._events.emit(OrderListUpdated(
                        r.account_id, r.symbol, r.list_id, r.list_client_order_id,
                        r.contingency_type, r.list_status_type, r.list_order_status,
                        tuple(order_ids(r)), r.transaction_time))

    # ------------------------------------------------------------------ reads

    def client_id_taken(self, account_id: int, list_client_id: str) -> bool:
        return (account_id, list_client_id) in self._client_ids

    def client_index(self) -> dict[tuple[int, str], int]:
        return dict(self._client_ids)

    def find(self, account_id: int, list_id: int | None, client_id: str | None, *,
             open_only: bool) -> OrderListRow | None:
        """An account's list by id (then checked against ``client_id``) or by client id."""
        if list_id is not None:
            lst = self.open_by_id.get(list_id)
            if lst is None and not open_only:
                rows = self._store.order_lists("list_id = ?", (list_id,))
                lst = rows[0] if rows else None
            if lst is not None and client_id is not None and lst.list_client_order_id != client_id:
                return None
        elif client_id is not None:
            lid = self._client_ids.get((account_id, client_id))
            lst = self.open_by_id.get(lid) if lid is not None else None
            if lst is None and not open_only:
                rows = self._store.order_lists("account_id = ? AND list_client_order_id = ?",
                                               (account_id, client_id), "ORDER BY list_id DESC LIMIT 1")
                lst = rows[0] if rows else None
        else:
            return None
        if lst is None or lst.account_id != account_id:
            return None
        return lst

    def history(self, account_id: int, from_id: int | None, start: int | None,
                end: int | None, limit: int) -> list[OrderListRow]:
        where, args = ["account_id = ?"], [account_id]
        if from_id is not None:
            where.append("list_id >= ?"); args.append(from_id)
        if start is not None:
            where.append("transaction_time >= ?"); args.append(start)
        if end is not None:
            where.append("transaction_time <= ?"); args.append(end)
        if from_id is not None or start is not None:
            return self._store.order_lists(" AND ".join(where), tuple(args),
                                           f"ORDER BY list_id LIMIT {limit}")
        rows = self._store.order_lists(" AND ".join(where), tuple(args),
                                       f"ORDER BY list_id DESC LIMIT {limit}")
        rows.reverse()
        return rows

    # --------------------------------------------------------------- changes

    def next_id(self) -> int:
        return self._counters.next("order_list_id") - 1  # ids start at 0, as the standard's

    def open(self, lst: OrderListRow) -> None:
        self.open_by_id[lst.list_id] = lst
        self._client_ids[(lst.account_id, lst.list_client_order_id)] = lst.list_id
        self._dirty[lst.list_id] = lst

    def close(self, lst: OrderListRow, now: int) -> None:
        """Every order of the list is closed: ALL_DONE."""
        if not lst.is_open:
            return
        lst.is_open = 0
        lst.list_status_type = ALL_DONE
        lst.list_order_status = ALL_DONE
        lst.transaction_time = now
        del self.open_by_id[lst.list_id]
        del self._client_ids[(lst.account_id, lst.list_client_order_id)]
        self._dirty[lst.list_id] = lst

    def touched(self, lst: OrderListRow) -> None:
        self._dirty[lst.list_id] = lst


def new_list(list_id: int, account_id: int, symbol: str, client_id: str,
             legs: list[int], now: int, contingency: str = OCO) -> OrderListRow:
    return OrderListRow(list_id=list_id, account_id=account_id, symbol=symbol,
                        list_client_order_id=client_id, contingency_type=contingency,
                        list_status_type=EXEC_STARTED, list_order_status=EXECUTING,
                        transaction_time=now, order_ids=",".join(str(i) for i in legs), is_open=1)

