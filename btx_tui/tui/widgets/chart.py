"""Price chart of the selected market, drawn from klines with Unicode blocks.

One column per candle (the newest on the right), filled up to its close in eighths of
a cell; green where the candle closed at or above its open, red below. The price scale
(high, middle, low of the visible window) sits on the right. It redraws only when new
klines arrive or the widget is resized.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from btx_tui.api.models import Kline
from btx_tui.tui.formatting import fmt_price

BLOCKS = " ▁▂▃▄▅▆▇█"
INTERVALS = ("1s", "1m", "5m", "15m", "1h", "4h", "1d")
AXIS_WIDTH = 13


class PriceChart(Widget, can_focus=True):
    """Close prices of the last candles that fit the width."""

    DEFAULT_CSS = """
    PriceChart { width: 1fr; height: 1fr; min-height: 5; }
    PriceChart > .chart--up { color: $success; }
    PriceChart > .chart--down { color: $error; }
    PriceChart > .chart--axis { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"chart--up", "chart--down", "chart--axis"}

    interval: reactive[str] = reactive("1m")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.klines: tuple[Kline, ...] = ()
        self.tick_size = Decimal("0.01")
        self.symbol = ""

    def update_klines(self, symbol: str, klines: Sequence[Kline], tick_size: Decimal) -> None:
        self.symbol = symbol
        self.klines = tuple(klines)
        self.tick_size = tick_size
        self.refresh()

    def watch_interval(self) -> None:
        self.border_title = f"Chart {self.interval}"

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        cols = max(width - AXIS_WIDTH, 1)
        candles = self.klines[-cols:]
        if not candles or height <= 0:
            return Text("waiting for klines…" if not candles else "", style="dim")
        axis = self.get_component_rich_style("chart--axis")
        hint = ""
        if len(candles) < 10 and height > 3:
            hint = f" only {len(candles)} {self.interval} candle(s) so far — i changes the interval"
            height -= 1
        text = self._plot(candles, cols, height, axis)
        if hint:
            text.append("\n" + hint[:width], axis)
        return text

    def _plot(self, candles: Sequence[Kline], cols: int, height: int, axis: object) -> Text:
        lo = min(k.low for k in candles)
        hi = max(k.high for k in candles)
        span = hi - lo or (hi * Decimal("0.001")) or Decimal(1)
        up = self.get_component_rich_style("chart--up")
        down = self.get_component_rich_style("chart--down")
        eighths = [int((k.close - lo) / span * height * 8) for k in candles]
        labels = {0: hi, height // 2: lo + span / 2, height - 1: lo}
        text = Text(no_wrap=True)
        for row in range(height):
            floor = (height - 1 - row) * 8  # eighths below this row
            for k, level in zip(candles, eighths):
                fill = min(max(level - floor, 0), 8)
                text.append(BLOCKS[fill], up if k.close >= k.open else down)
            text.append(" " * (cols - len(candles)))
            label = labels.get(row)
            text.append((" " + fmt_price(label, self.tick_size)).rjust(AXIS_WIDTH)
                        if label is not None else " " * AXIS_WIDTH, axis)
            if row < height - 1:
                text.append("\n")
        return text
