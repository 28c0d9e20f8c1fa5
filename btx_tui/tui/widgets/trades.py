"""Recent trades tape of the selected market: time, price, quantity, aggressor side colour.

Updated on every streamed trade: the update only keeps the trades and marks the pane for a
repaint; the text is built in ``render``, once per frame however many trades came in between
(no pacing delay: a trade shows in the next frame), and a repaint never relayouts the screen
(the pane's size comes from the layout, never from its text).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from rich.text import Text
from textual.app import RenderResult
from textual.widgets import Static

from btx_tui.api.models import AggTrade, Trade

TapeTrade = Trade | AggTrade
"""Anything with price, qty, time and is_buyer_maker: the tape shows aggregate trades."""
from btx_tui.tui.formatting import fmt_amount, fmt_price


class TradesTape(Static, can_focus=True):
    """Newest trade first. Green: the buyer took liquidity; red: the seller did."""

    DEFAULT_CSS = """
    TradesTape { height: 1fr; }
    TradesTape > .tape--buy { color: $success; }
    TradesTape > .tape--sell { color: $error; }
    TradesTape > .tape--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"tape--buy", "tape--sell", "tape--dim"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__("waiting for trades…", **kwargs)  # type: ignore[arg-type]
        self.trades: tuple[TapeTrade, ...] = ()
        self._shown: tuple[Decimal, Decimal, bool] | None = None
        """Tick, step and staleness of the trades on show (None: none yet)."""

    def update_trades(self, trades: Sequence[TapeTrade], tick: Decimal, step: Decimal, stale: bool = False) -> None:
        self.trades = tuple(trades)
        self._shown = (tick, step, stale)
        # A layout pass re-renders the whole screen; only a content-sized tape would need one.
        self.refresh(layout=self.styles.auto_dimensions)

    def render(self) -> RenderResult:
        if self._shown is None:
            return super().render()  # "waiting for trades…"
        tick, step, stale = self._shown
        buy = self.get_component_rich_style("tape--buy")
        sell = self.get_component_rich_style("tape--sell")
        dim = self.get_component_rich_style("tape--dim")
        text = Text(no_wrap=True)
        text.append(f"{'Time':<9}{'Price':>14}{'Qty':>12}\n", dim)
        for t in reversed(self.trades[-60:]):
            when = datetime.fromtimestamp(t.time / 1000, UTC).strftime("%H:%M:%S")
            style = dim if stale else (sell if t.is_buyer_maker else buy)
            text.append(f"{when:<9}", dim)
            text.append(f"{fmt_price(t.price, tick):>14}", style)
            text.append(f"{fmt_amount(t.qty, step):>12}\n")
        return text
