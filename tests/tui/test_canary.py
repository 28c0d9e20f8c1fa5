"""A unique secret used for a whole trading session appears nowhere it could leak to.

The demo key's secret (64 random characters, new for every test exchange) is the canary:
the real app trades with it — orders accepted, rejected and cancelled, a crash-free
error path — and afterwards it must not appear in the log file, the order journal, the
paper exchange's own log, a screenshot, or any notification.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import SecretStr

from btx_tui.api.journal import journal_file
from btx_tui.config import Settings
from btx_tui.logging_setup import setup_logging
from btx_tui.exchange.process.launcher import PaperExchange
from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.connection_health import Connection

from .harness import FAST_UI, limit, notifications, ready, wait_for


async def test_canary_secret_appears_nowhere(fresh_exchange: PaperExchange, tmp_path: Path) -> None:
    api_key, canary = fresh_exchange.key("full")
    assert len(canary) >= 32
    log_file = tmp_path / "logs" / "btx-tui.log"
    handler = setup_logging("DEBUG", log_file, [api_key, canary])  # what start_dashboard.py does
    journal = journal_file(tmp_path / "data", fresh_exchange.base_url, api_key)
    settings = Settings.model_validate({"ui": {**FAST_UI, "symbol": "ETHUSDT"}})
    app = BtxApp(settings, Connection(fresh_exchange.base_url, api_key, SecretStr(canary), paper=True),
                 journal_path=journal)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await ready(pilot)
            ok = limit("ETHUSDT", "BUY", "0.01", "3000")
            app.trading.submit_order(ok)
            app.trading.submit_order(limit("ETHUSDT", "BUY", "100", "3000"))  # rejected: balance
            await wait_for(pilot, lambda: ok.client_order_id in app.dashboard.open_orders.orders, what="order")
            await wait_for(pilot, lambda: any("Order rejected" in n for n in notifications(app)), what="reject")
            app.dashboard.open_orders.focus()
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
            await pilot.press("y")
            await wait_for(pilot, lambda: not app.dashboard.open_orders.orders, what="cancelled")
            screenshot = app.export_screenshot()
            texts = notifications(app)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert "Order rejected" in "\n".join(texts)  # the session really traded
    places = {
        "log file": log_file.read_bytes(),
        "journal": b"".join(p.read_bytes() for p in journal.parent.glob(journal.name + "*")),
        "paper exchange log": (fresh_exchange.data_dir / "exchange.stderr.log").read_bytes(),
        "screenshot": screenshot.encode(),
        "notifications": "\n".join(texts).encode(),
    }
    assert len(places["log file"]) > 0 and len(places["journal"]) > 0
    for where, data in places.items():
        assert canary.encode() not in data, f"the secret leaked into the {where}"
    assert api_key.encode() not in places["log file"]
