"""The order book: a Line API widget that repaints only the rows that changed.

A book updates several times a second and most updates touch a few levels near the
touch. Built-in ``DataTable`` repaints everything on any change; this widget keeps one
immutable :class:`BookRow` per screen line, renders each row to a :class:`Strip` once
(cached by the row's content), and calls ``refresh_line`` only for lines whose row
changed. See ``bench/dashboard.py`` for the measured difference.

Layout, top to bottom: asks (best ask lowest, right above the spread line), the spread
line (absolute and %), bids (best bid first). Each row shows price, size and cumulative
size, with a depth bar behind it proportional to the cumulative size; the user's own
resting orders are marked with ``●`` on their level.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from btx_tui.api.book_views import BookLevel, BookView
from btx_tui.tui.formatting import fmt_amount, fmt_compact, fmt_exact, fmt_price

GROUPINGS = (1, 10, 100, 1000)
"""Price grouping multiples of the tick size that ``g`` cycles through."""

_STRIP_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class BookRow:
    """Everything one line shows; equal rows render to the same strip."""

    kind: str  # "ask" | "bid" | "spread" | "empty"
    price: str = ""
    size: str = ""
    total: str = ""
    bar: int = 0  # depth-bar width in cells
    own: bool = False


@dataclass(frozen=True, slots=True)
class BookDisplay:
    """The input: a book snapshot (already grouped) and how to show it."""

    book: BookView | None
    """From :func:`btx_tui.api.book_views.book_view`: levels best first, with running totals."""
    price_step: Decimal
    """Tick size × grouping: decides how many decimals prices show."""
    qty_step: Decimal
    own_bids: frozenset[Decimal] = frozenset()
    own_asks: frozenset[Decimal] = frozenset()
    stale: bool = False


class OrderBookView(ScrollView, can_focus=True):
    """Asks over bids with a spread line between, cumulative depth bars, own orders marked."""

    BINDINGS = [
        Binding("g", "cycle_grouping", "Group", id="book_grouping",
                tooltip="Change the price grouping of the order book"),
    ]

    COMPONENT_CLASSES = {
        "order-book--ask", "order-book--bid", "order-book--bar-ask", "order-book--bar-bid",
        "order-book--spread", "order-book--own", "order-book--stale", "order-book--header",
    }

    DEFAULT_CSS = """
    OrderBookView {
        overflow: hidden hidden;
        scrollbar-size: 0 0;
    }
    OrderBookView > .order-book--ask { color: $error; }
    OrderBookView > .order-book--bid { color: $success; }
    OrderBookView > .order-book--bar-ask { background: $error 20%; }
    OrderBookView > .order-book--bar-bid { background: $success 20%; }
    OrderBookView > .order-book--spread { color: $text-muted; text-style: bold; }
    OrderBookView > .order-book--own { color: $warning; text-style: bold; }
    OrderBookView > .order-book--stale { color: $text-disabled; }
    OrderBookView > .order-book--header { color: $text-muted; text-style: bold; }
    """

    grouping: reactive[int] = reactive(0, init=False)
    """Index into :data:`GROUPINGS`."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._view: BookDisplay | None = None
        self._rows: list[BookRow] = []
        self._strips: LRUCache[tuple[BookRow, int, bool], Strip] = LRUCache(_STRIP_CACHE_SIZE)
        """Rendered rows keyed by their content, width and staleness: equal rows are drawn once."""
        self._texts: dict[tuple[Decimal, Decimal, bool], str] = {}
        """Formatted prices and sizes: Decimal formatting is the costliest part of a row."""
        self._styles: dict[str, Style] = {}
        """Resolved rich styles by name; resolving one costs ~0.1 ms, so once per theme, not per row."""
        self.lines_refreshed = 0
        """How many lines were refreshed by updates (tests and benchmarks read it)."""

    # -- public API ------------------------------------------------------------------

    @property
    def group_multiple(self) -> int:
        return GROUPINGS[self.grouping % len(GROUPINGS)]

    @property
    def rows(self) -> list[BookRow]:
        """The rows currently on screen, top to bottom."""
        return list(self._rows)

    def update_book(self, view: BookDisplay) -> None:
        """Show ``view``, refreshing only the lines whose content changed."""
        stale_changed = self._view is not None and self._view.stale != view.stale
        self._view = view
        self._relayout(full=stale_changed)  # staleness recolours every row

    def action_cycle_grouping(self) -> None:
        self.grouping = (self.grouping + 1) % len(GROUPINGS)

    def watch_grouping(self) -> None:
        self.post_message(self.GroupingChanged(self, self.group_multiple))

    # -- messages --------------------------------------------------------------------

    class GroupingChanged(Message):
        """The user changed the price grouping (the feed regroups the next snapshot)."""

        def __init__(self, book: OrderBookView, multiple: int) -> None:
            super().__init__()
            self.book = book
            self.multiple = multiple

    # -- layout ----------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.size.height)
        self._strips.clear()
        self._relayout(full=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()
        self.refresh()

    def _style(self, name: str) -> Style:
        """``base`` (the widget's own style) or a component class, resolved once per theme."""
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = base if name == "base" else base + self.get_component_rich_style(f"order-book--{name}")
            self._styles[name] = style
        return style

    def _relayout(self, full: bool = False) -> None:
        rows = self._build_rows(self.size.height, self.size.width)
        old = self._rows
        self._rows = rows
        if full or len(old) != len(rows):
            self.lines_refreshed += len(rows)
            self.refresh()
            return
        # Cumulative totals make a change near the touch ripple outwards, so changed rows come
        # in runs: refresh each run with one call rather than one call per line.
        run_start = None
        for y, (before, after) in enumerate(zip(old, rows)):
            if before != after:
                if run_start is None:
                    run_start = y
            elif run_start is not None:
                self._refresh_run(run_start, y)
                run_start = None
        if run_start is not None:
            self._refresh_run(run_start, len(rows))

    def _refresh_run(self, start: int, end: int) -> None:
        self.lines_refreshed += end - start
        self.refresh_lines(start, end - start)

    def _build_rows(self, height: int, width: int) -> list[BookRow]:
        view = self._view
        if height <= 0:
            return []
        if view is None or view.book is None:
            return [BookRow("empty")] * height
        book = view.book
        per_side = max((height - 2) // 2, 0)  # header + spread line
        asks = book.asks[:per_side]
        bids = book.bids[:per_side]
        deepest = max([side[-1].cumulative_qty for side in (asks, bids) if side], default=Decimal(0))
        bar_width = max(width - 2, 1)
        texts = self._texts
        if len(texts) > 8192:  # prices and sizes repeat from update to update; bound the memo
            texts.clear()

        def text(value: Decimal, step: Decimal, is_price: bool) -> str:
            key = (value, step, is_price)
            out = texts.get(key)
            if out is None:
                out = texts[key] = fmt_price(value, step) if is_price else fit_amount(value, step)
            return out

        def row(kind: str, level: BookLevel, own: frozenset[Decimal]) -> BookRow:
            cum = level.cumulative_qty
            bar = int(cum / deepest * bar_width) if deepest else 0
            return BookRow(kind, text(level.price, view.price_step, True),
                           text(level.qty, view.qty_step, False), text(cum, view.qty_step, False),
                           bar, level.price in own)

        top_pad = [BookRow("empty")] * (per_side - len(asks))
        ask_rows = [row("ask", lvl, view.own_asks) for lvl in asks][::-1]
        bid_rows = [row("bid", lvl, view.own_bids) for lvl in bids]
        rows = [BookRow("header"), *top_pad, *ask_rows, self._spread_row(view), *bid_rows]
        rows += [BookRow("empty")] * (height - len(rows))
        return rows[:height]

    @staticmethod
    def _spread_row(view: BookDisplay) -> BookRow:
        book = view.book
        if book is None or book.spread is None:
            return BookRow("spread", "spread —")
        pct = f"{book.spread_pct:.3f}%" if book.spread_pct is not None else ""
        spread = fmt_price(book.spread, view.price_step)
        if book.spread and not Decimal(spread.replace(",", "")):
            spread = fmt_exact(book.spread)  # never "spread 0" next to a non-zero percentage
        return BookRow("spread", f"spread {spread}", pct)

    # -- rendering -------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(self._rows):
            return Strip.blank(width, self._style("base"))
        stale = bool(self._view and self._view.stale)
        key = (self._rows[y], width, stale)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(self._rows[y], width, stale)
        return strip

    def _render_row(self, row: BookRow, width: int, stale: bool) -> Strip:
        base = self._style("base")
        col = max((width - 2) // 3, 6)
        if row.kind == "empty":
            return Strip.blank(width, base)
        if row.kind == "header":
            text = "  " + "Price".rjust(col) + "Size".rjust(col) + "Total".rjust(width - 2 - 2 * col)
            return Strip([Segment(text[:width].ljust(width), self._style("header"))], width)
        if row.kind == "spread":
            text = f"  {row.price}  {row.size}".center(width)
            return Strip([Segment(text[:width], self._style("spread"))], width)
        side = "ask" if row.kind == "ask" else "bid"
        color = self._style("stale" if stale else side)
        bar = self._style(f"bar-{side}")
        marker = "● " if row.own else "  "
        text = marker + row.price.rjust(col) + row.size.rjust(col) + row.total.rjust(width - 2 - 2 * col)
        text = text[:width].ljust(width)
        bar_start = width - row.bar
        price_end = 2 + col
        segments: list[Segment] = []
        for start, end, style in (
            (0, 2, self._style("own") if row.own else base),
            (2, price_end, color),
            (price_end, width, base),
        ):
            # Split each span where the depth bar begins, so the bar sits behind the text.
            cut = min(max(bar_start, start), end)
            if cut > start:
                segments.append(Segment(text[start:cut], style))
            if end > cut:
                segments.append(Segment(text[cut:end], style + bar))
        return Strip(segments, width)


def fit_amount(value: Decimal, step: Decimal, width: int = 12) -> str:
    """The exact amount if it fits the column, else a compact one (17.10B) — never run-on digits."""
    exact = fmt_amount(value, step)
    return exact if len(exact) <= width else fmt_compact(value)
