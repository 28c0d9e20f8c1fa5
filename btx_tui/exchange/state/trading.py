"""Trading: place and cancel orders, settle fills, fire stop orders, run OCO lists; owns the
open orders (queries: ``order_queries``).

``place_order`` follows the contract's validation order - symbol (-1121), filters (-1013),
duplicate open ``newClientOrderId`` (-2010), balance (-2010), would-take / would-trigger
(-2010) - and only then mutates: lock the order's funds, submit to the integer engine,
settle every fill in both accounts' ledgers, release what the order no longer reserves,
record.  Nothing is mutated before every check passed, so a rejection leaves no trace.

Funds while an order runs: the taker locks the most it could need (a LIMIT BUY
``qty*price``; a MARKET BUY by quantity all its free quote, used as the engine's
``quote_budget``; a MARKET BUY by ``quoteOrderQty`` that amount; a SELL its base) and
after matching keeps locked exactly what its resting remainder reserves
(:func:`reservation`), releasing the rest - e.g. the price improvement of a BUY that filled
below its limit.  Makers pay from their own reservation at their own price.

Stop orders (``STOP_LOSS``, ``STOP_LOSS_LIMIT``, ``TAKE_PROFIT``, ``TAKE_PROFIT_LIMIT``,
with ``stopPrice`` and/or ``trailingDelta``) rest untriggered in a per-symbol
:class:`~.triggers.TriggerBook`, not in the order book, with ``workingTime`` -1 and their
funds locked from placement (``reserved``: a SELL its quantity; a limit BUY
``qty*price``; a market BUY ``qty * reference * (1 + trailingDelta) * 1.05``, the reference
being the stop price or the last price - it then executes as a MARKET BUY whose quote budget
is that reservation).  Every trade price is checked against the trigger book in the same
engine step (:meth:`Trading._after_match`): a fired order starts working (``workingTime``
= now) and is submitted at once as a taker; its own trades may fire further triggers, which
queue behind it (first in, first out; the triggers fired by one price in order-id order),
so a cascade is deterministic and all of it commits in the same transaction as the trade
that started it.

OCO lists: both legs share ONE lock (the larger of the two legs' needs: only one leg can
ever execute).  When one leg fills (even partly) or triggers, the other is cancelled in the
same step, and the lock shrinks to what the surviving leg needs; cancelling either leg
cancels the list.  The list record itself lives in ``order_lists.py``.

OTO / OTOCO lists: the working order trades like any order; the pending order(s) wait as
``PENDING_NEW`` (open, locking nothing, in neither book) until the working order is FILLED,
then go live in the same step (:meth:`Trading._activate`, queued like fired triggers).
"""

from __future__ import annotations

import secrets
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import ROUND_UP, Decimal

from ..errors import (
    MSG_OCO_PRICES, ApiError, duplicate_order, filter_failure, insufficient_balance,
    market_closed, order_rejected, unknown_order, would_take, would_trigger,
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
from .order_lists import (
    OTO, PENDING_NEW, OrderLists, list_json, list_not_found, new_list, oco_group, order_ids,
)
from .store import OrderListRow, OrderRow, Store, TradeRow
from .symbols import STOP_TYPES, TRAILING_DELTA_MAX, TRAILING_DELTA_MIN, SymbolSpec, places, spec_for
from .transaction import Transaction
from .triggers import ABOVE, BELOW, BPS, Trigger, TriggerBook

__all__ = ["Trading", "OrderRequest", "OcoRequest", "OtoRequest", "reservation", "new_client_id",
           "stop_direction", "engine_kind", "MARKET_STOP_SLACK"]

OPEN_STATUSES = (E.NEW, E.PARTIALLY_FILLED)
CANCELED = "CANCELED"
STOP_ON_FAILURE, ALLOW_FAILURE = "STOP_ON_FAILURE", "ALLOW_FAILURE"
MARKET_STOP_SLACK = Decimal("1.05")
"""A market BUY stop reserves 5 % above its reference price (it may fill above it)."""
_LIMIT_STOPS = ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
_MARKET_STOPS = ("STOP_LOSS", "TAKE_PROFIT")


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
    resp_type: str | None  # ACK | RESULT | FULL (None = the type's default)
    stop_price: Decimal | None = None
    trailing_delta: int | None = None


@dataclass(frozen=True)
class OcoRequest:
    """``POST /api/v3/orderList/oco`` after format validation: two legs of one side and quantity."""

    symbol: str
    side: str
    quantity: Decimal
    list_client_order_id: str | None
    above: OrderRequest
    below: OrderRequest
    resp_type: str | None


@dataclass(frozen=True)
class OtoRequest:
    """``POST /api/v3/orderList/oto`` / ``otoco`` after format validation: a working LIMIT or
    LIMIT_MAKER order and one pending order (OTO) or a pending above/below pair (OTOCO)."""

    symbol: str
    list_client_order_id: str | None
    working: OrderRequest
    pending: tuple[OrderRequest, ...]
    """One pending order, or (above, below) for an OTOCO."""
    pending_side: str
    resp_type: str | None


@dataclass
class _Plan:
    """What a validated order will do: engine units, what to lock, its trigger."""

    spec: SymbolSpec
    ticks: int
    lots: int
    budget: int | None
    asset: str
    lock: Decimal
    untriggered: bool = False
    stop_ticks: int = 0


def stop_direction(order_type: str, side: str) -> int:
    """ABOVE (fires when price >= stop: STOP_LOSS BUY, TAKE_PROFIT SELL) or BELOW."""
    if order_type.startswith("STOP_LOSS"):
        return ABOVE if side == E.BUY else BELOW
    return BELOW if side == E.BUY else ABOVE


def engine_kind(row: OrderRow) -> tuple[str, str | None]:
    """The engine's (kind, tif) for a working order of any type."""
    t = row.type
    if t == E.LIMIT or t in _LIMIT_STOPS:
        return E.LIMIT, row.tif
    if t == E.LIMIT_MAKER:
        return E.LIMIT_MAKER, None
    return E.MARKET, None


def reservation(spec: SymbolSpec, row: OrderRow) -> tuple[str, Decimal]:
    """(asset, amount) an open order keeps locked: untriggered its ``reserved``; working,
    BUY remaining*price quote, SELL remaining base."""
    if row.working_time == -1:
        return (spec.quote if row.side == E.BUY else spec.base), row.reserved
    remaining = spec.lots_to_qty(row.qty_lots - row.filled_lots)
    if row.side == E.BUY:
        return spec.quote, remaining * row.price
    return spec.base, remaining


def new_client_id() -> str:
    """A random 22-character client order id (matches ``^[a-zA-Z0-9-_]{1,36}$``)."""
    return secrets.token_urlsafe(17)[:22]


def amend_rejected(msg: str) -> ApiError:
    """-2038 ORDER_AMEND_REJECTED."""
    return ApiError(400, -2038, msg)


class Trading:
    """Order entry: validation, locking funds, matching, settlement, triggers, lists, cancels.

    Owns the open orders (by id, by client id, count per account and symbol), the untriggered
    orders' trigger books, and the order rows changed in the current transaction.  Moves money
    only through the accounts' ledger, moves books only through :class:`OrderBooks`, hands
    every trade to market data and every list change to :class:`OrderLists`.
    """

    def __init__(self, store: Store, tx: Transaction, symbols: dict[str, SymbolSpec],
                 counters: Counters, accounts: Accounts, books: OrderBooks,
                 market_data: MarketData, now_ms: Callable[[], int], events: EventBus,
                 lists: OrderLists) -> None:
        self._store = store
        self._tx = tx
        self._symbols = symbols
        self._counters = counters
        self._accounts = accounts
        self._books = books
        self._market = market_data
        self._now_ms = now_ms
        self._events = events
        self.lists = lists
        self.load()

    # ------------------------------------------------------------ persistence

    def load(self) -> None:
        """Rebuild the open orders: working ones back on the (freshly emptied) books,
        untriggered ones into the trigger books with their trailing state."""
        self.open_by_id: dict[int, OrderRow] = {}
        """Every open order by id (read by order queries and the invariant check)."""
        self._client_ids: dict[tuple[int, str], int] = {}
        self._open_count: dict[tuple[int, str], int] = defaultdict(int)
        self._dirty_orders: dict[int, OrderRow] = {}
        self.triggers: dict[str, TriggerBook] = {s: TriggerBook(s) for s in self._symbols}
        """Untriggered orders per symbol (read by the invariant check)."""
        self._fired: deque[OrderRow] = deque()
        self._cascading = False
        self._activations: deque[int] = deque()
        """OTO lists whose working order filled: their pending orders go live in this step."""
        self._list_pre: dict[int, list] = {}
        """List id -> [lock before the step, paid by its traded leg, account, asset]."""
        for row in self._store.orders("is_open = 1", (), "ORDER BY seq, order_id"):
            if row.status == PENDING_NEW:
                pass  # an OTO's pending order: nowhere until its working order fills
            elif row.working_time == -1:
                self.triggers[row.symbol].add(self._trigger_of(self._symbols[row.symbol], row))
            else:
                self._books[row.symbol].restore(E.Order(
                    row.order_id, row.account_id, row.side, row.price_ticks, row.qty_lots,
                    row.seq, row.filled_lots, row.quote_filled))
            self._track_open(row)
        for symbol, seq in self._store.max_seq_by_symbol().items():
            if symbol in self._symbols:
                self._books[symbol].resume_seq(seq)

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
                        time=r.time, time_in_force=r.tif, orig_quote_qty=r.orig_quote_qty,
                        stop_price=r.stop_price, trailing_delta=r.trailing_delta, working_time=r.working_time,
                        is_working=r.working_time != -1, order_list_id=r.order_list_id))

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

    def list_legs(self, lst: OrderListRow) -> list[OrderRow]:
        """The list's orders (open ones from memory, closed ones from the store)."""
        out = []
        for oid in order_ids(lst):
            row = self.open_by_id.get(oid)
            if row is None:
                row = self._dirty_orders.get(oid)
            if row is None:
                rows = self._store.orders("order_id = ?", (oid,))
                row = rows[0]
            out.append(row)
        return out

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
        if row.order_list_id != -1:
            lst = self.lists.open_by_id.get(row.order_list_id)
            if lst is not None and not any(i in self.open_by_id for i in order_ids(lst)):
                self.lists.close(lst, row.update_time)

    @staticmethod
    def _trigger_of(spec: SymbolSpec, row: OrderRow) -> Trigger:
        stop = int(row.stop_price / spec.tick_size) if row.stop_price else 0
        return Trigger(row.order_id, row.side == E.SELL, stop_direction(row.type, row.side),
                       stop, row.trailing_delta, row.extreme_ticks, row.trailing_time != -1)

    def _list_reserve(self, spec: SymbolSpec, lst: OrderListRow) -> Decimal:
        """What an open list keeps locked: the larger need of its open orders (one lock for
        an OCO pair; an OTO's pending orders need nothing until they go live)."""
        return self._list_need(spec, lst)[1]

    def _list_asset(self, spec: SymbolSpec, lst: OrderListRow) -> str:
        """The asset of that lock (an OTO's working and pending orders may differ in side)."""
        return self._list_need(spec, lst)[0]

    def _list_need(self, spec: SymbolSpec, lst: OrderListRow) -> tuple[str, Decimal]:
        best: tuple[str, Decimal] | None = None
        for oid in order_ids(lst):
            row = self.open_by_id.get(oid)
            if row is not None:
                need = reservation(spec, row)
                if best is None or need[1] > best[1]:
                    best = need
        return best if best is not None else (spec.quote, ZERO)

    # ---------------------------------------------------------- validation

    def _check(self, account_id: int, req: OrderRequest, *, adding: int = 1) -> _Plan:
        """Every check of a new order, in the contract's order; returns the plan to execute."""
        plan = self._check_shape(req)
        spec = plan.spec
        if self._open_count.get((account_id, spec.symbol), 0) + adding > spec.max_num_orders:
            raise filter_failure("MAX_NUM_ORDERS")
        cid = req.new_client_order_id
        if cid is not None and (account_id, cid) in self._client_ids:
            raise duplicate_order()
        self._check_funds(account_id, req, plan)
        return plan

    def _check_shape(self, req: OrderRequest) -> _Plan:
        """Symbol, precision, status and the symbol's filters (no account state)."""
        spec = spec_for(self._symbols, req.symbol)
        _check_precision(spec, req)
        if spec.status != "TRADING":
            raise market_closed()
        kind = req.type
        ticks = lots = 0
        budget: int | None = None
        plan = _Plan(spec, 0, 0, None, "", ZERO)
        if kind in (E.LIMIT, E.LIMIT_MAKER) or kind in _LIMIT_STOPS:
            assert req.price is not None and req.quantity is not None
            ticks = spec.price_to_ticks(req.price)
            lots = spec.qty_to_lots(req.quantity)
            notional = req.price * req.quantity
            if notional < spec.min_notional or notional > spec.max_notional:
                raise filter_failure("NOTIONAL")
        elif kind == E.MARKET or kind in _MARKET_STOPS:
            if req.quantity is not None:
                lots = spec.qty_to_lots(req.quantity, market=True)
                ref = req.stop_price if req.stop_price is not None else self._market.avg_price_value(spec)
                if req.quantity * ref < spec.min_notional:
                    raise filter_failure("NOTIONAL")
            else:
                assert req.quote_order_qty is not None and kind == E.MARKET
                if req.quote_order_qty < spec.min_notional:
                    raise filter_failure("NOTIONAL")
                budget = spec.quote_to_units_floor(req.quote_order_qty)
                if budget <= 0:
                    raise filter_failure("NOTIONAL")
        else:  # pragma: no cover - the HTTP layer validated the enum
            raise ValueError(f"bad order type {kind}")
        if kind in STOP_TYPES:
            plan.untriggered = True
            if req.stop_price is not None:
                plan.stop_ticks = spec.price_to_ticks(req.stop_price)
            if req.trailing_delta is not None and not (
                    TRAILING_DELTA_MIN <= req.trailing_delta <= TRAILING_DELTA_MAX):
                raise filter_failure("TRAILING_DELTA")
        plan.ticks, plan.lots, plan.budget = ticks, lots, budget
        return plan

    def _check_funds(self, account_id: int, req: OrderRequest, plan: _Plan) -> None:
        """Balance (what to lock), then would-take / would-trigger."""
        spec = plan.spec
        side, kind = req.side, req.type
        book = self._books[spec.symbol]
        budget = plan.budget
        if not self._accounts.exists(account_id):
            raise insufficient_balance()
        lg = self._accounts.ledger
        if side == E.BUY:
            asset = spec.quote
            free = lg.free(account_id, asset)
            if kind in _MARKET_STOPS:
                lock = self._market_stop_lock(spec, req)
            elif kind != E.MARKET:
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
                lock = spec.lots_to_qty(plan.lots)
        if free < lock:
            raise insufficient_balance()
        if kind == E.LIMIT_MAKER and book.would_take(side, plan.ticks):
            raise would_take()
        if plan.untriggered and plan.stop_ticks:
            last = self._market.last_price(spec.symbol)
            if last is not None:
                last_ticks = int(last / spec.tick_size)
                if stop_direction(kind, side) == ABOVE:
                    hit = last_ticks >= plan.stop_ticks
                else:
                    hit = last_ticks <= plan.stop_ticks
                if hit:
                    raise would_trigger()
        plan.budget, plan.asset, plan.lock = budget, asset, lock

    def _market_stop_lock(self, spec: SymbolSpec, req: OrderRequest) -> Decimal:
        """A market BUY stop's reservation: quantity × reference × (1 + delta) × slack."""
        assert req.quantity is not None
        ref = req.stop_price
        if ref is None:
            last = self._market.last_price(spec.symbol)
            ref = last if last is not None else self._market.avg_price_value(spec)
        amount = req.quantity * ref * MARKET_STOP_SLACK
        if req.trailing_delta:
            amount = amount * (BPS + req.trailing_delta) / BPS
        return amount.quantize(spec.quote_unit, rounding=ROUND_UP)

    # ------------------------------------------------------------- placing

    def place_order(self, account_id: int, req: OrderRequest, *, test: bool = False) -> dict:
        """Validate, match (or rest untriggered) and record a new order; the response per
        ``newOrderRespType`` (default FULL for LIMIT/MARKET/LIMIT_MAKER, ACK for stop types)."""
        plan = self._check(account_id, req)
        if test:
            return {}
        spec = plan.spec
        with self._tx.mutation():
            now = self._now_ms()
            row = self._new_row(account_id, req, plan, now, -1)
            if plan.lock:
                self._accounts.ledger.lock(account_id, plan.asset, plan.lock)
            if plan.untriggered:
                self._rest_untriggered(spec, row, plan.lock, now)
                fills: list[dict] = []
            else:
                budget = plan.budget if req.type == E.MARKET else None
                fills, row = self._execute(spec, row, budget, plan.lock, now, was_open=False)
        default = "ACK" if req.type in STOP_TYPES else "FULL"
        return self._new_order_report(row, req.resp_type or default, fills, now)

    def _new_order_report(self, row: OrderRow, resp_type: str, fills: list[dict], now: int) -> dict:
        ack = {"symbol": row.symbol, "orderId": row.order_id, "orderListId": row.order_list_id,
               "clientOrderId": row.client_order_id, "transactTime": now}
        if resp_type == "ACK":
            return ack
        ack.update(order_json(row, result=True))
        if resp_type == "FULL":
            ack["fills"] = fills
        return ack

    def _new_row(self, account_id: int, req: OrderRequest, plan: _Plan, now: int,
                 list_id: int) -> OrderRow:
        kind = req.type
        tif = req.time_in_force if (kind == E.LIMIT or kind in _LIMIT_STOPS) else None
        has_price = kind not in (E.MARKET,) and kind not in _MARKET_STOPS
        oid = self._counters.next("order_id")
        return OrderRow(
            order_id=oid, account_id=account_id, symbol=plan.spec.symbol,
            client_order_id=req.new_client_order_id or new_client_id(), side=req.side, type=kind,
            tif=tif, price=req.price if has_price and req.price is not None else ZERO,
            orig_qty=req.quantity or ZERO, orig_quote_qty=req.quote_order_qty or ZERO,
            executed_qty=ZERO, cum_quote=ZERO, status=E.NEW, time=now, update_time=now,
            working_time=-1 if plan.untriggered else now, seq=0, price_ticks=plan.ticks,
            qty_lots=plan.lots, filled_lots=0, quote_filled=0, is_open=0,
            stop_price=req.stop_price or ZERO, trailing_delta=req.trailing_delta or 0,
            order_list_id=list_id)

    def _rest_untriggered(self, spec: SymbolSpec, row: OrderRow, lock: Decimal, now: int, *,
                          track: bool = True) -> None:
        """Put a stop order in the trigger book (its funds are already locked)."""
        row.reserved = lock
        row.is_open = 1
        if row.trailing_delta and not row.stop_price:
            # No stop price: tracking starts at placement, from the last price if any.
            last = self._market.last_price(spec.symbol)
            row.extreme_ticks = int(last / spec.tick_size) if last is not None else 0
            row.trailing_time = now
        self.triggers[spec.symbol].add(self._trigger_of(spec, row))
        if track:
            self._track_open(row)
        self._dirty_orders[row.order_id] = row

    def _execute(self, spec: SymbolSpec, row: OrderRow, budget: int | None, lock: Decimal,
                 now: int, *, was_open: bool) -> tuple[list[dict], OrderRow]:
        """Submit a working order as a taker, settle, then run what its trades set off.

        Returns its fills and the order as it stood after its own match: orders fired by
        its trades may trade against its resting remainder later in the same step, and the
        placement response reports the order's own execution (fills == executedQty)."""
        fills_json, fills = self._match(spec, row, budget, lock, now, was_open)
        as_matched = replace(row) if fills and self.triggers[spec.symbol] else row
        self._after_match(spec, fills, now)
        return fills_json, as_matched

    def _match(self, spec: SymbolSpec, row: OrderRow, budget: int | None, lock: Decimal,
               now: int, was_open: bool) -> tuple[list[dict], list[E.Fill]]:
        kind, tif = engine_kind(row)
        order = E.Order(row.order_id, row.account_id, row.side, row.price_ticks, row.qty_lots)
        res = self._books[spec.symbol].submit(order, kind, tif, budget if kind == E.MARKET else None)
        row.status = res.status
        row.seq = order.seq
        self._dirty_orders[row.order_id] = row
        fills = self._settle(spec, row, res.fills, now)
        # Release what the order no longer needs: its lock minus what it paid, minus what
        # its resting remainder still reserves.
        paid = row.cum_quote if row.side == E.BUY else row.executed_qty
        keep = reservation(spec, row)[1] if res.rested else ZERO
        release = lock - paid - keep
        if release:
            asset = spec.quote if row.side == E.BUY else spec.base
            self._accounts.ledger.unlock(row.account_id, asset, release)
        if kind == E.MARKET and not row.orig_qty:
            row.orig_qty = row.executed_qty
        if row.order_list_id != -1 and not res.rested:
            if res.status == E.FILLED:
                self._list_order_filled(row)
            else:
                self._working_order_ended(spec, row, now)
        if res.rested:
            row.is_open = 1
            if not was_open:
                self._track_open(row)
        elif was_open:
            self._untrack(row)
        if res.rested or res.fills:
            self._books.changed(spec.symbol)
        self._dirty_orders[row.order_id] = row
        return fills, res.fills

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
            if maker.order_list_id != -1 and maker.order_id in oco_group(
                    self.lists.open_by_id[maker.order_list_id]):
                self._note_list_fill(spec, maker, quote if maker.side == E.BUY else qty)
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
                if maker.order_list_id != -1:
                    self._list_order_filled(maker)
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

    # ------------------------------------------------------- triggers, lists

    def _note_list_fill(self, spec: SymbolSpec, maker: OrderRow, paid: Decimal) -> None:
        """A list leg trades as a maker: remember the list's lock before the step and what
        the leg paid out of it (the sibling is cancelled after the match)."""
        entry = self._list_pre.get(maker.order_list_id)
        if entry is None:  # first fill of this list in the step: its lock before any change
            lst = self.lists.open_by_id[maker.order_list_id]
            entry = self._list_pre[maker.order_list_id] = (
                [self._list_reserve(spec, lst), ZERO, maker.account_id,
                 spec.quote if maker.side == E.BUY else spec.base])
        entry[1] += paid

    def _after_match(self, spec: SymbolSpec, fills: list[E.Fill], now: int) -> None:
        """What a match sets off, in the same step: OCO legs that traded cancel their
        siblings; every trade price is checked against the trigger book; fired orders work
        as takers one after another (a cascade queues behind the running one)."""
        if self._list_pre:
            self._settle_list_fills(spec, now)
        if not fills and not self._activations:
            return
        tb = self.triggers[spec.symbol]
        if tb:
            queue = self._fired
            last = None
            for f in fills:
                if f.price != last:
                    last = f.price
                    for trig in tb.on_price(last):
                        queue.append(self.open_by_id[trig.order_id])
            if tb.moved:
                for oid in tb.moved:
                    trig_row = self.open_by_id[oid]
                    t = tb.get(oid)
                    assert t is not None
                    trig_row.extreme_ticks = t.extreme
                    if trig_row.trailing_time == -1:
                        trig_row.trailing_time = now
                    self._dirty_orders[oid] = trig_row
                tb.moved.clear()
        if self._cascading or not (self._fired or self._activations):
            return
        self._cascading = True
        try:
            while self._fired or self._activations:
                if self._activations:  # what the last trade filled goes first
                    lst = self.lists.open_by_id.get(self._activations.popleft())
                    if lst is not None:
                        self._activate(self._symbols[lst.symbol], lst, now)
                    continue
                row = self._fired.popleft()
                if row.is_open and row.working_time == -1 and row.status != PENDING_NEW:
                    self._fire(self._symbols[row.symbol], row, now)
        finally:
            self._cascading = False
            self._fired.clear()
            self._activations.clear()

    # ------------------------------------------------------------ OTO lists

    def _list_order_filled(self, row: OrderRow) -> None:
        """A list order is FILLED: an OTO's working order makes its pending orders go live."""
        lst = self.lists.open_by_id.get(row.order_list_id)
        if lst is not None and lst.contingency_type == OTO and order_ids(lst)[0] == row.order_id:
            self._activations.append(lst.list_id)

    def _working_order_ended(self, spec: SymbolSpec, row: OrderRow, now: int) -> None:
        """An OTO's working order ended unfilled (IOC/FOK expired): its pending orders expire."""
        lst = self.lists.open_by_id.get(row.order_list_id)
        if lst is None or lst.contingency_type != OTO or order_ids(lst)[0] != row.order_id:
            return
        for leg in self.list_legs(lst):
            if leg.is_open and leg.status == PENDING_NEW:
                self._close_quietly(spec, leg, now, E.EXPIRED)

    @staticmethod
    def _request_of(row: OrderRow) -> OrderRequest:
        has_price = row.type not in (E.MARKET, *_MARKET_STOPS)
        return OrderRequest(row.symbol, row.side, row.type, row.tif, row.orig_qty, None,
                            row.price if has_price else None, None, None,
                            row.stop_price or None, row.trailing_delta or None)

    def _activate(self, spec: SymbolSpec, lst: OrderListRow, now: int) -> None:
        """The working order filled: the pending order(s) are placed as new orders now -
        funds locked (an OTOCO pair once), stops to the trigger book, a LIMIT_MAKER to the
        book, anything else matched at once.  A pending order that cannot be placed now
        (balance, would take, would trigger) expires, with its pair."""
        pending = [r for r in self.list_legs(lst) if r.is_open and r.status == PENDING_NEW]
        if not pending:
            return
        plans = []
        try:
            for row in pending:
                req = self._request_of(row)
                plan = self._check_shape(req)
                self._check_funds(row.account_id, req, plan)
                plans.append(plan)
        except ApiError:
            for row in pending:
                self._close_quietly(spec, row, now, E.EXPIRED)
            return
        lock = max(p.lock for p in plans)
        if lock:
            self._accounts.ledger.lock(lst.account_id, plans[0].asset, lock)
        for row, plan in zip(pending, plans):
            row.status = E.NEW
            row.update_time = now
            row.working_time = -1 if plan.untriggered else now
            if plan.untriggered:
                self._rest_untriggered(spec, row, plan.lock, now, track=False)
            elif len(pending) == 2:  # the LIMIT_MAKER of an OTOCO pair: rests (checked)
                order = E.Order(row.order_id, row.account_id, row.side, row.price_ticks, row.qty_lots)
                res = self._books[spec.symbol].submit(order, E.LIMIT_MAKER, None)
                assert res.rested, res
                row.seq = order.seq
                self._books.changed(spec.symbol)
                self._dirty_orders[row.order_id] = row
            else:
                budget = plan.budget if row.type == E.MARKET else None
                self._execute(spec, row, budget, plan.lock, now, was_open=True)

    def _settle_list_fills(self, spec: SymbolSpec, now: int) -> None:
        pre, self._list_pre = self._list_pre, {}
        for list_id, (before, paid, account_id, asset) in pre.items():
            lst = self.lists.open_by_id.get(list_id)
            after = ZERO
            if lst is not None:  # the legs that have not traded are cancelled
                group = oco_group(lst)
                for leg in self.list_legs(lst):
                    if leg.is_open and not leg.filled_lots and leg.order_id in group:
                        self._close_quietly(spec, leg, now, CANCELED)
                after = self._list_reserve(spec, lst)
            release = before - paid - after
            if release:
                self._accounts.ledger.unlock(account_id, asset, release)

    def _fire(self, spec: SymbolSpec, row: OrderRow, now: int) -> None:
        """A stop order's trigger fired: it starts working and is submitted as a taker."""
        lock = row.reserved
        if row.order_list_id != -1:
            lst = self.lists.open_by_id.get(row.order_list_id)
            if lst is not None:
                before = self._list_reserve(spec, lst)
                group = oco_group(lst)
                for leg in self.list_legs(lst):
                    if leg.is_open and leg.order_id != row.order_id and leg.order_id in group:
                        self._close_quietly(spec, leg, now, CANCELED)
                if before - lock:
                    self._accounts.ledger.unlock(row.account_id, self._list_asset(spec, lst),
                                                 before - lock)
        row.working_time = now
        row.update_time = now
        row.reserved = ZERO
        budget = None
        if row.type in _MARKET_STOPS and row.side == E.BUY:
            budget = spec.quote_to_units_floor(lock)
        self._execute(spec, row, budget, lock, now, was_open=True)

    def _close_quietly(self, spec: SymbolSpec, row: OrderRow, now: int, status: str) -> None:
        """Take an open order out of the book or trigger book and close it; moves no money
        (the caller settles the lock it shared with its list)."""
        if row.working_time == -1:
            self.triggers[spec.symbol].remove(row.order_id)
        else:
            if self._books[spec.symbol].cancel(row.order_id) is None:  # pragma: no cover
                raise AssertionError(f"open order {row.order_id} not in the book")
            self._books.changed(spec.symbol)
        row.status = status
        row.update_time = now
        self._untrack(row)
        self._dirty_orders[row.order_id] = row

    # ----------------------------------------------------------- cancelling

    def cancel_order(self, account_id: int, symbol: str, order_id: int | None,
                     orig_client_order_id: str | None, new_client_order_id: str | None) -> dict:
        """Cancel one open order (a list leg cancels its whole list); -2011 if unknown or closed."""
        spec = spec_for(self._symbols, symbol)
        row = self.find_open(account_id, symbol, order_id, orig_client_order_id)
        if row is None:
            raise unknown_order()
        with self._tx.mutation():
            now = self._now_ms()
            if row.order_list_id != -1:
                self._cancel_list_legs(spec, self.lists.open_by_id[row.order_list_id], now)
            else:
                self._cancel_row(spec, row, now)
        return self._cancel_report(row, new_client_order_id, now)

    def _cancel_row(self, spec: SymbolSpec, row: OrderRow, now: int) -> None:
        asset, amount = reservation(spec, row)
        self._close_quietly(spec, row, now, CANCELED)
        if amount:
            self._accounts.ledger.unlock(row.account_id, asset, amount)

    def _cancel_list_legs(self, spec: SymbolSpec, lst: OrderListRow, now: int) -> None:
        amount = self._list_reserve(spec, lst)
        asset = self._list_asset(spec, lst)
        for leg in self.list_legs(lst):
            if leg.is_open:
                self._close_quietly(spec, leg, now, CANCELED)
        if amount:
            self._accounts.ledger.unlock(lst.account_id, asset, amount)

    def _cancel_report(self, row: OrderRow, new_cid: str | None, now: int) -> dict:
        out = {"symbol": row.symbol, "origClientOrderId": row.client_order_id,
               "orderId": row.order_id, "orderListId": row.order_list_id,
               "clientOrderId": new_cid or new_client_id(), "transactTime": now}
        out.update(order_json(row, result=True))
        return out

    def cancel_open_orders(self, account_id: int, symbol: str) -> list[dict]:
        """Cancel every open order and order list of the account on ``symbol`` (one
        transaction): plain orders' reports, then one list object per cancelled list."""
        spec = spec_for(self._symbols, symbol)
        rows = sorted((r for r in self.open_by_id.values()
                       if r.account_id == account_id and r.symbol == symbol), key=lambda r: r.order_id)
        if not rows:
            return []
        lists = sorted({r.order_list_id for r in rows if r.order_list_id != -1})
        out: list[dict] = []
        with self._tx.mutation():
            now = self._now_ms()
            for row in rows:
                if row.order_list_id == -1:
                    self._cancel_row(spec, row, now)
            closed = []
            for list_id in lists:
                lst = self.lists.open_by_id[list_id]
                self._cancel_list_legs(spec, lst, now)
                closed.append(lst)
        out = [self._cancel_report(r, None, now) for r in rows if r.order_list_id == -1]
        out.extend(self._list_report(lst, now, cancel=True) for lst in closed)
        return out

    # ------------------------------------------------------------ order lists

    def place_oco(self, account_id: int, req: OcoRequest) -> dict:
        """``POST /api/v3/orderList/oco``: validate both legs and their prices, lock once."""
        spec = spec_for(self._symbols, req.symbol)
        _check_oco_types(req.side, req.above.type, req.below.type)
        below = self._check(account_id, req.below, adding=2)
        above = self._check_shape(req.above)
        self._check_funds(account_id, req.above, above)
        cids = [c for c in (req.above.new_client_order_id, req.below.new_client_order_id) if c]
        if len(set(cids)) != len(cids):
            raise duplicate_order()
        if any((account_id, c) in self._client_ids for c in cids):
            raise duplicate_order()
        if req.list_client_order_id is not None and self.lists.client_id_taken(
                account_id, req.list_client_order_id):
            raise duplicate_order()
        self._check_oco_prices(spec, req)
        lock = max(above.lock, below.lock)
        with self._tx.mutation():
            now = self._now_ms()
            list_id = self.lists.next_id()
            if lock:
                self._accounts.ledger.lock(account_id, below.asset, lock)
            legs = []
            for leg_req, plan in ((req.below, below), (req.above, above)):
                row = self._new_row(account_id, leg_req, plan, now, list_id)
                if plan.untriggered:
                    self._rest_untriggered(spec, row, plan.lock, now)
                else:  # the LIMIT_MAKER leg: would_take was checked, so it rests
                    order = E.Order(row.order_id, account_id, row.side, row.price_ticks, row.qty_lots)
                    res = self._books[spec.symbol].submit(order, E.LIMIT_MAKER, None)
                    assert res.rested, res
                    row.seq, row.is_open = order.seq, 1
                    self._track_open(row)
                    self._books.changed(spec.symbol)
                    self._dirty_orders[row.order_id] = row
                legs.append(row)
            lst = new_list(list_id, account_id, spec.symbol,
                           req.list_client_order_id or new_client_id(),
                           [r.order_id for r in legs], now)
            self.lists.open(lst)
        return self._list_report(lst, now, resp_type=req.resp_type or "FULL")

    def place_oto(self, account_id: int, req: OtoRequest) -> dict:
        """``POST /api/v3/orderList/oto`` and ``otoco``: the working order is placed (and may
        fill at once); the pending order(s) wait as PENDING_NEW, locking nothing, until it
        fills.  Filters of every order are checked now; balance only for the working order
        (the pending ones usually spend what it buys)."""
        spec = spec_for(self._symbols, req.symbol)
        if len(req.pending) == 2:
            _check_oco_types(req.pending_side, req.pending[0].type, req.pending[1].type)
        working = self._check(account_id, req.working, adding=1 + len(req.pending))
        pending_plans = [self._check_shape(p) for p in req.pending]
        cids = [c for c in (req.working.new_client_order_id,
                            *(p.new_client_order_id for p in req.pending)) if c]
        if len(set(cids)) != len(cids) or any((account_id, c) in self._client_ids for c in cids):
            raise duplicate_order()
        if req.list_client_order_id is not None and self.lists.client_id_taken(
                account_id, req.list_client_order_id):
            raise duplicate_order()
        with self._tx.mutation():
            now = self._now_ms()
            list_id = self.lists.next_id()
            work_row = self._new_row(account_id, req.working, working, now, list_id)
            rows = [work_row]
            for p_req, plan in zip(req.pending, pending_plans):
                row = self._new_row(account_id, p_req, plan, now, list_id)
                row.status, row.working_time, row.is_open = PENDING_NEW, -1, 1
                self._track_open(row)
                self._dirty_orders[row.order_id] = row
                rows.append(row)
            lst = new_list(list_id, account_id, spec.symbol,
                           req.list_client_order_id or new_client_id(),
                           [r.order_id for r in rows], now, contingency=OTO)
            self.lists.open(lst)
            if working.lock:
                self._accounts.ledger.lock(account_id, working.asset, working.lock)
            fills, as_matched = self._execute(spec, work_row, None, working.lock, now, was_open=False)
        out = list_json(lst, rows)
        resp_type = req.resp_type or "FULL"
        reports = [self._new_order_report(as_matched, resp_type, fills, now)]
        # The pending orders as placed (the standard: query them again for later states).
        reports += [self._new_order_report(replace(r, status=PENDING_NEW, working_time=-1,
                                                   executed_qty=ZERO, cum_quote=ZERO),
                                           resp_type, [], now) for r in rows[1:]]
        out["orderReports"] = reports
        out["listStatusType"], out["listOrderStatus"] = "EXEC_STARTED", "EXECUTING"
        return out

    def _check_oco_prices(self, spec: SymbolSpec, req: OcoRequest) -> None:
        """above's price > last price > below's price (stop price for contingent legs,
        limit price for LIMIT_MAKER); a trailing leg without a stop price has none."""
        def ref(leg: OrderRequest) -> Decimal | None:
            return leg.price if leg.type == E.LIMIT_MAKER else leg.stop_price

        hi, lo = ref(req.above), ref(req.below)
        last = self._market.last_price(spec.symbol)
        if hi is not None and lo is not None and hi <= lo:
            raise order_rejected(MSG_OCO_PRICES)
        if last is not None and ((hi is not None and hi <= last) or (lo is not None and lo >= last)):
            raise order_rejected(MSG_OCO_PRICES)

    def _list_report(self, lst: OrderListRow, now: int, *, resp_type: str = "RESULT",
                     cancel: bool = False) -> dict:
        legs = self.list_legs(lst)
        out = list_json(lst, legs)
        reports = []
        for row in legs:
            if cancel:
                report = {"symbol": row.symbol, "origClientOrderId": row.client_order_id,
                          "orderId": row.order_id, "orderListId": row.order_list_id,
                          "clientOrderId": new_client_id(), "transactTime": now}
                report.update(order_json(row, result=True))
            else:
                report = self._new_order_report(row, resp_type, [], now)
            reports.append(report)
        out["orderReports"] = reports
        return out

    def cancel_order_list(self, account_id: int, symbol: str, list_id: int | None,
                          list_client_id: str | None) -> dict:
        """``DELETE /api/v3/orderList``: cancel every open leg; -2011 if not open."""
        spec = spec_for(self._symbols, symbol)
        lst = self.lists.find(account_id, list_id, list_client_id, open_only=True)
        if lst is None or lst.symbol != symbol:
            raise unknown_order()
        with self._tx.mutation():
            now = self._now_ms()
            self._cancel_list_legs(spec, lst, now)
        return self._list_report(lst, now, cancel=True)

    def order_list(self, account_id: int, list_id: int | None, list_client_id: str | None) -> dict:
        self._tx.sync()
        lst = self.lists.find(account_id, list_id, list_client_id, open_only=False)
        if lst is None:
            raise list_not_found()
        return list_json(lst, self.list_legs(lst))

    def all_order_lists(self, account_id: int, from_id: int | None, start: int | None,
                        end: int | None, limit: int) -> list[dict]:
        self._tx.sync()
        return [list_json(lst, self.list_legs(lst))
                for lst in self.lists.history(account_id, from_id, start, end, limit)]

    def open_order_lists(self, account_id: int) -> list[dict]:
        rows = sorted((lst for lst in self.lists.open_by_id.values() if lst.account_id == account_id),
                      key=lambda lst: lst.list_id)
        return [list_json(lst, self.list_legs(lst)) for lst in rows]

    # ------------------------------------------------------- amend, replace

    def amend_keep_priority(self, account_id: int, symbol: str, order_id: int | None,
                            orig_client_order_id: str | None, new_client_order_id: str | None,
                            new_qty: Decimal) -> dict:
        """``PUT /api/v3/order/amend/keepPriority``: lower the quantity in place (an OCO's
        legs together); the queue position and the order id stay."""
        spec = spec_for(self._symbols, symbol)
        row = self.find_open(account_id, symbol, order_id, orig_client_order_id)
        if row is None:
            raise amend_rejected("Unknown order sent.")
        if places(new_qty) > spec.base_precision:
            raise ApiError(400, -1111, "Parameter 'newQty' has too much precision.")
        market_type = row.type in _MARKET_STOPS
        lots = spec.qty_to_lots(new_qty, market=market_type)
        if row.price and new_qty * row.price < spec.min_notional:
            raise filter_failure("NOTIONAL")
        if new_qty == row.orig_qty:
            raise amend_rejected("The requested action would change no state; rejecting")
        if new_qty > row.orig_qty:
            raise amend_rejected("Order amend (quantity increase) is not supported.")
        lst = self.lists.open_by_id.get(row.order_list_id) if row.order_list_id != -1 else None
        group = oco_group(lst) if lst is not None else []
        legs = [r for r in self.list_legs(lst) if r.is_open and r.order_id in group] \
            if row.order_id in group else [row]
        if any(lots <= leg.filled_lots for leg in legs):
            raise amend_rejected("newQty must be above the executed quantity.")
        new_cid = new_client_order_id or new_client_id()
        if new_cid != row.client_order_id and (account_id, new_cid) in self._client_ids:
            raise amend_rejected("Duplicate order sent.")
        with self._tx.mutation():
            now = self._now_ms()
            before = self._list_reserve(spec, lst) if lst is not None else reservation(spec, row)[1]
            book = self._books[spec.symbol]
            for leg in legs:
                old_lots = leg.qty_lots
                leg.qty_lots = lots
                leg.orig_qty = new_qty
                if leg.status == PENDING_NEW:
                    pass  # locks nothing until its working order fills
                elif leg.working_time == -1:
                    if leg.side == E.SELL:
                        leg.reserved = new_qty
                    elif leg.type in _LIMIT_STOPS:
                        leg.reserved = new_qty * leg.price
                    else:  # market BUY stop: the same reference, scaled
                        leg.reserved = (leg.reserved * lots / old_lots).quantize(
                            spec.quote_unit, rounding=ROUND_UP)
                elif book.reduce(leg.order_id, lots):
                    self._books.changed(spec.symbol)
                leg.update_time = now
                self._dirty_orders[leg.order_id] = leg
            if new_cid != row.client_order_id:
                del self._client_ids[(account_id, row.client_order_id)]
                self._client_ids[(account_id, new_cid)] = row.order_id
            orig_cid, row.client_order_id = row.client_order_id, new_cid
            after = self._list_reserve(spec, lst) if lst is not None else reservation(spec, row)[1]
            if before - after:
                asset = spec.quote if row.side == E.BUY else spec.base
                self._accounts.ledger.unlock(account_id, asset, before - after)
            if lst is not None:
                self.lists.touched(lst)
            execution_id = self._counters.next("execution_id")
        out = {"transactTime": now, "executionId": execution_id, "amendedOrder": {
            "symbol": row.symbol, "orderId": row.order_id, "orderListId": row.order_list_id,
            "origClientOrderId": orig_cid, "clientOrderId": row.client_order_id,
            "price": fmt(row.price), "qty": fmt(row.orig_qty), "executedQty": fmt(row.executed_qty),
            "preventedQty": fmt(ZERO), "quoteOrderQty": fmt(row.orig_quote_qty),
            "cumulativeQuoteQty": fmt(row.cum_quote), "status": row.status,
            "timeInForce": row.tif or "GTC", "type": row.type, "side": row.side,
            "workingTime": row.working_time, "selfTradePreventionMode": "NONE"}}
        if lst is not None:
            out["listStatus"] = list_json(lst, self.list_legs(lst))
        return out

    def cancel_replace(self, account_id: int, mode: str, cancel_order_id: int | None,
                       cancel_orig_client_order_id: str | None, cancel_new_client_order_id: str | None,
                       req: OrderRequest) -> dict:
        """``POST /api/v3/order/cancelReplace``: the filters first (a plain error, nothing
        done), then cancel and place in one transaction.  STOP_ON_FAILURE: a failed cancel
        stops (-2022, 400); a failed placement after a cancel is -2021 (409, the cancel
        stays).  ALLOW_FAILURE: both are attempted; one failure -2021 (409), both -2022 (400)."""
        self._check_shape(req)
        cancel_resp: dict | None = None
        new_resp: dict | None = None
        with self._tx.mutation():
            try:
                cancel_resp = self.cancel_order(account_id, req.symbol, cancel_order_id,
                                                cancel_orig_client_order_id, cancel_new_client_order_id)
            except ApiError as e:
                cancel_err = e.body()
            if cancel_resp is None and mode == STOP_ON_FAILURE:
                raise ApiError(400, -2022, "Order cancel-replace failed.", data={
                    "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                    "cancelResponse": cancel_err, "newOrderResponse": None})
            try:
                new_resp = self.place_order(account_id, req)
            except ApiError as e:
                new_err = e.body()
            data = {"cancelResult": "SUCCESS" if cancel_resp is not None else "FAILURE",
                    "newOrderResult": "SUCCESS" if new_resp is not None else "FAILURE",
                    "cancelResponse": cancel_resp if cancel_resp is not None else cancel_err,
                    "newOrderResponse": new_resp if new_resp is not None else new_err}
            if cancel_resp is None and new_resp is None:
                raise ApiError(400, -2022, "Order cancel-replace failed.", data=data)
            if cancel_resp is None or new_resp is None:
                raise ApiError(409, -2021, "Order cancel-replace partially failed.", data=data)
        return data


_OCO_CODES = {
    # (side, leg position, leg family) -> the standard's error for a leg on the wrong side
    ("SELL", "below", "limit"): (-1166, "A limit order in a sell OCO must be above."),
    ("SELL", "below", "tp"): (-1199, "A take profit order in a sell OCO must be above."),
    ("SELL", "above", "sl"): (-1197, "A stop loss order in a sell OCO must be below."),
    ("BUY", "above", "limit"): (-1165, "A limit order in a buy OCO must be below."),
    ("BUY", "above", "tp"): (-1198, "A take profit order in a buy OCO must be below."),
    ("BUY", "below", "sl"): (-1196, "A stop loss order in a buy OCO must be above."),
}


def _family(order_type: str) -> str:
    if order_type == E.LIMIT_MAKER:
        return "limit"
    return "sl" if order_type.startswith("STOP_LOSS") else "tp"


def _check_oco_types(side: str, above: str, below: str) -> None:
    """A SELL OCO: limit/take-profit above, stop-loss below; a BUY OCO the other way round."""
    for position, order_type in (("above", above), ("below", below)):
        code = _OCO_CODES.get((side, position, _family(order_type)))
        if code is not None:
            raise ApiError(400, code[0], code[1])


def _check_precision(spec: SymbolSpec, req: OrderRequest) -> None:
    """-1111 for a value with more decimals than its asset allows (after the symbol is known,
    before the filters: "0.000000001" BTC is too precise, "95000.123" is merely off-tick)."""
    for name, value, allowed in (("price", req.price, spec.quote_precision),
                                 ("quantity", req.quantity, spec.base_precision),
                                 ("quoteOrderQty", req.quote_order_qty, spec.quote_precision),
                                 ("stopPrice", req.stop_price, spec.quote_precision)):
        if value is not None and places(value) > allowed:
            raise ApiError(400, -1111, f"Parameter '{name}' has too much precision.")
