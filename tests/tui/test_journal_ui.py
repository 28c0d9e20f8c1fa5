"""Pilot tests: the dashboard's order journal survives a restart and is reconciled at start."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from rich.text import Text

import btx_tui.api.journal as journal_module
from btx_tui.api.journal import JournalState, SqliteJournal
from btx_tui.api.reconcile import ReconcilePolicy
from btx_tui.start_dashboard import journal_path
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange
from btx_tui.tui.connection_health import Connection
from btx_tui.tui.widgets.orders import OpenOrdersTable

from .harness import client_for, limit, make_app, notifications, ready, wait_for

SETTLE_S = int(ReconcilePolicy().settle_s)
"""How old an intent must be before "does not exist" counts (the app's reconciliation policy)."""

SIZE = (120, 36)


def _status(table: OpenOrdersTable, cid: str) -> str:
    cell = table.get_row(cid)[-1]
    return (cell.plain if isinstance(cell, Text) else str(cell)).strip()


async def test_a_pending_intent_from_a_previous_run_shows_checking_then_its_real_state(
        fresh_exchange: PaperExchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "journal.sqlite3"
    lost = limit("ETHUSDT", "BUY", "0.01", "1500")  # placed, but the answer never got recorded
    journal = SqliteJournal(path)
    journal.record_intent(lost)
    async with client_for(fresh_exchange) as client:
        await client.post_order(lost)
    journal.close()

    # Record what the open-orders table showed for that id at every repaint.
    seen: list[str] = []
    original = OpenOrdersTable.update_orders

    def spy(table: OpenOrdersTable, *args: object, **kwargs: object) -> None:
        original(table, *args, **kwargs)  # type: ignore[arg-type]
        if lost.client_order_id in table.rows:
            status = _status(table, lost.client_order_id)
            if not seen or seen[-1] != status:
                seen.append(status)

    monkeypatch.setattr(OpenOrdersTable, "update_orders", spy)
    app = make_app(fresh_exchange, journal_path=path)
    async with app.run_test(size=SIZE) as pilot:
        table = app.dashboard.open_orders
        await wait_for(pilot, lambda: lost.client_order_id in table.orders, what="the order confirmed")
        await wait_for(pilot, lambda: app.journal.get(lost.client_order_id).state is JournalState.ACCEPTED,
                       what="the journal updated")
        assert app.state.pending_intents == {}
        assert app.journal.get(lost.client_order_id).order_id == table.orders[lost.client_order_id].order_id
    assert seen == ["unknown — checking", "NEW"]


async def test_orders_placed_from_the_dashboard_are_journaled_and_a_lost_intent_is_absent(
        fresh_exchange: PaperExchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "journal.sqlite3"
    never_sent = limit("ETHUSDT", "BUY", "0.01", "1501")
    journal = SqliteJournal(path)
    # The app died between writing the intent and sending it, SETTLE_S - 2 s before this run:
    # reconciliation still has to wait out the last 2 s of its settle time (not all 10 s).
    with monkeypatch.context() as m:
        m.setattr(journal_module, "_now_ms", lambda: int(time.time() * 1000) - (SETTLE_S - 2) * 1000)
        journal.record_intent(never_sent)
    written_ms = journal.get(never_sent.client_order_id).created_ms
    journal.close()

    app = make_app(fresh_exchange, journal_path=path, symbol="ETHUSDT")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        request = limit("ETHUSDT", "BUY", "0.01", "1502")
        app.trading.submit_order(request)
        table = app.dashboard.open_orders
        await wait_for(pilot, lambda: request.client_order_id in table.orders, what="the order open")
        await wait_for(pilot, lambda: app.journal.get(request.client_order_id) is not None
                       and app.journal.get(request.client_order_id).state is JournalState.ACCEPTED,
                       what="the order journaled")
        # The never-sent intent needs its settle time before -2013 answers count; then it is gone.
        await wait_for(pilot, lambda: app.journal.get(never_sent.client_order_id).state is JournalState.ABSENT,
                       timeout=25, what="the lost intent proven absent")
        await wait_for(pilot, lambda: never_sent.client_order_id not in table.pending, what="the row gone")
        # Not before its settle time: until then a "does not exist" proves nothing.
        assert app.journal.get(never_sent.client_order_id).updated_ms >= written_ms + SETTLE_S * 1000
        assert any("never placed" in n for n in notifications(app))
        entry = app.journal.get(request.client_order_id)
        assert entry.origin == "local" and entry.price == request.price

    reopened = SqliteJournal(path)  # durable: what the app learned is on disk
    assert reopened.get(request.client_order_id).state is JournalState.ACCEPTED
    assert reopened.get(never_sent.client_order_id).state is JournalState.ABSENT
    reopened.close()


def test_the_journal_lives_in_the_user_data_dir_per_account(tmp_path: Path) -> None:
    from btx_tui import paths

    live = Connection("https://api.example.com", "KEY123", SecretStr("s"))
    other_key = Connection("https://api.example.com", "KEY456", SecretStr("s"))
    paper = Connection("http://127.0.0.1:1234", "KEY123", SecretStr("s"), paper=True)
    paper_new_port = Connection("http://127.0.0.1:5678", "KEY123", SecretStr("s"), paper=True)
    p = journal_path(live)
    assert p is not None and p.parent == paths.data_dir() / "journal" and p.suffix == ".sqlite3"
    assert "KEY123" not in str(p) and "example" not in str(p)
    assert p != journal_path(other_key)
    assert journal_path(paper) == journal_path(paper_new_port) != p
    assert journal_path(Connection("https://api.example.com", None)) is None


async def test_reconciliation_runs_again_when_the_exchange_comes_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import btx_tui.tui.trading as trading

    runs: list[object] = []
    real = trading.reconcile

    async def counting(*args: object, **kwargs: object) -> object:
        report = await real(*args, **kwargs)  # type: ignore[arg-type]
        runs.append(report)
        return report

    monkeypatch.setattr(trading, "reconcile", counting)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path / "paper"
    exchange = start_paper_exchange(data, port=port, market=False)
    try:
        app = make_app(exchange, journal_path=tmp_path / "journal.sqlite3", symbol="BTCUSDT")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_for(pilot, lambda: len(runs) == 1, what="reconciliation at start")
            # Another btx-tui places an order meanwhile: feeds show it, only reconciliation adopts it.
            async with client_for(exchange) as other:
                elsewhere = limit("BTCUSDT", "BUY", "0.001", "20000")
                await other.place_order(elsewhere)
            await wait_for(pilot, lambda: elsewhere.client_order_id in app.dashboard.open_orders.orders,
                           what="the order in the table")
            assert app.journal.get(elsewhere.client_order_id) is None
            exchange.stop()
            await wait_for(pilot, lambda: app.status_info().connection == "down", what="down")
            exchange = start_paper_exchange(data, port=port, market=False)
            await wait_for(pilot, lambda: len(runs) == 2, timeout=40, what="reconciliation after recovery")
            assert runs[1].adopted == (elsewhere.client_order_id,)  # type: ignore[attr-defined]
            assert app.journal.get(elsewhere.client_order_id).origin == "adopted"
            await wait_for(pilot, lambda: any("adopted" in n for n in notifications(app)), what="notice")
    finally:
        exchange.stop()
