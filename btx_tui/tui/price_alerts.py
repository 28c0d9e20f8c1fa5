"""The app's price alerts: the alert book of the data dir, fed the last prices, and what a
fired alert looks like (a notification formatted like the panes, the bell once).

An object the app owns (not a mixin): the book (:class:`~btx_tui.api.alerts.AlertBook`) is the
only writer of the alerts and saves every change; a damaged file leaves the app running
without alerts and says so once (:attr:`PriceAlerts.problem`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from btx_tui.api.alerts import Alert, AlertBook, AlertError, AlertKind, AlertsFileError
from btx_tui.tui.formatting import fmt_price
from btx_tui.tui.screens.alerts import describe
from btx_tui.tui.state import DashboardState

log = logging.getLogger(__name__)


class PriceAlerts:
    """The alerts of one data dir (None: alerts are off), as the app and its screens use them."""

    def __init__(self, app: Any, state: DashboardState, data_dir: Path | None, bell: bool) -> None:
        self.app = app
        self.state = state
        self.bell = bell
        self.book: AlertBook | None = None
        self.problem = ""
        """Why alerts are unavailable (a damaged file, no data dir); empty when they work."""
        if data_dir is None:
            self.problem = "Alerts need a data directory."
            return
        try:
            self.book = AlertBook.open(data_dir)
        except AlertsFileError as exc:
            self.problem = str(exc)

    def tick(self, symbol: str) -> Decimal:
        return self.state.steps(symbol)[0]

    def last_price(self, symbol: str) -> Decimal | None:
        ticker = next((t.last_price for t in self.state.tickers if t.symbol == symbol), None)
        return ticker or self.state.prices.get(symbol)

    # -- AlertDesk ---------------------------------------------------------------------

    def add_alert(self, symbol: str, kind: str, text: str) -> Alert:
        if self.book is None:
            raise AlertError(self.problem)
        if not text.strip():
            raise AlertError("enter a price (or a percentage for a move)")
        last = self.last_price(symbol)
        if last is None:
            raise AlertError(f"{symbol} has no price yet: an alert needs one")
        if kind == AlertKind.MOVE.value:
            return self.book.add(symbol, kind, last, _now_ms(), pct=text.strip().rstrip("%"))
        return self.book.add(symbol, kind, last, _now_ms(), price=text)

    def remove_alert(self, alert_id: str) -> Alert:
        if self.book is None:
            raise AlertError(self.problem)
        return self.book.remove(alert_id)

    def alerts(self) -> list[Alert]:
        return self.book.list() if self.book is not None else []

    # -- firing ------------------------------------------------------------------------

    def check(self, last_prices: Mapping[str, Decimal]) -> list[Alert]:
        """Fire the alerts ``last_prices`` trigger: one notification each, the bell once."""
        if self.book is None or not last_prices:
            return []
        try:
            fired = self.book.evaluate(last_prices, _now_ms())
        except OSError as exc:  # the file could not be written: say so, keep running
            log.warning("alerts not saved: %s", exc)
            self.app.notify(f"Alerts could not be saved: {exc}", severity="warning", timeout=8)
            return []
        for alert in fired:
            tick = self.tick(alert.symbol)
            price = fmt_price(alert.fired_price, tick) if alert.fired_price is not None else "—"
            self.app.notify(f"{describe(alert, tick)}: last {price}", title="Price alert", timeout=10)
        if fired and self.bell:
            self.app.bell()
        return fired


def _now_ms() -> int:
    return int(time.time() * 1000)


