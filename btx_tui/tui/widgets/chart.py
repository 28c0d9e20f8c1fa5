"""Price chart of the selected market: OHLC candles with wicks, volume, axes, own orders.

Candles are drawn at half-row resolution with box-drawing glyphs, the way terminal candle
charts (cli-candlestick-chart and its ports) do it: a heavy stroke ``┃`` for the body, a light
one ``│`` for the wick, and the half-cell glyphs ``╹╻╿╽╵╷`` where a body or a wick begins or ends
in the middle of a cell. One column per candle, the newest on the right; green where the candle
closed at or above its open, red below. Under the candles, volume bars in eighths of a cell;
at the bottom a time axis in the configured local zone (its name shown); on the right a price
axis on the market's tick. The trader's open orders are marked on the price axis at their
price (``◂B``/``◂S``), their fills on the candle they happened in (``▲`` bought, ``▼`` sold).

``d`` switches the pane to a depth chart of the book: cumulative bid quantity rising to the
left of the spread, cumulative ask quantity to the right.

A Line API widget: the rows are computed once per change (new klines, depth, own orders, a
resize) as plain model rows, and each row's :class:`~textual.strip.Strip` is cached by its
content, so an unchanged row is never rebuilt and scrolling candles cost one pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal

from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from btx_tui.api.models import Depth, Kline
from btx_tui.tui.formatting import fmt_compact, fmt_price

INTERVALS = ("1s", "1m", "5m", "15m", "1h", "4h", "1d")
AXIS_WIDTH = 13
TIME_LABEL_EVERY = 12
"""Columns between two time-axis labels."""
VOLUME_BLOCKS = " ▁▂▃▄▅▆▇█"

Cell = tuple[str, str]
"""One character and the name of its style (a component class suffix, or "" for none)."""


@dataclass(frozen=True)
class OwnMarks:
    """The trader's own orders and fills on the chart's market."""

    orders: tuple[tuple[str, Decimal], ...] = ()
    """(side "BUY"/"SELL", price) of each open order."""
    fills: tuple[tuple[str, Decimal, int], ...] = ()
    """(side, price, time in ms) of each fill."""


@dataclass(frozen=True)
class ChartData:
    """Everything the chart draws; a new one replaces the old (a frozen value)."""

    symbol: str = ""
    klines: tuple[Kline, ...] = ()
    tick_size: Decimal = Decimal("0.01")
    marks: OwnMarks = field(default_factory=OwnMarks)
    zone: tzinfo | None = None
    """The zone of the time axis (None: the system's)."""
    depth: Depth | None = None


def half_index(value: Decimal, lo: Decimal, span: Decimal, halves: int) -> int:
    """Which half-row (0 = bottom) ``value`` falls in when ``lo..lo+span`` fills ``halves``."""
    index = int((value - lo) / span * halves) if span else halves // 2
    return min(max(index, 0), halves - 1)


def candle_glyph(row: int, body: tuple[int, int], wick: tuple[int, int]) -> str:
    """The glyph of one candle in row ``row`` (0 = bottom), given the half-rows its body and its
    wick span (inclusive ranges, bottom first)."""
    lower, upper = 2 * row, 2 * row + 1
    b_lo, b_hi = body
    w_lo, w_hi = wick
    body_up, body_down = b_lo <= upper <= b_hi, b_lo <= lower <= b_hi
    wick_up, wick_down = w_lo <= upper <= w_hi, w_lo <= lower <= w_hi
    if body_up and body_down:
        return "┃"
    if body_up:
        return "╿" if wick_down else "╹"
    if body_down:
        return "╽" if wick_up else "╻"
    if wick_up and wick_down:
        return "│"
    if wick_up:
        return "╵"
    if wick_down:
        return "╷"
    return " "


def local_time(ms: int, zone: tzinfo | None) -> datetime:
    """``ms`` since the epoch as an aware datetime in ``zone`` (None: the system's zone)."""
    return datetime.fromtimestamp(ms / 1000, zone).astimezone(zone)


def time_label(ms: int, interval: str, zone: tzinfo | None) -> str:
    """A time-axis label: the date for daily candles, else the clock time."""
    when = local_time(ms, zone)
    if interval in ("1d", "4h"):
        return when.strftime("%m-%d")
    return when.strftime("%H:%M:%S" if interval == "1s" else "%H:%M")


class PriceChart(Widget, can_focus=True):
    """Candles, volume and axes of the last klines that fit the width, or the book's depth."""

    DEFAULT_CSS = """
    PriceChart { width: 1fr; height: 1fr; min-height: 5; }
    PriceChart > .chart--up { color: $success; }
    PriceChart > .chart--down { color: $error; }
    PriceChart > .chart--axis { color: $text-muted; }
    PriceChart > .chart--buy { color: $success; text-style: bold; }
    PriceChart > .chart--sell { color: $error; text-style: bold; }
    PriceChart > .chart--volume { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"chart--up", "chart--down", "chart--axis", "chart--buy", "chart--sell", "chart--volume"}

    interval: reactive[str] = reactive("1m")
    depth_mode: reactive[bool] = reactive(False)
    """Show the book's cumulative depth instead of candles (``d``)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.data = ChartData()
        self._rows: list[tuple[Cell, ...]] = []
        self._strips: dict[tuple[tuple[Cell, ...], int], Strip] = {}
        self._styles: dict[str, Style] = {}
        self._axis_width = AXIS_WIDTH

    # -- public API -------------------------------------------------------------------------

    @property
    def klines(self) -> tuple[Kline, ...]:
        return self.data.klines

    @property
    def symbol(self) -> str:
        return self.data.symbol

    def show(self, data: ChartData) -> None:
        """Draw ``data`` (only the rows whose content changed are rebuilt)."""
        self.data = data
        self._relayout()

    def update_klines(self, symbol: str, klines: Sequence[Kline], tick_size: Decimal) -> None:
        """Draw ``klines`` of ``symbol``, keeping the own marks, depth and zone."""
        d = self.data
        self.show(ChartData(symbol, tuple(klines), tick_size, d.marks if symbol == d.symbol else OwnMarks(),
                            d.zone, d.depth if symbol == d.symbol else None))

    @property
    def text_rows(self) -> list[str]:
        """The characters of every row on screen, top to bottom (tests read them)."""
        return ["".join(ch for ch, _ in row) for row in self._rows]

    def watch_depth_mode(self) -> None:
        self._relayout()

    def watch_interval(self) -> None:
        self._relayout()

    def on_resize(self) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    # -- model rows --------------------------------------------------------------------------

    def _relayout(self) -> None:
        width, height = self.content_size.width, self.content_size.height
        if width <= 0 or height <= 0:
            rows = []
        elif self.depth_mode:
            rows = self._depth_rows(width, height)
        else:
            rows = self._candle_rows(width, height)
        if rows != self._rows:  # a ticker or a book that leaves the candles as they were: no repaint
            self._rows = rows
            self.refresh()

    @staticmethod
    def _message(text: str, width: int, height: int) -> list[tuple[Cell, ...]]:
        rows: list[tuple[Cell, ...]] = [tuple((ch, "axis") for ch in text[:width])]
        return rows + [()] * (height - 1)

    def _candle_rows(self, width: int, height: int) -> list[tuple[Cell, ...]]:
        d = self.data
        if not d.klines:
            return self._message("waiting for klines…", width, height)
        # The axis is as wide as a price with an own-order marker ("◂B 0.0000006100").
        widest = max(len(fmt_price(p, d.tick_size)) for p in (*(k.high for k in d.klines[-width:]),
                                                                *(p for _, p in d.marks.orders)))
        self._axis_width = max(AXIS_WIDTH, widest + 4)
        cols = max(width - self._axis_width, 1)
        candles = d.klines[-cols:]
        hint = ""
        if len(candles) < 10 and height > 6:
            hint = f" only {len(candles)} {self.interval} candle(s) so far — i changes the interval"
        plot_h = height - 1 - (1 if hint else 0)  # the time axis, the hint
        volume_h = plot_h // 5 if plot_h >= 8 else 0
        price_h = max(plot_h - volume_h, 1)
        lo = min(k.low for k in candles)
        hi = max(k.high for k in candles)
        span = hi - lo
        halves = price_h * 2
        grid: list[list[Cell]] = [[(" ", "")] * cols for _ in range(price_h)]
        for x, k in enumerate(candles):
            body = sorted((half_index(k.open, lo, span, halves), half_index(k.close, lo, span, halves)))
            wick = (half_index(k.low, lo, span, halves), half_index(k.high, lo, span, halves))
            style = "up" if k.close >= k.open else "down"
            for y in range(price_h):
                glyph = candle_glyph(price_h - 1 - y, (body[0], body[1]), wick)
                if glyph != " ":
                    grid[y][x] = (glyph, style)
        row_of = lambda price: price_h - 1 - half_index(price, lo, span, halves) // 2  # noqa: E731
        # Fills on the candle they happened in.
        starts = [k.open_time for k in candles]
        for side, price, when in d.marks.fills:
            if not starts or when < starts[0] or not lo <= price <= hi:
                continue
            x = max(i for i, start in enumerate(starts) if start <= when)
            grid[row_of(price)][x] = ("▲" if side == "BUY" else "▼", "buy" if side == "BUY" else "sell")
        # The price axis: top, middle, bottom, and the own orders at their prices.
        axis: dict[int, tuple[str, str]] = {}
        for y, price in ((0, hi), (price_h // 2, lo + span / 2), (price_h - 1, lo)):
            axis[y] = (" " + fmt_price(price, d.tick_size), "axis")
        for side, price in d.marks.orders:
            if lo <= price <= hi:
                axis[row_of(price)] = (("◂B " if side == "BUY" else "◂S ") + fmt_price(price, d.tick_size),
                                       "buy" if side == "BUY" else "sell")
            else:  # off the chart: an arrow at the edge it lies beyond
                y = 0 if price > hi else price_h - 1
                axis[y] = (("▴" if price > hi else "▾") + ("B " if side == "BUY" else "S ")
                           + fmt_price(price, d.tick_size), "buy" if side == "BUY" else "sell")
        rows: list[tuple[Cell, ...]] = []
        for y in range(price_h):
            label, style = axis.get(y, ("", "axis"))
            rows.append((*grid[y], *self._axis_cells(label, style)))
        rows.extend(self._volume_rows(candles, cols, volume_h))
        rows.append(self._time_axis(candles, cols))
        if hint:
            rows.append(tuple((ch, "axis") for ch in hint[:width]))
        return rows[:height]

    def _axis_cells(self, label: str, style: str) -> tuple[Cell, ...]:
        text = label[:self._axis_width].rjust(self._axis_width)
        return tuple((ch, style if ch != " " else "") for ch in text)

    def _volume_rows(self, candles: Sequence[Kline], cols: int, volume_h: int) -> list[tuple[Cell, ...]]:
        if volume_h <= 0:
            return []
        top = max(k.volume for k in candles)
        eighths = [int(k.volume / top * volume_h * 8) if top else 0 for k in candles]
        rows = []
        for y in range(volume_h):
            floor = (volume_h - 1 - y) * 8
            cells: list[Cell] = [(VOLUME_BLOCKS[min(max(level - floor, 0), 8)], "up" if k.close >= k.open else "down")
                                 for k, level in zip(candles, eighths)]
            cells += [(" ", "")] * (cols - len(candles))
            label = (" vol " + fmt_compact(top)) if y == 0 else ""
            rows.append((*cells, *self._axis_cells(label, "volume")))
        return rows

    def _time_axis(self, candles: Sequence[Kline], cols: int) -> tuple[Cell, ...]:
        zone = self.data.zone
        line = [" "] * cols
        x = len(candles) - 1
        while x >= 0:  # labels right-aligned on their candle, from the newest leftwards
            label = time_label(candles[x].open_time, self.interval, zone)
            start = max(x - len(label) + 1, 0)  # the oldest label may shift right to fit
            if start + len(label) <= cols:
                line[start:start + len(label)] = label
            x -= TIME_LABEL_EVERY
        zone_name = local_time(candles[-1].open_time, zone).tzname() or ""
        return (*((ch, "axis") for ch in line), *self._axis_cells(zone_name, "axis"))

    def _depth_rows(self, width: int, height: int) -> list[tuple[Cell, ...]]:
        depth = self.data.depth
        if depth is None or not (depth.bids or depth.asks):
            return self._message("waiting for the book…", width, height)
        plot_h = max(height - 1, 1)
        self._axis_width = AXIS_WIDTH
        cols = max(width - AXIS_WIDTH, 2)
        half = cols // 2
        bids = depth.bids[:half]
        asks = depth.asks[:cols - half]
        cum_bids, total = [], Decimal(0)
        for level in bids:
            total += level.qty
            cum_bids.append(total)
        cum_asks, total = [], Decimal(0)
        for level in asks:
            total += level.qty
            cum_asks.append(total)
        top = max([*cum_bids, *cum_asks, Decimal(0)]) or Decimal(1)
        # Columns left to right: deepest bid … best bid | best ask … deepest ask.
        columns: list[tuple[Decimal, str]] = [(q, "up") for q in reversed(cum_bids)]
        columns = [(Decimal(0), "")] * (half - len(columns)) + columns
        columns += [(q, "down") for q in cum_asks]
        columns += [(Decimal(0), "")] * (cols - len(columns))
        eighths = [math.floor(q / top * plot_h * 8) for q, _ in columns]
        rows: list[tuple[Cell, ...]] = []
        for y in range(plot_h):
            floor = (plot_h - 1 - y) * 8
            cells = tuple((VOLUME_BLOCKS[min(max(level - floor, 0), 8)], style)
                          for (_, style), level in zip(columns, eighths))
            label = " " + fmt_compact(top) if y == 0 else (" " + fmt_compact(top / 2) if y == plot_h // 2 else "")
            rows.append((*cells, *self._axis_cells(label, "axis")))
        tick = self.data.tick_size
        low = fmt_price(bids[-1].price, tick) if bids else ""
        best = fmt_price(bids[0].price, tick) if bids else ""
        high = fmt_price(asks[-1].price, tick) if asks else ""
        line = [" "] * cols
        for text, start in ((low, 0), (best, max(half - len(best), 0)), (high, max(cols - len(high), 0))):
            line[start:start + len(text)] = text[:cols - start]
        rows.append((*((ch, "axis") for ch in line[:cols]), *self._axis_cells("cum. qty", "axis")))
        return rows[:height]

    # -- rendering ---------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style + (self.get_component_rich_style(f"chart--{name}") if name else Style())
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if y >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        row = self._rows[y]
        key = (row, width)
        strip = self._strips.get(key)
        if strip is None:
            segments: list[Segment] = []
            for ch, style in row:  # merge runs of one style into one segment
                if segments and segments[-1].style is self._style(style):
                    segments[-1] = Segment(segments[-1].text + ch, segments[-1].style)
                else:
                    segments.append(Segment(ch, self._style(style)))
            strip = Strip(segments).adjust_cell_length(width, self.rich_style)
            if len(self._strips) > 512:
                self._strips.clear()
            self._strips[key] = strip
        return strip
