"""The watchlist: one row per symbol with last price, 24h change, range, volume (in the base
asset and in the quote asset) and trend.

It updates about once a second, so a keyed ``DataTable`` is cheap enough (the measured rule
in design.md) — provided an update touches only what changed: a cell whose text is unchanged is
not set again (every ``update_cell`` invalidates the table's whole render cache), and a column
is re-measured only when the new text changes its width (re-measuring walks the whole column and
relayouts the screen). A changed price flashes green or red for a moment; the trend column is a
sparkline of the last prices seen.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from decimal import Decimal

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from btx_tui.api.models import Ticker24h
from btx_tui.tui.formatting import UNKNOWN, fmt_compact, fmt_known_price, fmt_signed_pct
from btx_tui.tui.widgets.columns import add_columns, cell

SPARK = "▁▂▃▄▅▆▇█"
SPARK_LEN = 12
FLASH_S = 0.6


def sparkline(values: Iterable[Decimal]) -> str:
    """Map ``values`` onto eight block heights (flat when they are all equal)."""
    vals = list(values)
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi == lo:
        return SPARK[3] * len(vals)
    span = hi - lo
    return "".join(SPARK[int((v - lo) / span * (len(SPARK) - 1))] for v in vals)


def same_text(a: Text, b: Text) -> bool:
    """Whether two cells look the same (``Text ==`` ignores the base style and the alignment)."""
    return (a.plain == b.plain and a.style == b.style and a.justify == b.justify
            and a.spans == b.spans)


class Watchlist(DataTable):
    """Tickers of the configured symbols; Enter or click selects a market."""

    DEFAULT_CSS = """
    Watchlist { height: auto; max-height: 12; }
    """

    class RowChosen(Message):
        """The trader chose ``symbol``'s row (Enter or click) for the other panes."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, symbols: Iterable[str], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, cell_padding=0, **kwargs)  # type: ignore[arg-type]
        self.symbols = list(symbols)
        self.tick_sizes: dict[str, Decimal] = {}
        self.quote_assets: dict[str, str] = {}
        """Quote asset by symbol (known once exchangeInfo arrived), for the quote volume."""
        self._history: dict[str, deque[Decimal]] = {s: deque(maxlen=SPARK_LEN) for s in self.symbols}
        self._last: dict[str, Decimal] = {}
        self.tickers: dict[str, Ticker24h] = {}
        self._cells: dict[tuple[str, str], Text] = {}
        """What each (row, column) cell shows now: unchanged cells are not set again."""
        self._flashing: dict[str, float] = {}
        """Rows whose last price flashes, and since when (``time.monotonic()``)."""
        self.width_updates = 0
        """Cell updates that re-measured their column (tests read it: only when a width changes)."""

    def on_mount(self) -> None:
        # Sized to their widest cell (None): a BTT price next to a volume never runs together.
        add_columns(self, (("Market", "symbol", None), ("Last", "last", None), ("24h", "change", None),
                           ("High", "high", None), ("Low", "low", None), ("Volume", "volume", None),
                           ("Trend", "trend", SPARK_LEN - 3), ("Quote volume", "qvolume", None)))
        self._add_rows()

    def _add_rows(self) -> None:
        self._cells = {}
        for sym in self.symbols:
            self.add_row(" " + sym, "…", "", "", "", "", "", "", key=sym)
            for key in ("last", "change", "high", "low", "volume", "trend", "qvolume"):
                self._cells[(sym, key)] = Text("…" if key == "last" else "")

    def set_symbols(self, symbols: Iterable[str]) -> None:
        """Show the markets ``symbols`` in this order (added or removed by the trader)."""
        symbols = list(symbols)
        if symbols == self.symbols:
            return
        highlighted = self.highlighted
        self.symbols = symbols
        self._history = {s: self._history.get(s) or deque(maxlen=SPARK_LEN) for s in symbols}
        self.tickers = {s: t for s, t in self.tickers.items() if s in symbols}
        self._last = {s: p for s, p in self._last.items() if s in symbols}
        self.clear()
        self._add_rows()
        self.repaint()
        if highlighted in symbols:
            self.move_cursor(row=symbols.index(highlighted))

    @property
    def highlighted(self) -> str | None:
        """The market under the cursor."""
        row = self.cursor_row
        return self.symbols[row] if self.symbols and 0 <= row < len(self.symbols) else None

    def update_tickers(self, tickers: Iterable[Ticker24h], *, flash: bool = True) -> None:
        """Show fresh 24h tickers; prices that moved flash up or down."""
        for t in tickers:
            if t.symbol not in self._history:
                continue
            self.tickers[t.symbol] = t
            tick = self.tick_sizes.get(t.symbol, Decimal("0.00000001"))
            prev = self._last.get(t.symbol)
            self._last[t.symbol] = t.last_price
            hist = self._history[t.symbol]
            if flash and (not hist or hist[-1] != t.last_price):
                hist.append(t.last_price)
            direction = 0 if not flash or prev is None or prev == t.last_price else (1 if t.last_price > prev else -1)
            last = cell(fmt_known_price(t.last_price, tick), numeric=True)
            if direction:
                last.stylize("bold black on green" if direction > 0 else "bold black on red")
                self._flash(t.symbol)
            change_style = "green" if t.price_change_percent > 0 else ("red" if t.price_change_percent < 0 else "")
            row = t.symbol
            self._set_cell(row, "last", last)
            traded = bool(t.last_price and t.open_price)  # a market that never traded reports zeros
            change = fmt_signed_pct(t.price_change_percent) if traded else UNKNOWN
            self._set_cell(row, "change", cell(change, numeric=True, style=change_style))
            self._set_cell(row, "high", cell(fmt_known_price(t.high_price, tick), numeric=True))
            self._set_cell(row, "low", cell(fmt_known_price(t.low_price, tick), numeric=True))
            self._set_cell(row, "volume", cell(fmt_compact(t.volume), numeric=True))
            quote_volume = f"{fmt_compact(t.quote_volume)} {self.quote_assets.get(t.symbol, '')}".rstrip()
            self._set_cell(row, "qvolume", cell(quote_volume, numeric=True))
            self._set_cell(row, "trend", Text(" " + sparkline(list(hist)[-(SPARK_LEN - 4):]), style=change_style),
                           sized=False)

    def _set_cell(self, row: str, column: str, value: Text, *, sized: bool = True) -> None:
        """Show ``value`` in a cell unless it already shows it; re-measure the column only when
        ``value`` changes its width (a column is as wide as its widest cell: it widens to a
        longer value, e.g. a price gaining a digit, and narrows when its widest cell shrinks)."""
        old = self._cells.get((row, column))
        if old is not None and same_text(old, value):
            return
        self._cells[(row, column)] = value
        width_changes = sized and self._changes_width(row, column, old, value)
        self.width_updates += width_changes
        self.update_cell(row, column, value, update_width=width_changes)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Re-measure as ``DataTable`` does when idle, then drop the lines it cached meanwhile.

        A frame painted between a widening ``update_cell`` and this re-measure caches its lines
        at the old column widths, and ``DataTable`` only drops them at the next cell update. As
        only changed cells are set, a quiet market has none, and the cut value would stay. (A
        private hook of ``DataTable``; Textual is pinned, and a test fails if it stops working.)
        """
        super()._update_dimensions(new_rows)
        self._update_count += 1  # the line caches' key: every cached line is stale
        self.refresh()

    def _changes_width(self, row: str, column: str, old: Text | None, new: Text) -> bool:
        """Whether the column's width (its widest cell, header included) differs once ``new``
        replaces ``old``. Most updates keep the text's length (a price moving a tick): those
        cannot change the widest cell, and are decided without looking at the column."""
        col = self.columns.get(column)  # type: ignore[call-overload]
        if col is None or old is None:
            return True
        if new.cell_len > col.content_width:
            return True
        if old.cell_len == new.cell_len:
            return False
        widest = max((t.cell_len for (r, c), t in self._cells.items() if c == column), default=0)
        return max(widest, col.label.cell_len) != col.content_width

    def repaint(self) -> None:
        """Draw the last tickers again (e.g. once the markets' tick sizes are known)."""
        last, self._last = self._last, {}
        self.update_tickers(list(self.tickers.values()), flash=False)
        self._last.update(last)

    def _flash(self, symbol: str) -> None:
        """End ``symbol``'s flash :data:`FLASH_S` from now. One timer serves every flashing row:
        the rows a ticker update lit together go out together, in one repaint."""
        if not self._flashing:
            self.set_timer(FLASH_S, self._unflash)
        self._flashing[symbol] = time.monotonic()

    def _unflash(self) -> None:
        now = time.monotonic()
        due = [s for s, since in self._flashing.items() if now - since >= FLASH_S - 0.01]
        for symbol in due:
            del self._flashing[symbol]
            if symbol in self._last and symbol in self.tickers:
                tick = self.tick_sizes.get(symbol, Decimal("0.00000001"))
                self._set_cell(symbol, "last", cell(fmt_known_price(self._last[symbol], tick), numeric=True))
        if self._flashing:  # lit later than the others: their own time is not up yet
            self.set_timer(max(FLASH_S - (now - min(self._flashing.values())), 0.01), self._unflash)

    def select_symbol(self, symbol: str) -> None:
        """Move the cursor to ``symbol`` (without re-announcing it)."""
        if symbol in self.symbols:
            self.move_cursor(row=self.symbols.index(symbol))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.RowChosen(event.row_key.value))
