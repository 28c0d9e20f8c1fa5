"""The order intent journal: written before sending, durable, fills once, no secrets on disk."""

from __future__ import annotations

import sqlite3
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
