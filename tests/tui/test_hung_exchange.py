"""A frozen exchange is not shown as live (issue #14).

The paper exchange process is stopped with SIGSTOP: it keeps its socket, so connections
are accepted but nothing ever answers; no request fails until the client's timeout and
retries give up. The status must still leave "live" — degraded once feeds have been silent
for longer than their interval plus the request timeout, then down — and the panes must
grey out ("stale — retrying"). After SIGCONT everything is live and fresh again.

States are polled with a bounded wait; nothing asserts how long anything took.
"""

from __future__ import annotations

import os
import signal

from pydantic import SecretStr

from btx_tui.config import Settings
from btx_tui.exchange.process.launcher import PaperExchange
from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.dashboard import PANES_OF
from btx_tui.tui.connection_health import Connection

from .harness import FAST_UI, ready, wait_for

SIZE = (120, 36)
TIMEOUT_S = 1.0
"""The client's request timeout here (10 s by default), so the test needs seconds, not minutes."""


def hung_app(exchange: PaperExchange) -> BtxApp:
    api_key, secret = exchange.key("full")
    settings = Settings.model_validate({"ui": {**FAST_UI, "orders_interval_s": 1.0},
                                        "exchange": {"timeout_s": TIMEOUT_S, "streams": False}})
    # Polling's hung-exchange logic; a stalled stream is tests/tui/test_streams.py's.
    return BtxApp(settings, Connection(exchange.base_url, api_key, SecretStr(secret), paper=True))


def status_text(app: BtxApp) -> str:
    return str(app.dashboard.status_bar.render())


def stale_panes(app: BtxApp) -> set[str]:
    panes = {pane for panes in PANES_OF.values() for pane in panes}
    return {p for p in panes if app.dashboard.query_one(f"#{p}").has_class("-stale")}


async def test_a_frozen_exchange_goes_degraded_then_down_greys_out_and_recovers(
        fresh_exchange: PaperExchange) -> None:
    assert fresh_exchange.proc is not None
    pid = fresh_exchange.proc.pid
    app = hung_app(fresh_exchange)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.status_info().connection == "live", what="live")
        seen: list[str] = []
        failed_when_left_live: list[bool] = []

        def state() -> str:
            now = app.status_info().connection
            if not seen or seen[-1] != now:
                seen.append(now)
                if now != "live" and not failed_when_left_live:
                    failed_when_left_live.append(any(f.last_error for f in app.feeds.feeds.values()))
            return now

        os.kill(pid, signal.SIGSTOP)
        try:
            await wait_for(pilot, lambda: state() == "down", timeout=60, what="down while frozen")
            assert seen[0] == "live" and "degraded" in seen, seen
            assert seen.index("degraded") < seen.index("down"), seen
            assert failed_when_left_live == [False], "silence alone must leave live, before any request fails"
            await wait_for(pilot, lambda: "● down" in status_text(app), what="the status bar to say down")
            await wait_for(pilot, lambda: {"book", "watchlist", "balances"} <= stale_panes(app),
                           what="stale panes")
            book = app.dashboard.query_one("#book")
            assert book.border_subtitle == "stale — retrying"
        finally:
            os.kill(pid, signal.SIGCONT)
        await wait_for(pilot, lambda: "● live" in status_text(app) and not stale_panes(app),
                       timeout=30, what="live and fresh after SIGCONT")
