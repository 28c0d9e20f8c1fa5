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
    JournalEntry,
    JournalState,
    account_fingerprint,
    journal_file,
    state_of,
)
from .models_trading import MyTrade, Order, OrderFill
from .orders import OrderRequest, Outcome, PlacementResult

__all__ = [
    "KEEP_FINAL_S",
    "JournalEntry",
    "JournalState",
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
"""

_COLUMNS = ("client_order_id", "symbol", "side", "type", "quantity", "price", "quote_order_qty",
            "time_in_force", "state", "origin", "order_id", "exchange_status", "executed_qty", "note",
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

    def record_intent(self, request: OrderRequest) -> None:
        """Write the intent *before* the request is sent; raises if it cannot be written."""
        now = _now_ms()
        with self._tx():
            self._db.execute(
                "INSERT INTO intents (client_order_id, symbol, side, type, quantity, price, quote_order_qty,"
                " time_in_force, state, origin, created_ms, updated_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 'local', ?, ?)",
                (request.client_order_id, request.symbol, _txt(request.side), _txt(request.type),
                 _txt(request.quantity), _txt(request.price), _txt(request.quote_order_qty),
                 _txt(request.time_in_force), now, now))

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
                    " created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'adopted', ?, ?, ?, ?, ?, ?)",
                    (cid, order.symbol, _txt(order.side) or "", _txt(order.type) or "", _txt(order.orig_qty),
                     _txt(order.price), _txt(order.orig_quote_order_qty), _txt(order.time_in_force),
                     state.value, order.order_id, _txt(order.status), _txt(order.executed_qty),
                     "found on the exchange", order.time or now, now))
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
                updated_ms=d["updated_ms"])

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
