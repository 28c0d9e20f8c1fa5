"""The order intent journal: written before sending, durable, fills once, no secrets on disk."""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from btx_tui.api import OrderRequest, Outcome, UnknownOrder
from btx_tui.api.errors import OrderRejected
from btx_tui.api.journal import JournalState, SqliteJournal, account_fingerprint, journal_file
from btx_tui.api.models_trading import MyTrade, Order
from btx_tui.api.orders import PlacementResult

from .conftest import FAST_RESOLVE, FaultTransport

D = Decimal
ORDER = ("POST", "/api/v3/order")


def _req(price: str = "20010", cid: str | None = None) -> OrderRequest:
    extra = {"client_order_id": cid} if cid else {}
    return OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=D(price), **extra)


def _trade(trade_id: int, order_id: int, qty: str = "0.001") -> MyTrade:
    return MyTrade(symbol="BTCUSDT", id=trade_id, order_id=order_id, price=D("20000"), qty=D(qty),
                   quote_qty=D("20"), commission=D("0"), commission_asset="BNB", time=1, is_buyer=True,
                   is_maker=False)


def _order(cid: str, order_id: int, status: str, executed: str = "0") -> Order:
    return Order(symbol="BTCUSDT", order_id=order_id, client_order_id=cid, status=status, side="BUY",
                 type="LIMIT", price=D("20000"), orig_qty=D("0.002"), executed_qty=D(executed))


async def test_the_intent_is_on_disk_before_the_request_leaves(make_client, tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    seen_at_send: list[tuple[str, str] | None] = []

    def plan(request: httpx.Request) -> str:
        if (request.method, request.url.path) == ORDER:
            # Another connection (as after a crash) must already see the committed intent.
            other = sqlite3.connect(path)
            seen_at_send.append(other.execute("SELECT client_order_id, state FROM intents").fetchone())
            other.close()
        return "pass"

    req = _req("20011")
    async with make_client("full", transport=FaultTransport(plan=plan)) as c:
        res = await c.place_order(req, journal=journal, resolver=FAST_RESOLVE)
        assert res.outcome is Outcome.ACCEPTED
        assert seen_at_send == [(req.client_order_id, "pending")]
        entry = journal.get(req.client_order_id)
        assert entry is not None and entry.state is JournalState.ACCEPTED
        assert entry.order_id == res.order.order_id and entry.origin == "local"
        await c.cancel_order("BTCUSDT", orig_client_order_id=req.client_order_id)
    journal.close()


async def test_a_journal_that_cannot_write_stops_the_order(make_client, tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    journal.close()  # every write now raises
    transport = FaultTransport()
    req = _req("20012")
    async with make_client("full", transport=transport) as c:
        with pytest.raises(sqlite3.ProgrammingError):
            await c.place_order(req, journal=journal, resolver=FAST_RESOLVE)
        assert transport.count(*ORDER) == 0
        with pytest.raises(UnknownOrder):
            await c.get_order("BTCUSDT", orig_client_order_id=req.client_order_id)


def test_intents_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path, fingerprint="abc")
    req = OrderRequest("ETHUSDT", "SELL", "LIMIT", quantity=D("0.0200"), price=D("2500.10"))
    journal.record_intent(req)
    journal.close()

    again = SqliteJournal(path)
    (entry,) = again.pending()
    assert entry.client_order_id == req.client_order_id
    assert (entry.symbol, entry.side, entry.type, entry.time_in_force) == ("ETHUSDT", "SELL", "LIMIT", "GTC")
    assert entry.quantity == D("0.0200") and entry.price == D("2500.10")
    assert isinstance(entry.price, Decimal)
    assert entry.description == "ETHUSDT|SELL|LIMIT"
    assert again.meta("account") == "abc"
    mode = again._db.execute("PRAGMA journal_mode").fetchone()[0]
    sync = again._db.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL
    again.close()


def test_the_same_intent_cannot_be_recorded_twice() -> None:
    journal = SqliteJournal(":memory:")
    req = _req()
    journal.record_intent(req)
    with pytest.raises(sqlite3.IntegrityError):
        journal.record_intent(req)  # a reused id would make two orders indistinguishable
    assert len(journal.entries()) == 1


def test_outcomes_update_the_state() -> None:
    journal = SqliteJournal(":memory:")
    rejected, absent, unknown, accepted = _req(), _req(), _req(), _req()
    for r in (rejected, absent, unknown, accepted):
        journal.record_intent(r)
    journal.record_outcome(PlacementResult(Outcome.REJECTED, rejected, error=OrderRejected("no", code=-2010)))
    journal.record_outcome(PlacementResult(Outcome.REJECTED, absent, proven_absent=True))
    journal.record_outcome(PlacementResult(Outcome.UNKNOWN, unknown))
    journal.record_outcome(PlacementResult(Outcome.ACCEPTED, accepted,
                                           order=_order(accepted.client_order_id, 7, "PARTIALLY_FILLED", "0.001")))
    state = {e.client_order_id: e.state for e in journal.entries()}
    assert state == {rejected.client_order_id: JournalState.REJECTED, absent.client_order_id: JournalState.ABSENT,
                     unknown.client_order_id: JournalState.PENDING, accepted.client_order_id: JournalState.ACCEPTED}
    assert "no" in journal.get(rejected.client_order_id).note
    assert [e.client_order_id for e in journal.pending()] == [unknown.client_order_id]
    assert journal.get(accepted.client_order_id).executed_qty == D("0.001")


def test_a_stale_snapshot_never_reopens_a_finished_order() -> None:
    journal = SqliteJournal(":memory:")
    req = _req()
    journal.record_intent(req)
    assert journal.record_order(_order(req.client_order_id, 9, "CANCELED"))
    assert not journal.record_order(_order(req.client_order_id, 9, "NEW"))
    assert journal.get(req.client_order_id).state is JournalState.CANCELED
    # An order the journal does not know is only recorded when adopted.
    assert not journal.record_order(_order("btx-elsewhere", 10, "NEW"))
    assert journal.get("btx-elsewhere") is None
    assert journal.record_order(_order("btx-elsewhere", 10, "NEW"), adopt=True)
    assert journal.get("btx-elsewhere").origin == "adopted"


def test_fills_are_kept_once_per_trade_and_order() -> None:
    journal = SqliteJournal(":memory:")
    buy, sell = _req(), _req()
    journal.record_intent(buy)
    journal.record_intent(sell)
    journal.record_order(_order(buy.client_order_id, 1, "PARTIALLY_FILLED", "0.001"))
    journal.record_order(_order(sell.client_order_id, 2, "PARTIALLY_FILLED", "0.001"))
    # A self-trade: one trade id, two orders -> two fills. Unknown orders' trades are not ours.
    trades = [_trade(100, 1), _trade(100, 2), _trade(101, 1), _trade(555, 99)]
    assert journal.record_fills(trades) == 3
    assert journal.record_fills(trades) == 0
    assert journal.record_fills(reversed(trades)) == 0
    assert [f.trade_id for f in journal.fills(buy.client_order_id)] == [100, 101]
    assert [f.trade_id for f in journal.fills(sell.client_order_id)] == [100]
    assert len(journal.fills()) == 3
    # The same fills arriving inside an order report are not counted again.
    with_fills = _order(buy.client_order_id, 1, "FILLED", "0.002").model_copy(
        update={"fills": (_trade(100, 1).as_fill(), _trade(102, 1).as_fill())})
    assert journal.record_order(with_fills)
    assert [f.trade_id for f in journal.fills(buy.client_order_id)] == [100, 101, 102]
    assert journal.get(buy.client_order_id).state is JournalState.FILLED


def test_one_journal_per_account_and_no_key_on_disk(tmp_path: Path) -> None:
    key, secret = "KEY" + "k" * 40, "SECRET" + "s" * 40
    path = journal_file(tmp_path, "http://127.0.0.1:8080/", key)
    assert path.parent == tmp_path / "journal" and path.suffix == ".sqlite3"
    assert path.stem == account_fingerprint("http://127.0.0.1:8080", key)
    assert path != journal_file(tmp_path, "http://127.0.0.1:8080", "other")
    assert path != journal_file(tmp_path, "http://127.0.0.1:9090", key)
    journal = SqliteJournal(path, fingerprint=path.stem)
    journal.record_intent(_req())
    journal.close()
    raw = b"".join(p.read_bytes() for p in path.parent.iterdir())
    assert key.encode() not in raw and secret.encode() not in raw and b"127.0.0.1" not in raw
    assert path.stem.encode() in raw


DAY_MS = 24 * 3600 * 1000

# The journal's tables exactly as the first release created them (schema version 1, before
# pruning existed): a file written by that code must open, prune and keep working.
_OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE intents (
    client_order_id TEXT PRIMARY KEY, symbol TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL,
    quantity TEXT, price TEXT, quote_order_qty TEXT, time_in_force TEXT, state TEXT NOT NULL,
    origin TEXT NOT NULL, order_id INTEGER, exchange_status TEXT, executed_qty TEXT,
    note TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX intents_state ON intents(state);
CREATE INDEX intents_order ON intents(symbol, order_id);
CREATE TABLE fills (
    symbol TEXT NOT NULL, trade_id INTEGER NOT NULL, order_id INTEGER NOT NULL,
    client_order_id TEXT NOT NULL, price TEXT NOT NULL, qty TEXT NOT NULL, commission TEXT NOT NULL,
    commission_asset TEXT NOT NULL, time_ms INTEGER, PRIMARY KEY (symbol, trade_id, order_id));
INSERT INTO meta VALUES ('schema', '1');
"""


def _old_journal(path: Path, rows: list[tuple[str, str, int, int | None]]) -> None:
    """Write a journal file the old way: rows of (client id, state, age in days, order id)."""
    now = int(time.time() * 1000)
    db = sqlite3.connect(path)
    db.executescript(_OLD_SCHEMA)
    for cid, state, age_days, order_id in rows:
        stamp = now - age_days * DAY_MS
        db.execute("INSERT INTO intents (client_order_id, symbol, side, type, quantity, price, state, origin,"
                   " order_id, created_ms, updated_ms) VALUES (?, 'BTCUSDT', 'BUY', 'LIMIT', '0.001', '20000',"
                   " ?, 'local', ?, ?, ?)", (cid, state, order_id, stamp, stamp))
        if order_id is not None:
            db.execute("INSERT INTO fills VALUES ('BTCUSDT', ?, ?, ?, '20000', '0.001', '0', 'BNB', ?)",
                       (order_id * 10, order_id, cid, stamp))
    db.commit()
    db.close()


def test_opening_prunes_old_final_entries_and_their_fills_only(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    old = 40  # days: past the 30-day default
    _old_journal(path, [
        ("btx-old-filled", "filled", old, 1), ("btx-old-canceled", "canceled", old, 2),
        ("btx-old-rejected", "rejected", old, None), ("btx-old-expired", "expired", old, 3),
        ("btx-old-absent", "absent", old, None),
        ("btx-old-pending", "pending", old, None), ("btx-old-accepted", "accepted", old, 4),
        ("btx-new-filled", "filled", 2, 5), ("btx-new-absent", "absent", 2, None),
    ])
    journal = SqliteJournal(path)  # the default retention prunes on opening
    kept = {e.client_order_id: e.state for e in journal.entries()}
    assert kept == {"btx-old-pending": JournalState.PENDING, "btx-old-accepted": JournalState.ACCEPTED,
                    "btx-new-filled": JournalState.FILLED, "btx-new-absent": JournalState.ABSENT}
    # Fills of pruned entries went with them; the kept entries' fills stayed.
    assert [f.trade_id for f in journal.fills()] == [40, 50]
    assert journal.fills("btx-old-filled") == [] and len(journal.fills("btx-new-filled")) == 1
    assert journal.pruned_before_ms() > int(time.time() * 1000) - 31 * DAY_MS
    # The old file still works for everything else.
    req = _req()
    journal.record_intent(req)
    assert journal.record_order(_order(req.client_order_id, 6, "FILLED", "0.002"))
    assert journal.get(req.client_order_id).state is JournalState.FILLED
    assert journal.meta("schema") == "1"
    journal.close()


def test_prune_keeps_unsettled_entries_whatever_their_age(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path, keep_final_s=None)
    pending, accepted, filled, absent = _req(), _req(), _req(), _req()
    for r in (pending, accepted, filled, absent):
        journal.record_intent(r)
    journal.record_order(_order(accepted.client_order_id, 1, "PARTIALLY_FILLED", "0.001"))
    journal.record_order(_order(filled.client_order_id, 2, "FILLED", "0.002"))
    journal.mark_absent(absent.client_order_id)
    journal.record_fills([_trade(7, 1), _trade(8, 2)])
    assert journal.pruned_before_ms() == 0

    later = int(time.time() * 1000) + 365 * DAY_MS  # a year on, nothing touched since
    assert journal.prune(30 * 24 * 3600, now_ms=later) == 2
    assert {e.client_order_id for e in journal.entries()} == {pending.client_order_id, accepted.client_order_id}
    assert [f.trade_id for f in journal.fills()] == [7]  # the accepted order's partial fill stays
    assert journal.pruned_before_ms() == later - 30 * DAY_MS
    assert journal.prune(30 * 24 * 3600, now_ms=later) == 0
    with pytest.raises(ValueError):
        journal.prune(-1)
    journal.close()

    reopened = SqliteJournal(path, keep_final_s=None)  # what was pruned stays pruned
    assert len(reopened.entries()) == 2 and reopened.pruned_before_ms() == later - 30 * DAY_MS
    reopened.close()


def test_a_failed_prune_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    _old_journal(path, [("btx-a", "filled", 40, 1), ("btx-b", "canceled", 40, 2)])
    journal = SqliteJournal(path, keep_final_s=None)
    # Make the intents delete fail after the fills delete ran: one transaction, so both roll back.
    journal._db.execute("CREATE TRIGGER no_delete BEFORE DELETE ON intents BEGIN SELECT RAISE(ABORT, 'no'); END")
    with pytest.raises(sqlite3.IntegrityError):
        journal.prune(30 * 24 * 3600)
    assert len(journal.entries()) == 2 and len(journal.fills()) == 2 and journal.pruned_before_ms() == 0
    journal.close()


def test_entries_changed_since() -> None:
    journal = SqliteJournal(":memory:")
    a, b = _req(), _req()
    journal.record_intent(a)
    journal.record_intent(b)
    journal.mark_absent(a.client_order_id)
    stamp = journal.get(a.client_order_id).updated_ms
    assert [e.client_order_id for e in journal.entries(JournalState.ABSENT, changed_since_ms=stamp)] == [
        a.client_order_id]
    assert journal.entries(JournalState.ABSENT, changed_since_ms=stamp + 1) == []
    assert len(journal.entries(changed_since_ms=0)) == 2
