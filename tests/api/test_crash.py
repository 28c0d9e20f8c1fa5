"""A client killed with SIGKILL while its order is on the wire loses nothing and resends nothing.

Why: the journal is the only memory that survives a crash. The intent must be on disk before
the request leaves, so that the next start can look for the order instead of guessing. Here
a real child process places a limit order through ``BtxClient.place_order`` with a
``SqliteJournal``; the paper exchange holds every placement for 2 s before executing it (the
``delay`` fault), and the child is killed with ``kill -9`` during that wait — after sending,
before any answer. A fresh client then reconciles the same journal file.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from pydantic import SecretStr

from btx_tui.api.client import BtxClient
from btx_tui.api.journal import JournalState, SqliteJournal
from btx_tui.api.reconcile import ReconcilePolicy, reconcile
from btx_tui.exchange.process.launcher import start_paper_exchange

CHILD = """
import asyncio, json, sys
from decimal import Decimal
from pydantic import SecretStr
from btx_tui.api.client import BtxClient
from btx_tui.api.journal import SqliteJournal
from btx_tui.api.models_trading import OrderSide, OrderType, TimeInForce
from btx_tui.api.orders import OrderRequest

base_url, key, secret, journal_path = json.loads(sys.argv[1])

async def main():
    journal = SqliteJournal(journal_path)
    async with BtxClient(base_url, key, SecretStr(secret), timeout_s=30) as client:
        request = OrderRequest(symbol="BTCUSDT", side=OrderSide.BUY, type=OrderType.LIMIT,
                               quantity=Decimal("0.001"), price=Decimal("40000"),
                               time_in_force=TimeInForce.GTC)
        await client.place_order(request, journal=journal)
        print("answered", flush=True)  # never reached: the test kills us first

asyncio.run(main())
"""


def _pending_ids(journal_path: Path) -> list[str]:
    """Read the journal as another process would (the writer may be mid-transaction)."""
    if not journal_path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True, timeout=1) as db:
            return [row[0] for row in db.execute("SELECT client_order_id FROM intents WHERE state = 'pending'")]
    except sqlite3.OperationalError:
        return []  # the schema is not written yet


async def test_kill_9_while_the_order_is_in_flight_then_reconcile_finds_it_once(tmp_path: Path) -> None:
    exchange = start_paper_exchange(tmp_path / "paper", market=False,
                                    extra_args=["--fault", "delay:POST /api/v3/order:1:2", "--log-level", "INFO"])
    exchange_log = exchange.data_dir / "exchange.stderr.log"
    journal_path = tmp_path / "journal.sqlite3"
    api_key, secret = exchange.key("full")
    child = subprocess.Popen([sys.executable, "-c", CHILD,
                              json.dumps([exchange.base_url, api_key, secret, str(journal_path)])],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not (pending := _pending_ids(journal_path)):
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the intent never reached the journal"
            time.sleep(0.02)
        # Kill once the exchange holds the request (it logs the fault as the request arrives).
        while "fault injected: delay on POST /api/v3/order" not in exchange_log.read_text():
            assert child.poll() is None and time.monotonic() < deadline, "the order never reached the exchange"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
        assert child.returncode == -signal.SIGKILL
        assert b"answered" not in child.stdout.read()  # killed before any answer
        [cid] = pending

        async with BtxClient(exchange.base_url, api_key, SecretStr(secret)) as client:
            journal = SqliteJournal(journal_path)
            assert [e.client_order_id for e in journal.pending()] == [cid]  # survived the crash
            report = await reconcile(client, journal, policy=ReconcilePolicy(settle_s=3))
            assert [r.client_order_id for r in report.resolved] == [cid], report.summary()
            assert report.absent == () and report.still_unknown == ()
            entry = journal.get(cid)
            assert entry is not None and entry.state is JournalState.ACCEPTED and entry.order_id is not None
            on_exchange = [o for o in await client.all_orders("BTCUSDT", limit=1000)
                           if o.order_client_id == cid]
            assert len(on_exchange) == 1  # placed exactly once: nothing was resent
            journal.close()
    finally:
        if child.poll() is None:
            child.kill()
        exchange.stop()
