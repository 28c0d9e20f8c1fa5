"""Account events (the user data stream): engine events of an account -> its listeners.

Built from the engine's events of one transaction, which arrive in stream order: trades,
depth, order updates, balances (``state/exchange.py``).  For an account that has listeners:

* each ``TradeExecuted`` it is a party to is remembered against its order id;
* an ``OrderUpdated`` becomes the standard's ``executionReport`` sequence: ``NEW`` if the
  order was created in this transaction, one ``TRADE`` report per remembered fill (last-fill
  ``l``/``L``, cumulative ``z``/``Z``, commission ``n``/``N``, trade id ``t``, maker ``m``),
  then ``CANCELED`` / ``EXPIRED`` / ``REJECTED`` when the order ended that way;
* its ``BalanceChanged`` rows of one transaction become one ``outboundAccountPosition``
  (sent when the transaction's events are over: at the next event that is not a balance, or
  at the end of the loop iteration); a transaction that moved balances without any order
  activity (a withdrawal) also gets a ``balanceUpdate`` per asset with the delta.

Accounts without listeners cost one dict lookup per event.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from btx_tui.exchange.numbers import fmt
from btx_tui.exchange.state.events import BalanceChanged, Event, OrderListUpdated, OrderUpdated, TradeExecuted
from btx_tui.exchange.state.exchange import Exchange

__all__ = ["UserDataHub"]

Listener = Callable[[dict[str, Any]], None]
_ENDED = {"CANCELED": "CANCELED", "EXPIRED": "EXPIRED", "REJECTED": "REJECTED",
          "EXPIRED_IN_MATCH": "TRADE_PREVENTION"}
_ZERO = Decimal(0)


class UserDataHub:
    """Per-account listeners of account events."""

    def __init__(self, exchange: Exchange) -> None:
        self._ex = exchange
        self._listeners: dict[int, dict[Listener, None]] = {}
        self._fills: dict[int, list[tuple[TradeExecuted, bool]]] = {}
        self._balances: dict[int, dict[str, BalanceChanged]] = {}
        self._active_accounts: set[int] = set()
        self._totals: dict[tuple[int, str], Decimal] = {}
        self._announced: OrderedDict[int, str] = OrderedDict()
        """Orders already reported NEW, with their client ids (the legs of a listStatus)."""
        self._flush_scheduled = False
        self._unsubscribe = exchange.events.subscribe(self._on_event)

    def add(self, account_id: int, listener: Listener) -> None:
        listeners = self._listeners.setdefault(account_id, {})
        if not listeners:
            for row in self._ex.accounts.account(account_id, False)["balances"]:
                self._totals[(account_id, row["asset"])] = Decimal(row["free"]) + Decimal(row["locked"])
        listeners[listener] = None

    def remove(self, account_id: int, listener: Listener) -> None:
        listeners = self._listeners.get(account_id)
        if listeners is not None:
            listeners.pop(listener, None)
            if not listeners:
                del self._listeners[account_id]
                for key in [k for k in self._totals if k[0] == account_id]:
                    del self._totals[key]

    def close(self) -> None:
        self._unsubscribe()

    # ---- engine events ------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if not self._listeners:
            return
        kind = type(event)
        if kind is not BalanceChanged and self._balances:
            self._flush_balances()
        if kind is TradeExecuted:
            assert isinstance(event, TradeExecuted)
            if event.buyer_account in self._listeners:
                self._fills.setdefault(event.buyer_order_id, []).append((event, True))
            if event.seller_account in self._listeners:
                self._fills.setdefault(event.seller_order_id, []).append((event, False))
        elif kind is OrderUpdated:
            assert isinstance(event, OrderUpdated)
            fills = self._fills.pop(event.order_id, [])
            if event.account_id in self._listeners:
                self._active_accounts.add(event.account_id)
                for report in self._reports(event, fills):
                    self._send(event.account_id, report)
        elif kind is OrderListUpdated:
            assert isinstance(event, OrderListUpdated)
            if event.account_id in self._listeners:
                self._send(event.account_id, self._list_status(event))
        elif kind is BalanceChanged:
            assert isinstance(event, BalanceChanged)
            if event.account_id in self._listeners:
                self._balances.setdefault(event.account_id, {})[event.asset] = event
                if not self._flush_scheduled:
                    self._flush_scheduled = True
                    try:
                        asyncio.get_running_loop().call_soon(self._flush_balances)
                    except RuntimeError:
                        self._flush_balances()

    def _send(self, account_id: int, doc: dict[str, Any]) -> None:
        for listener in tuple(self._listeners.get(account_id, ())):
            listener(doc)

    def _flush_balances(self) -> None:
        self._flush_scheduled = False
        pending, self._balances = self._balances, {}
        active, self._active_accounts = self._active_accounts, set()
        self._fills.clear()  # fills of orders no listener asked about
        now = self._ex.now_ms()
        for account_id, rows in pending.items():
            if account_id not in self._listeners:
                continue
            if account_id not in active:
                for row in rows.values():
                    total = row.free + row.locked
                    before = self._totals.get((account_id, row.asset), _ZERO)
                    if total != before:
                        self._send(account_id, {"e": "balanceUpdate", "E": now, "a": row.asset,
                                                "d": fmt(total - before), "T": now})
            for row in rows.values():
                self._totals[(account_id, row.asset)] = row.free + row.locked
            self._send(account_id, {"e": "outboundAccountPosition", "E": now, "u": now, "B": [
                {"a": r.asset, "f": fmt(r.free), "l": fmt(r.locked)} for r in rows.values()]})

    # ---- execution reports --------------------------------------------------------------
    def _reports(self, u: OrderUpdated, fills: list[tuple[TradeExecuted, bool]]) -> list[dict[str, Any]]:
        now = self._ex.now_ms()
        spec = self._ex.symbols.get(u.symbol)
        base, quote = (spec.base, spec.quote) if spec is not None else ("", "")
        out: list[dict[str, Any]] = []
        filled = sum((t.qty for t, _ in fills), _ZERO)
        quote_filled = sum((t.quote_qty for t, _ in fills), _ZERO)
        cum, cum_quote = u.executed_qty - filled, u.cum_quote - quote_filled
        created = u.time == u.update_time and u.order_id not in self._announced
        if created:
            self._remember(u.order_id, u.client_order_id)
            out.append(self._report(u, now, "NEW", "NEW", _ZERO, _ZERO, _ZERO, _ZERO, None))
        ended = _ENDED.get(u.status)
        for index, (t, is_buyer) in enumerate(fills):
            cum += t.qty
            cum_quote += t.quote_qty
            last = index == len(fills) - 1
            status = u.status if last and ended is None else "PARTIALLY_FILLED"
            out.append(self._report(u, now, "TRADE", status, cum, cum_quote, t.qty, t.price,
                                    (t, is_buyer, base, quote)))
        if ended is not None:
            out.append(self._report(u, now, ended, u.status, u.executed_qty, u.cum_quote,
                                    _ZERO, _ZERO, None))
        elif not created and not fills:
            out.append(self._report(u, now, u.status if u.status in ("NEW",) else "TRADE",
                                    u.status, u.executed_qty, u.cum_quote, _ZERO, _ZERO, None))
        return out

    def _list_status(self, e: OrderListUpdated) -> dict[str, Any]:
        """A ``listStatus`` event: an order list's state after a change (its legs by id and client id)."""
        return {
            "e": "listStatus", "E": self._ex.now_ms(), "s": e.symbol, "g": e.order_list_id,
            "c": e.contingency_type, "l": e.list_status_type, "L": e.list_order_status, "r": "NONE",
            "C": e.list_client_order_id, "T": e.transaction_time,
            "O": [{"s": e.symbol, "i": oid, "c": self._announced.get(oid) or ""} for oid in e.order_ids],
        }

    def _remember(self, order_id: int, client_order_id: str) -> None:
        self._announced[order_id] = client_order_id
        if len(self._announced) > 100_000:
            self._announced.popitem(last=False)

    @staticmethod
    def _report(u: OrderUpdated, now: int, execution: str, status: str, cum: Decimal,
                cum_quote: Decimal, last_qty: Decimal, last_price: Decimal,
                fill: tuple[TradeExecuted, bool, str, str] | None) -> dict[str, Any]:
        if fill is not None:
            t, is_buyer, base, quote = fill
            fee, fee_asset = (t.buyer_fee, base) if is_buyer else (t.seller_fee, quote)
            maker = (t.taker_side == "SELL") == is_buyer
            trade_id, trade_time, commission = t.trade_id, t.time, fmt(fee)
        else:
            fee_asset, maker, trade_id, trade_time, commission = None, False, -1, u.update_time, "0"
        working = status in ("NEW", "PARTIALLY_FILLED") and u.type != "MARKET" and u.is_working
        report = {
            "e": "executionReport", "E": now, "s": u.symbol, "c": u.client_order_id, "S": u.side,
            "o": u.type, "f": u.time_in_force or "GTC", "q": fmt(u.orig_qty), "p": fmt(u.price),
            "P": fmt(u.stop_price), "F": "0.00000000", "g": u.order_list_id, "C": "", "x": execution, "X": status,
            "r": "NONE", "i": u.order_id, "l": fmt(last_qty), "z": fmt(cum), "L": fmt(last_price),
            "n": commission, "N": fee_asset, "T": trade_time, "t": trade_id, "v": 0, "I": 0,
            "w": working, "m": maker, "M": False, "O": u.time, "Z": fmt(cum_quote),
            "Y": fmt(last_qty * last_price), "Q": fmt(u.orig_quote_qty), "V": "NONE",
        }
        if u.is_working:  # the standard sends the working time only once the order is in the book
            report["W"] = u.working_time if u.working_time > 0 else u.time
        if u.trailing_delta:
            report["d"] = u.trailing_delta
        return report
