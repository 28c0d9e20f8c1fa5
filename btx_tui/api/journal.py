"""The client-side order intent journal: a durable record of every order this app named.

Why: an order whose answer was lost (crash, reset, 5xx) may or may not exist on the exchange.
The only safe way to find out later — after a reconnect or an app restart — is to remember,
*before sending*, which ``newClientOrderId`` we were about to use. This journal is that memory:
a small SQLite file (WAL, ``synchronous=FULL``: an intent is on disk before the request leaves)
that implements :class:`~btx_tui.api.orders.OrderJournal`, so
``client.place_order(request, journal=journal)`` writes the intent first and the outcome after.

One journal per exchange account: the file name is a SHA-256 prefix of ``base_url`` + api key
(:func:`account_fingerprint`). Neither the key nor the secret is ever stored.

States (:class:`JournalState`): ``pending`` (sent or about to be, outcome not known),
``accepted`` (on the exchange, still open), ``filled``, ``canceled``, ``expired``, ``rejected``
and ``absent`` (proven not to exist after several "does not exist" answers). Fills are kept
once per (symbol, trade id, order id) — a self-trade is two fills with one trade id.

The methods are synchronous: each is one small transaction (an fsync, a few ms) and must be
complete before the order is sent, so there is nothing to gain from a thread here.

Retention: without pruning the file grows forever. Opening a journal prunes *final* entries
(and their fills) unchanged for :data:`KEEP_FINAL_S` (30 days); pending and accepted entries
are never pruned, whatever their age — they are exactly what reconciliation must still settle.
The prune horizon is remembered (:meth:`SqliteJournal.pruned_before_ms`) so reconciliation does
not re-adopt, from the exchange's history, the old finished orders the journal chose to forget.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from .journal_entries import (
    FINAL_STATES,
    AmendEntry,
    JournalEntry,
    JournalState,
    ListEntry,
    account_fingerprint,
    journal_file,
    state_of,
)
from .models_orderlists import OrderList
from .models_trading import MyTrade, Order, OrderFill
from .order_changes import AmendOutcome, AmendRequest
from .order_lists import ListPlacementResult, OrderListRequest, contingency_of
from .orders import OrderRequest, Outcome, PlacementResult

__all__ = [
    "KEEP_FINAL_S",
    "AmendEntry",
    "JournalEntry",
    "JournalState",
    "ListEntry",
    "SqliteJournal",
    "account_fingerprint",
    "journal_file",
    "state_of",
]

SCHEMA_VERSION = 1

#: How long a finished entry (and its fills) is kept after its last change: 30 days. Long
#: enough to outlive any reconciliation horizon (absent intents are rechecked for 24 h) and a
#: month of looking back at fills; short enough that a busy account's journal stays small.
KEEP_FINAL_S = 30 * 24 * 3600.0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS intents (
    client_order_id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    type TEXT NOT NULL,
    quantity TEXT,
    price TEXT,
    quote_order_qty TEXT,
    time_in_force TEXT,
    state TEXT NOT NULL,
    origin TEXT NOT NULL,
    order_id INTEGER,
    exchange_status TEXT,
    executed_qty TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS intents_state ON intents(state);
CREATE INDEX IF NOT EXISTS intents_order ON intents(symbol, order_id);
CREATE TABLE IF NOT EXISTS fills (
    symbol TEXT NOT NULL,
    trade_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    client_order_id TEXT NOT NULL,
    price TEXT NOT NULL,
    qty TEXT NOT NULL,
    commission TEXT NOT NULL,
    commission_asset TEXT NOT NULL,
    time_ms INTEGER,
    PRIMARY KEY (symbol, trade_id, order_id)
);
CREATE TABLE IF NOT EXISTS order_lists (
    list_client_order_id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    contingency TEXT NOT NULL,
    state TEXT NOT NULL,
    origin TEXT NOT NULL,
    order_list_id INTEGER,
    list_order_status TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS amends (
    new_client_order_id TEXT PRIMARY KEY,
    old_client_order_id TEXT,
    symbol TEXT NOT NULL,
    new_qty TEXT NOT NULL,
    state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
"""

#: Columns added to ``intents`` after version 1; an older file gets them when it is opened.
_ADDED_INTENT_COLUMNS = (("stop_price", "TEXT"), ("trailing_delta", "INTEGER"),
                         ("list_client_order_id", "TEXT"))

_COLUMNS = ("client_order_id", "symbol", "side", "type", "quantity", "price", "quote_order_qty",
            "time_in_force", "state", "origin", "order_id", "exchange_status", "executed_qty", "note",
            "created_ms", "updated_ms", "stop_price", "trailing_delta", "list_client_order_id")
_LIST_COLUMNS = ("list_client_order_id", "symbol", "contingency", "state", "origin", "order_list_id",
                 "list_order_status", "note", "created_ms", "updated_ms")
_AMEND_COLUMNS = ("new_client_order_id", "old_client_order_id", "symbol", "new_qty", "state", "note",
                  "created_ms", "updated_ms")


def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def _txt(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(getattr(value, "value", value))


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqliteJournal:
    """The order intent journal in one SQLite file (or ``":memory:"`` for tests).

    Implements :class:`~btx_tui.api.orders.OrderJournal` (``record_intent`` /
    ``record_outcome``) plus the updates reconciliation and the dashboard feed it.

    Args:
        path: the SQLite file (created with its folder if missing).
        fingerprint: the account's fingerprint, stored once in ``meta``.
        keep_final_s: on opening, :meth:`prune` final entries unchanged for this long
            (default :data:`KEEP_FINAL_S`, 30 days); None keeps everything.
    """

    def __init__(self, path: str | Path, *, fingerprint: str | None = None,
                 keep_final_s: float | None = KEEP_FINAL_S) -> None:
        self.path = path
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(intents)")}
        for name, kind in _ADDED_INTENT_COLUMNS:
            if name not in have:
                self._db.execute(f"ALTER TABLE intents ADD COLUMN {name} {kind}")
        with self._tx():
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            if fingerprint is not None:
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('account', ?)", (fingerprint,))
        if keep_final_s is not None:
            self.prune(keep_final_s)

    def __repr__(self) -> str:
        return f"SqliteJournal({str(self.path)!r})"

    def close(self) -> None:
        self._db.close()

    def _tx(self) -> sqlite3.Connection:
        """``with self._tx():`` — one immediate transaction, committed (fsync'd) on exit."""
        return _Tx(self._db)  # type: ignore[return-value]

    # -- the OrderJournal protocol ---------------------------------------------------------

    def record_intent(self, request: OrderRequest, *, list_client_order_id: str | None = None) -> None:
        """Write the intent *before* the request is sent; raises if it cannot be written."""
        now = _now_ms()
        with self._tx():
            self._db.execute(
                "INSERT INTO intents (client_order_id, symbol, side, type, quantity, price, quote_order_qty,"
                " time_in_force, state, origin, created_ms, updated_ms, stop_price, trailing_delta,"
                " list_client_order_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 'local', ?, ?, ?, ?, ?)",
                (request.client_order_id, request.symbol, _txt(request.side), _txt(request.type),
                 _txt(request.quantity), _txt(request.price), _txt(request.quote_order_qty),
                 _txt(request.time_in_force), now, now, _txt(request.stop_price), request.trailing_delta,
                 list_client_order_id))

    # -- order lists (the ListJournal protocol) ----------------------------------------------

    def record_list_intent(self, request: OrderListRequest) -> None:
        """Write the list and every leg as pending, in ONE transaction, before sending."""
        now = _now_ms()
        with self._tx():
            self._db.execute(
                "INSERT INTO order_lists (list_client_order_id, symbol, contingency, state, origin,"
                " created_ms, updated_ms) VALUES (?, ?, ?, 'pending', 'local', ?, ?)",
                (request.list_client_order_id, request.symbol, contingency_of(request), now, now))
            for leg in request.leg_requests():
                self.record_intent(leg, list_client_order_id=request.list_client_order_id)

    def record_list_outcome(self, result: ListPlacementResult) -> None:
        """Bring the list and its legs up to date with how the placement ended."""
        lcid = result.list_client_order_id
        legs = [leg.client_order_id for leg in result.request.leg_requests()]
        if result.outcome is Outcome.ACCEPTED and result.order_list is not None:
            self.record_order_list(result.order_list)
        elif result.outcome is Outcome.REJECTED:
            state = JournalState.ABSENT if result.proven_absent else JournalState.REJECTED
            note = "" if result.error is None else str(result.error)
            with self._tx():
                self._set_list_state(lcid, state, note)
                for cid in legs:
                    self._set_state(cid, state, note)
        else:
            note = f"outcome unknown: {result.error}" if result.error else ""
            with self._tx():
                self._set_list_state(lcid, JournalState.PENDING, note)
                for cid in legs:
                    self._set_state(cid, JournalState.PENDING, note)

    def record_order_list(self, order_list: OrderList, *, adopt: bool = False) -> bool:
        """Update from an exchange report of a list (place, cancel, query). Its order reports
        update the legs; legs named without a report are known to exist (accepted) and keep
        their state otherwise. An unknown list is recorded only with ``adopt``. True if the
        list's row changed."""
        lcid = order_list.list_client_order_id
        state = JournalState.ACCEPTED if order_list.is_open else JournalState.DONE
        known = self.get_list(lcid)
        now = _now_ms()
        with self._tx():
            if known is None:
                if not adopt:
                    return False
                contingency = order_list.contingency_type
                if contingency == "OTO" and len(order_list.orders) == 3:
                    contingency = "OTOCO"
                self._db.execute(
                    "INSERT INTO order_lists (list_client_order_id, symbol, contingency, state, origin,"
                    " order_list_id, list_order_status, note, created_ms, updated_ms)"
                    " VALUES (?, ?, ?, ?, 'adopted', ?, ?, 'found on the exchange', ?, ?)",
                    (lcid, order_list.symbol, contingency, state.value, order_list.order_list_id,
                     _txt(order_list.list_order_status), order_list.transaction_time or now, now))
                changed = True
            else:
                changed = (known.state, known.order_list_id, known.list_order_status) != (
                    state, order_list.order_list_id, _txt(order_list.list_order_status))
                if known.state is JournalState.DONE and state is not JournalState.DONE:
                    changed = False  # an older snapshot of a finished list
                elif changed:
                    self._db.execute(
                        "UPDATE order_lists SET state = ?, order_list_id = ?, list_order_status = ?, note = '',"
                        " updated_ms = ? WHERE list_client_order_id = ?",
                        (state.value, order_list.order_list_id, _txt(order_list.list_order_status), now, lcid))
            for report in order_list.order_reports:
                self.record_order(report)
            reported = {r.order_client_id for r in order_list.order_reports}
            for ref in order_list.orders:
                self._db.execute("UPDATE intents SET list_client_order_id = ? WHERE client_order_id = ?"
                                 " AND list_client_order_id IS NULL", (lcid, ref.client_order_id))
                if ref.client_order_id in reported:
                    continue
                entry = self.get(ref.client_order_id)
                if entry is not None and entry.state in (JournalState.PENDING, JournalState.ABSENT):
                    self._db.execute(
                        "UPDATE intents SET state = 'accepted', order_id = ?, note = 'its list exists',"
                        " updated_ms = ? WHERE client_order_id = ?", (ref.order_id, now, ref.client_order_id))
        return changed

    def _set_list_state(self, lcid: str, state: JournalState, note: str = "") -> None:
        with self._tx():
            self._db.execute("UPDATE order_lists SET state = ?, note = ?, updated_ms = ?"
                             " WHERE list_client_order_id = ?", (state.value, note, _now_ms(), lcid))

    def mark_list_absent(self, lcid: str, note: str = "") -> None:
        """Reconciliation proved the list (and so its legs) never existed."""
        note = note or "the exchange has no list with this id"
        with self._tx():
            self._set_list_state(lcid, JournalState.ABSENT, note)
            for leg in self.list_legs(lcid):
                if leg.state is JournalState.PENDING:
                    self._set_state(leg.client_order_id, JournalState.ABSENT, note)

    def get_list(self, list_client_order_id: str) -> ListEntry | None:
        return next(self._lists("WHERE list_client_order_id = ?", (list_client_order_id,)), None)

    def lists(self, *states: JournalState) -> list[ListEntry]:
        """Every list (or those in ``states``), oldest first."""
        if not states:
            return list(self._lists())
        marks = ", ".join("?" for _ in states)
        return list(self._lists(f"WHERE state IN ({marks})", tuple(s.value for s in states)))

    def list_legs(self, list_client_order_id: str) -> list[JournalEntry]:
        """The order entries placed in one list."""
        return list(self._entries("WHERE list_client_order_id = ?", (list_client_order_id,)))

    def _lists(self, where: str = "", args: tuple[object, ...] = ()) -> Iterator[ListEntry]:
        sql = f"SELECT {', '.join(_LIST_COLUMNS)} FROM order_lists {where} ORDER BY created_ms, list_client_order_id"
        for row in self._db.execute(sql, args):
            d = dict(zip(_LIST_COLUMNS, row, strict=True))
            yield ListEntry(list_client_order_id=d["list_client_order_id"], symbol=d["symbol"],
                            contingency=d["contingency"], state=JournalState(d["state"]), origin=d["origin"],
                            order_list_id=d["order_list_id"], list_order_status=d["list_order_status"],
                            note=d["note"], created_ms=d["created_ms"], updated_ms=d["updated_ms"])

    # -- amends (the AmendJournal protocol) --------------------------------------------------

    def record_amend_intent(self, request: AmendRequest) -> None:
        """Write the amend (old id → new id, new quantity) as pending before sending."""
        now = _now_ms()
        old = request.orig_client_order_id
        if old is None and request.order_id is not None:
            row = self._db.execute("SELECT client_order_id FROM intents WHERE symbol = ? AND order_id = ?",
                                   (request.symbol, request.order_id)).fetchone()
            old = row[0] if row else None
        with self._tx():
            self._db.execute(
                "INSERT INTO amends (new_client_order_id, old_client_order_id, symbol, new_qty, state,"
                " created_ms, updated_ms) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (request.new_client_order_id, old, request.symbol, _txt(request.new_qty), now, now))

    def record_amend_outcome(self, outcome: AmendOutcome) -> None:
        """Done → the order's entry takes its new id and quantity; refused/absent → noted."""
        new = outcome.request.new_client_order_id
        if outcome.outcome is Outcome.ACCEPTED:
            self.apply_amend(new)
            order = outcome.order
            if order is not None:
                self.record_order(order)
        elif outcome.outcome is Outcome.REJECTED:
            state = JournalState.ABSENT if outcome.proven_absent else JournalState.REJECTED
            self._set_amend_state(new, state, "" if outcome.error is None else str(outcome.error))
        else:
            self._set_amend_state(new, JournalState.PENDING,
                                  f"outcome unknown: {outcome.error}" if outcome.error else "")

    def apply_amend(self, new_client_order_id: str) -> bool:
        """The amend happened: rename the order's entry (and its fills) to the new id, with
        the new quantity. True if an entry was renamed."""
        amend = self.get_amend(new_client_order_id)
        if amend is None:
            return False
        with self._tx():
            self._set_amend_state(new_client_order_id, JournalState.ACCEPTED)
            if amend.old_client_order_id is None or self.get(amend.old_client_order_id) is None:
                return False
            if self.get(new_client_order_id) is not None:
                return False  # already renamed (or adopted under the new id)
            now = _now_ms()
            self._db.execute("UPDATE intents SET client_order_id = ?, quantity = ?, updated_ms = ?"
                             " WHERE client_order_id = ?",
                             (new_client_order_id, _txt(amend.new_qty), now, amend.old_client_order_id))
            self._db.execute("UPDATE fills SET client_order_id = ? WHERE client_order_id = ?",
                             (new_client_order_id, amend.old_client_order_id))
        return True

    def mark_amend_absent(self, new_client_order_id: str) -> None:
        self._set_amend_state(new_client_order_id, JournalState.ABSENT, "no order carries the new id")

    def _set_amend_state(self, new_cid: str, state: JournalState, note: str = "") -> None:
        with self._tx():
            self._db.execute("UPDATE amends SET state = ?, note = ?, updated_ms = ? WHERE new_client_order_id = ?",
                             (state.value, note, _now_ms(), new_cid))

    def get_amend(self, new_client_order_id: str) -> AmendEntry | None:
        return next(self._amends("WHERE new_client_order_id = ?", (new_client_order_id,)), None)

    def pending_amends(self) -> list[AmendEntry]:
        return list(self._amends("WHERE state = 'pending'"))

    def _amends(self, where: str = "", args: tuple[object, ...] = ()) -> Iterator[AmendEntry]:
        sql = f"SELECT {', '.join(_AMEND_COLUMNS)} FROM amends {where} ORDER BY created_ms"
        for row in self._db.execute(sql, args):
            d = dict(zip(_AMEND_COLUMNS, row, strict=True))
            yield AmendEntry(new_client_order_id=d["new_client_order_id"],
                             old_client_order_id=d["old_client_order_id"], symbol=d["symbol"],
                             new_qty=Decimal(d["new_qty"]), state=JournalState(d["state"]), note=d["note"],
                             created_ms=d["created_ms"], updated_ms=d["updated_ms"])

    def record_outcome(self, result: PlacementResult) -> None:
        """Bring the intent up to date with how the placement ended (UNKNOWN stays pending)."""
        cid = result.client_order_id
        if result.outcome is Outcome.ACCEPTED and result.order is not None:
            self.record_order(result.order)
        elif result.outcome is Outcome.REJECTED:
            state = JournalState.ABSENT if result.proven_absent else JournalState.REJECTED
            note = "" if result.error is None else str(result.error)
            self._set_state(cid, state, note)
        else:
            self._set_state(cid, JournalState.PENDING, f"outcome unknown: {result.error}" if result.error else "")

    # -- updates ----------------------------------------------------------------------------

    def _set_state(self, cid: str, state: JournalState, note: str = "") -> None:
        with self._tx():
            self._db.execute("UPDATE intents SET state = ?, note = ?, updated_ms = ? WHERE client_order_id = ?",
                             (state.value, note, _now_ms(), cid))

    def mark_absent(self, cid: str, note: str = "") -> None:
        """Reconciliation proved the order does not exist on the exchange."""
        self._set_state(cid, JournalState.ABSENT, note or "the exchange has no order with this id")

    def record_order(self, order: Order, *, adopt: bool = False) -> bool:
        """Update from an exchange report of the order (ack, query, list, cancel report).

        Returns True if the journal changed. An order the journal does not know is only
        recorded when ``adopt`` is set (reconciliation adopts ``btx-`` orders). A stale
        report never reopens an order the journal already saw finish.
        """
        cid = order.order_client_id
        state = state_of(order)
        known = self.get(cid)
        now = _now_ms()
        if known is None:
            if not adopt:
                return False
            with self._tx():
                self._db.execute(
                    "INSERT INTO intents (client_order_id, symbol, side, type, quantity, price, quote_order_qty,"
                    " time_in_force, state, origin, order_id, exchange_status, executed_qty, note,"
                    " created_ms, updated_ms, stop_price, trailing_delta)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'adopted', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (cid, order.symbol, _txt(order.side) or "", _txt(order.type) or "", _txt(order.orig_qty),
                     _txt(order.price), _txt(order.orig_quote_order_qty), _txt(order.time_in_force),
                     state.value, order.order_id, _txt(order.status), _txt(order.executed_qty),
                     "found on the exchange", order.time or now, now,
                     _txt(order.stop_price) if order.is_stop else None, order.trailing_delta or None))
                self._record_fills(cid, order.symbol, order.order_id, order.fills)
            return True
        if known.state.is_final and known.state is not JournalState.ABSENT and not state.is_final:
            return False  # an older snapshot: the order already finished
        executed = order.executed_qty if order.executed_qty is not None else known.executed_qty
        changed = (known.state, known.order_id, known.exchange_status, known.executed_qty) != (
            state, order.order_id, _txt(order.status) or known.exchange_status, executed)
        with self._tx():
            if changed:
                self._db.execute(
                    "UPDATE intents SET state = ?, order_id = ?, exchange_status = ?, executed_qty = ?,"
                    " note = '', updated_ms = ? WHERE client_order_id = ?",
                    (state.value, order.order_id, _txt(order.status) or known.exchange_status, _txt(executed),
                     now, cid))
            added = self._record_fills(cid, order.symbol, order.order_id, order.fills)
        return changed or added > 0

    def prune(self, older_than_s: float, *, now_ms: int | None = None) -> int:
        """Delete final entries (and their fills) last changed more than ``older_than_s`` ago.

        Pending and accepted entries are never deleted: they are unsettled business, however
        old. One transaction, so a crash leaves either everything or nothing pruned. The
        horizon is remembered as :meth:`pruned_before_ms`. Returns how many entries went.
        """
        if older_than_s < 0:
            raise ValueError("older_than_s must not be negative")
        cutoff = (_now_ms() if now_ms is None else now_ms) - int(older_than_s * 1000)
        marks = ", ".join("?" for _ in FINAL_STATES)
        doomed = f"SELECT client_order_id FROM intents WHERE state IN ({marks}) AND updated_ms < ?"
        args = (*FINAL_STATES, cutoff)
        with self._tx():
            self._db.execute(f"DELETE FROM fills WHERE client_order_id IN ({doomed})", args)
            gone = self._db.execute(f"DELETE FROM intents WHERE client_order_id IN ({doomed})", args).rowcount
            self._db.execute(f"DELETE FROM order_lists WHERE state IN ({marks}) AND updated_ms < ?", args)
            self._db.execute(f"DELETE FROM amends WHERE state IN ({marks}) AND updated_ms < ?", args)
            if cutoff > self.pruned_before_ms():
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('pruned_before_ms', ?)", (str(cutoff),))
        return gone

    def pruned_before_ms(self) -> int:
        """Final entries last changed before this time (ms) may have been pruned (0: none were).

        Reconciliation uses it not to adopt again, from the exchange's order history, a
        finished ``btx-`` order the journal deliberately forgot.
        """
        return int(self.meta("pruned_before_ms") or 0)

    def record_fills(self, trades: Iterable[MyTrade]) -> int:
        """Record trades of orders the journal knows (by symbol + order id); returns how many were new."""
        added = 0
        with self._tx():
            for t in trades:
                row = self._db.execute("SELECT client_order_id FROM intents WHERE symbol = ? AND order_id = ?",
                                       (t.symbol, t.order_id)).fetchone()
                if row is not None:
                    added += self._insert_fill(row[0], t.symbol, t.order_id, t.as_fill(), t.time)
        return added

    def _record_fills(self, cid: str, symbol: str, order_id: int, fills: Iterable[OrderFill]) -> int:
        return sum(self._insert_fill(cid, symbol, order_id, f, None) for f in fills if f.trade_id is not None)

    def _insert_fill(self, cid: str, symbol: str, order_id: int, fill: OrderFill, time_ms: int | None) -> int:
        cur = self._db.execute(
            "INSERT OR IGNORE INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (symbol, fill.trade_id, order_id, cid, _txt(fill.price), _txt(fill.qty), _txt(fill.commission),
             fill.commission_asset, time_ms))
        return cur.rowcount

    # -- queries ------------------------------------------------------------------------------

    def _entries(self, where: str = "", args: tuple[object, ...] = ()) -> Iterator[JournalEntry]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM intents {where} ORDER BY created_ms, client_order_id"
        for row in self._db.execute(sql, args):
            d = dict(zip(_COLUMNS, row, strict=True))
            yield JournalEntry(
                client_order_id=d["client_order_id"], symbol=d["symbol"], side=d["side"], type=d["type"],
                state=JournalState(d["state"]), origin=d["origin"], quantity=_dec(d["quantity"]),
                price=_dec(d["price"]), quote_order_qty=_dec(d["quote_order_qty"]),
                time_in_force=d["time_in_force"], order_id=d["order_id"], exchange_status=d["exchange_status"],
                executed_qty=_dec(d["executed_qty"]), note=d["note"], created_ms=d["created_ms"],
                updated_ms=d["updated_ms"], stop_price=_dec(d["stop_price"]), trailing_delta=d["trailing_delta"],
                list_client_order_id=d["list_client_order_id"])

    def get(self, client_order_id: str) -> JournalEntry | None:
        return next(self._entries("WHERE client_order_id = ?", (client_order_id,)), None)

    def entries(self, *states: JournalState, changed_since_ms: int | None = None) -> list[JournalEntry]:
        """Every entry (or those in ``states``; those changed at or after ``changed_since_ms``), oldest first."""
        clauses, args = [], []
        if states:
            clauses.append(f"state IN ({', '.join('?' for _ in states)})")
            args.extend(s.value for s in states)
        if changed_since_ms is not None:
            clauses.append("updated_ms >= ?")
            args.append(changed_since_ms)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return list(self._entries(where, tuple(args)))

    def pending(self) -> list[JournalEntry]:
        """Intents whose outcome is not known yet, oldest first."""
        return self.entries(JournalState.PENDING)

    def fills(self, client_order_id: str | None = None) -> list[OrderFill]:
        sql = "SELECT trade_id, price, qty, commission, commission_asset FROM fills"
        args: tuple[object, ...] = ()
        if client_order_id is not None:
            sql, args = sql + " WHERE client_order_id = ?", (client_order_id,)
        return [OrderFill(trade_id=r[0], price=Decimal(r[1]), qty=Decimal(r[2]), commission=Decimal(r[3]),
                          commission_asset=r[4]) for r in self._db.execute(sql + " ORDER BY trade_id", args)]

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None


class _Tx:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), reentrant-safe for one level."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.outer = False

    def __enter__(self) -> sqlite3.Connection:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
            self.outer = True
        return self.db

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if not self.outer:
            return
        self.db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
