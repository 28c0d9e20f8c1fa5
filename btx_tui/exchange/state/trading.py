"""Trading: place and cancel orders, settle fills; owns the open orders (queries: ``order_queries``).

``place_order`` follows the contract's validation order - symbol (-1121), filters (-1013),
duplicate open ``newClientOrderId`` (-2010), balance (-2010), would-take (-2010) - and only
then mutates: lock the order's funds, submit to the integer engine, settle every fill in
both accounts' ledgers, release what the order no longer reserves, record.  Nothing is
mutated before every check passed, so a rejection leaves no trace.

Funds while an order runs: the taker locks the most it could need (a LIMIT BUY
``qty*price``; a MARKET BUY by quantity all its free quote, used as the engine's
``quote_budget``; a MARKET BUY by ``quoteOrderQty`` that amount; a SELL its base) and
after matching keeps locked exactly what its resting remainder reserves
(:func:`reservation`), releasing the rest - e.g. the price improvement of a BUY that filled
below its limit.  Makers pay from their own reservation at their own price.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ..errors import (
    ApiError, duplicate_order, filter_failure, insufficient_balance, market_closed, unknown_order,
    would_take,
)
from ..numbers import ZERO, fmt
from . import matching as E
from .accounts import Accounts
from .books import OrderBooks
from .counters import Counters, agg_id_counter, trade_id_counter
from .events import EventBus, OrderUpdated
from .ledger import commission
from .market_data import MarketData
from .order_json import order_json
from .store import OrderRow, Store, TradeRow
from .symbols import SymbolSpec, places, spec_for
from .transaction import Transaction

__all__ = ["Trading", "OrderRequest", "reservation", "new_client_id"]

OPEN_STATUSES = (E.NEW, E.PARTIALLY_FILLED)


@dataclass(frozen=True)
class OrderRequest:
    """A new-order request after format validation (the HTTP layer builds it)."""

    symbol: str
    side: str
    type: str
    time_in_force: str | None
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    new_client_order_id: str | None
    resp_type: str | None  # ACK | RESULT | FULL (None = FULL)


def reservation(spec: SymbolSpec, row: OrderRow) -> tuple[str, Decimal]:
    """(asset, amount) an open order keeps locked: BUY remaining*price quote, SELL remaining base."""
    remaining = spec.lots_to_qty(row.qty_lots - row.filled_lots)
    if row.side == E.BUY:
        return spec.quote, remaining * row.price
    return spec.base, remaining


def new_client_id() -> str:
    """A random 22-character client order id (matches ``^[a-zA-Z0-9-_]{1,36}$``)."""
    return secrets.token_urlsafe(17)[:22]


class Trading:
    """Order entry: validation, locking funds, matching, settlement, cancellation.

    Owns the open orders (by id, by client id, count per account and symbol) and the order
    rows changed in the current transaction.  Moves money only through the accounts'
    ledger, moves books only through :class:`OrderBooks`, and hands every trade to market data.
    """

    def __init__(self, store: Store, tx: Transaction, symbols: dict[str, SymbolSpec],
                 counters: Counters, accounts: Accounts, books: OrderBooks,
                 market_data: MarketData, now_ms: Callable[[], int], events: EventBus) -> None:
        self._store = store
        self._tx = tx
        self._symbols = symbols
        self._counters = counters
        self._accounts = accounts
        self._books = books
        self._market = market_data
        self._now_ms = now_ms
        self._events = events
        self.load()

    # ------------------------------------------------------------ persistence

    def load(self) -> None:
        """Rebuild the open orders and put them back on the (freshly emptied) books."""
        self.open_by_id: dict[int, OrderRow] = {}
        """Every open order by id (read by order queries and the invariant check)."""
        self._client_ids: dict[tuple[int, str], int] = {}
        self._open_count: dict[tuple[int, str], int] = defaultdict(int)
        self._dirty_orders: dict[int, OrderRow] = {}
        for row in self._store.orders("is_open = 1", (), "ORDER BY seq"):
            self._books[row.symbol].restore(E.Order(
                row.order_id, row.account_id, row.side, row.price_ticks, row.qty_lots,
                row.seq, row.filled_lots, row.quote_filled))
            self._track_open(row)

    def flush(self) -> None:
        """Write the order rows changed in this transaction (and report them to subscribers)."""
        if self._dirty_orders:
            rows = list(self._dirty_orders.values())
            self._store.put_many(rows)
            self._dirty_orders.clear()
            if self._events.active:
                for r in rows:
                    self._events.emit(OrderUpdated(
                        r.account_id, r.symbol, r.order_id, r.client_order_id, r.side, r.type,
                        r.status, r.price, r.orig_qty, r.executed_qty, r.cum_quote, r.update_time,
                        r.time, r.tif, r.orig_quote_qty))

    # ---------------------------------------------------------------- lookups

    def client_order_index(self) -> dict[tuple[int, str], int]:
        """(account, client order id) -> order id of every open order (a copy)."""
        return dict(self._client_ids)

    def find_open(self, account_id: int, symbol: str, order_id: int | None,
                  client_id: str | None) -> OrderRow | None:
        """The account's open order on ``symbol`` by id or client id (None if not open)."""
        if order_id is not None:
            row = self.open_by_id.get(order_id)
            if row is not None and client_id is not None and row.client_order_id != client_id:
                return None
        else:
            oid = self._client_ids.get((account_id, client_id)) if client_id is not None else None
            row = self.open_by_id.get(oid) if oid is not None else None
        if row is None or row.account_id != account_id or row.symbol != symbol:
            return None
        return row

    # ------------------------------------------------------------- helpers

    def _track_open(self, row: OrderRow) -> None:
        self.open_by_id[row.order_id] = row
        self._client_ids[(row.account_id, row.client_order_id)] = row.order_id
        self._open_count[(row.account_id, row.symbol)] += 1

    def _untrack(self, row: OrderRow) -> None:
        del self.open_by_id[row.order_id]
        del self._client_ids[(row.account_id, row.client_order_id)]
        key = (row.account_id, row.symbol)
        self._open_count[key] -= 1
        if not self._open_count[key]:
            del self._open_count[key]
        row.is_open = 0

    # ---------------------------------------------------------- validation

    def _check(self, account_id: int, req: OrderRequest) -> dict:
        """Every check of a new order, in the contract's order; returns the plan to execute."""
        spec = spec_for(self._symbols, req.symbol)
        _check_precision(spec, req)
        if spec.status != "TRADING":
            raise market_closed()
        book = self._books[spec.symbol]
        side, kind = req.side, req.type
        ticks = lots = 0
        budget: int | None = None
        if kind in (E.LIMIT, E.LIMIT_MAKER):
            assert req.price is not None and req.quantity is not None
            ticks = spec.price_to_ticks(req.price)
            lots = spec.qty_to_lots(req.quantity)
            notional = req.price * req.quantity
            if notional < spec.min_notional or notional > spec.max_notional:
                raise filter_failure("NOTIONAL")
        elif kind == E.MARKET:
            if req.quantity is not None:
                lots = spec.qty_to_lots(req.quantity, market=True)
                if req.quantity * self._market.avg_price_value(spec) < spec.min_notional:
                    raise filter_failure("NOTIONAL")
            else:
                assert req.quote_order_qty is not None
                if req.quote_order_qty < spec.min_notional:
                    raise filter_failure("NOTIONAL")
                budget = spec.quote_to_units_floor(req.quote_order_qty)
                if budget <= 0:
                    raise filter_failure("NOTIONAL")
        else:  # pragma: no cover - the HTTP layer validated the enum
            raise ValueError(f"bad order type {kind}")
        if self._open_count.get((account_id, spec.symbol), 0) >= spec.max_num_orders:
            raise filter_failure("MAX_NUM_ORDERS")
        cid = req.new_client_order_id
        if cid is not None and (account_id, cid) in self._client_ids:
            raise duplicate_order()

        # Balance: what to lock for the duration of the call.
        if not self._accounts.exists(account_id):
            raise insufficient_balance()
        lg = self._accounts.ledger
        if side == E.BUY:
            asset = spec.quote
            free = lg.free(account_id, asset)
            if kind != E.MARKET:
                lock = req.price * req.quantity  # type: ignore[operator]
            elif budget is not None:  # by quoteOrderQty
                if free < req.quote_order_qty:  # type: ignore[operator]
                    raise insufficient_balance()
                lock = spec.units_to_quote(budget)
            else:  # MARKET BUY by quantity: spend at most the free quote
                best = book.best_ask()
                one_lot = spec.units_to_quote(best) if best is not None else \
                    self._market.avg_price_value(spec) * spec.step_size
                if free < one_lot or free <= 0:
                    raise insufficient_balance()
                budget = spec.quote_to_units_floor(free)
                lock = spec.units_to_quote(budget)
        else:
            asset = spec.base
            free = lg.free(account_id, asset)
            if kind == E.MARKET and budget is not None:  # SELL by quoteOrderQty
                need = 0
                spent = 0
                for price, total in book.depth(1 << 30)[0]:
                    afford = (budget - spent) // price
                    if afford <= 0:
                        break
                    take = min(total, afford)
                    need += take
                    spent += take * price
                lock = spec.lots_to_qty(need)
                if need == 0 and free <= 0:
                    raise insufficient_balance()
            else:
                lock = spec.lots_to_qty(lots)
        if free < lock:
            raise insufficient_balance()
        if kind == E.LIMIT_MAKER and book.would_take(side, ticks):
            raise would_take()
        return {"spec": spec, "ticks": ticks, "lots": lots, "budget": budget,
                "asset": asset, "lock": lock}

    # ------------------------------------------------------------- placing

    def place_order(self, account_id: int, req: OrderRequest, *, test: bool = False) -> dict:
        """Validate, match and record a new order; the response per ``newOrderRespType``."""
        plan = self._check(account_id, req)
        if test:
            return {}
        spec: SymbolSpec = plan["spec"]
        with self._tx.mutation():
            now = self._now_ms()
            oid = self._counters.next("order_id")
            cid = req.new_client_order_id or new_client_id()
            lock: Decimal = plan["lock"]
            if lock:
                self._accounts.ledger.lock(account_id, plan["asset"], lock)
            kind = req.type
            tif = req.time_in_force if kind == E.LIMIT else None
            order = E.Order(oid, account_id, req.side, plan["ticks"], plan["lots"])
            res = self._books[spec.symbol].submit(order, kind, tif, plan["budget"] if kind == E.MARKET else None)
            row = OrderRow(
                order_id=oid, account_id=account_id, symbol=spec.symbol, client_order_id=cid,
                side=req.side, type=kind, tif=tif, price=req.price if kind != E.MARKET else ZERO,
                orig_qty=req.quantity or ZERO, orig_quote_qty=req.quote_order_qty or ZERO,
                executed_qty=ZERO, cum_quote=ZERO, status=res.status, time=now, update_time=now,
                working_time=now, seq=order.seq, price_ticks=order.price, qty_lots=order.qty,
                filled_lots=0, quote_filled=0, is_open=1 if res.rested else 0)
            fills = self._settle(spec, row, res.fills, now)
            # Release what the order no longer needs: its lock minus what it paid, minus what
            # its resting remainder still reserves.
            paid = row.cum_quote if req.side == E.BUY else row.executed_qty
            keep = reservation(spec, row)[1] if res.rested else ZERO
            release = lock - paid - keep
            if release:
                self._accounts.ledger.unlock(account_id, plan["asset"], release)
            if kind == E.MARKET and req.quantity is None:
                row.orig_qty = row.executed_qty
            if res.rested:
                self._track_open(row)
            if res.rested or res.fills:
                self._books.changed(spec.symbol)
            self._dirty_orders[oid] = row
        resp_type = req.resp_type or "FULL"
        ack = {"symbol": spec.symbol, "orderId": oid, "orderListId": -1,
               "clientOrderId": cid, "transactTime": now}
        if resp_type == "ACK":
            return ack
        ack.update(order_json(row, result=True))
        if resp_type == "FULL":
            ack["fills"] = fills
        return ack

    def _settle(self, spec: SymbolSpec, taker: OrderRow, fills: list[E.Fill],
                now: int) -> list[dict]:
        """Apply the engine's fills to both sides' ledgers and orders; the taker's FULL fills."""
        out: list[dict] = []
        lg = self._accounts.ledger
        agg_price = None
        agg_id = 0
        for f in fills:
            price = spec.ticks_to_price(f.price)
            qty = spec.lots_to_qty(f.qty)
            quote = price * qty
            maker = self.open_by_id[f.maker_order_id]
            if f.taker_side == E.BUY:
                buyer, seller = taker, maker
            else:
                buyer, seller = maker, taker
            buyer_fee = commission(qty)
            seller_fee = commission(quote)
            lg.transfer_locked(buyer.account_id, seller.account_id, spec.quote, quote, seller_fee)
            lg.transfer_locked(seller.account_id, buyer.account_id, spec.base, qty, buyer_fee)
            for row in (maker, taker):
                row.executed_qty += qty
                row.cum_quote += quote
                row.filled_lots += f.qty
                row.quote_filled += f.qty * f.price
                row.update_time = now
            if f.maker_done:
                maker.status = E.FILLED
                self._untrack(maker)
            else:
                maker.status = E.PARTIALLY_FILLED
            self._dirty_orders[maker.order_id] = maker
            if f.price != agg_price:
                agg_price = f.price
                agg_id = self._counters.next(agg_id_counter(spec.symbol))
            tid = self._counters.next(trade_id_counter(spec.symbol))  # ids count per symbol
            trade = TradeRow(
                id=tid, symbol=spec.symbol, agg_id=agg_id, price=price, qty=qty, quote_qty=quote,
                time=now, buyer_order_id=buyer.order_id, seller_order_id=seller.order_id,
                buyer_account=buyer.account_id, seller_account=seller.account_id,
                taker_side=f.taker_side, buyer_fee=buyer_fee, seller_fee=seller_fee)
            self._market.record_trade(spec, trade)
            taker_fee, fee_asset = (buyer_fee, spec.base) if f.taker_side == E.BUY else (seller_fee, spec.quote)
            out.append({"price": fmt(price), "qty": fmt(qty), "commission": fmt(taker_fee),
                        "commissionAsset": fee_asset, "tradeId": tid})
        return out

    # ----------------------------------------------------------- cancelling

    def cancel_order(self, account_id: int, symbol: str, order_id: int | None,
                     orig_client_order_id: str | None, new_client_order_id: str | None) -> dict:
        """Cancel one open order; -2011 if unknown or already closed."""
        spec = spec_for(self._symbols, symbol)
        row = self.find_open(account_id, symbol, order_id, orig_client_order_id)
        if row is None:
            raise unknown_order()
        with self._tx.mutation():
            now = self._now_ms()
            self._cancel_row(spec, row, now)
        return self._cancel_report(row, new_client_order_id, now)

    def _cancel_row(self, spec: SymbolSpec, row: OrderRow, now: int) -> None:
        if self._books[spec.symbol].cancel(row.order_id) is None:  # pragma: no cover - invariant
            raise AssertionError(f"open order {row.order_id} not in the book")
        asset, amount = reservation(spec, row)
        if amount:
            self._accounts.ledger.unlock(row.account_id, asset, amount)
        row.status = "CANCELED"
        row.update_time = now
        self._untrack(row)
        self._dirty_orders[row.order_id] = row
        self._books.changed(spec.symbol)

    def _cancel_report(self, row: OrderRow, new_cid: str | None, now: int) -> dict:
        out = {"symbol": row.symbol, "origClientOrderId": row.client_order_id,
               "orderId": row.order_id, "orderListId": -1,
               "clientOrderId": new_cid or new_client_id(), "transactTime": now}
        out.update(order_json(row, result=True))
        return out

    def cancel_open_orders(self, account_id: int, symbol: str) -> list[dict]:
        """Cancel every open order of the account on ``symbol`` (one transaction)."""
        spec = spec_for(self._symbols, symbol)
        rows = sorted((r for r in self.open_by_id.values()
                       if r.account_id == account_id and r.symbol == symbol), key=lambda r: r.order_id)
        if not rows:
            return []
        with self._tx.mutation():
            now = self._now_ms()
            for row in rows:
                self._cancel_row(spec, row, now)
        return [self._cancel_report(r, None, now) for r in rows]


def _check_precision(spec: SymbolSpec, req: OrderRequest) -> None:
    """-1111 for a value with more decimals than its asset allows (after the symbol is known,
    before the filters: "0.000000001" BTC is too precise, "95000.123" is merely off-tick)."""
    for name, value, allowed in (("price", req.price, spec.quote_precision),
                                 ("quantity", req.quantity, spec.base_precision),
                                 ("quoteOrderQty", req.quote_order_qty, spec.quote_precision)):
        if value is not None and places(value) > allowed:
            raise ApiError(400, -1111, f"Parameter '{name}' has too much precision.")
