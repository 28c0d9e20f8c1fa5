"""The Line API order book: what it shows, and that it repaints only what changed."""

from __future__ import annotations

from decimal import Decimal

from textual.app import App, ComposeResult

from btx_tui.api.book_views import book_view
from btx_tui.api.models import Depth
from btx_tui.tui.widgets.order_book import BookDisplay, OrderBookView

TICK, STEP = Decimal("0.01"), Decimal("0.001")


def display(bids, asks, *, own_bids=(), group=TICK, stale=False) -> BookDisplay:  # type: ignore[no-untyped-def]
    depth = Depth(last_update_id=1, bids=[(Decimal(p), Decimal(q)) for p, q in bids],
                  asks=[(Decimal(p), Decimal(q)) for p, q in asks])
    grouped = group if group != TICK else None
    return BookDisplay(book_view(depth, "X", group_step=grouped), group, STEP,
                       frozenset(Decimal(p) for p in own_bids), frozenset(), stale)


class BookApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OrderBookView()


BIDS = [("99.99", "1"), ("99.98", "2"), ("99.90", "3")]
ASKS = [("100.01", "1.5"), ("100.02", "2"), ("100.10", "4")]


async def test_asks_above_spread_above_bids_with_running_totals() -> None:
    app = BookApp()
    async with app.run_test(size=(46, 12)) as pilot:
        book = app.query_one(OrderBookView)
        book.update_book(display(BIDS, ASKS, own_bids=["99.98"]))
        await pilot.pause()
        rows = [r for r in book.rows if r.kind != "empty"]
        assert [r.kind for r in rows] == ["header", "ask", "ask", "ask", "spread", "bid", "bid", "bid"]
        assert [r.price for r in rows if r.kind == "ask"] == ["100.10", "100.02", "100.01"]
        assert [r.total for r in rows if r.kind == "ask"] == ["7.500", "3.500", "1.500"]
        assert [r.price for r in rows if r.kind == "bid"] == ["99.99", "99.98", "99.90"]
        assert [r.total for r in rows if r.kind == "bid"] == ["1.000", "3.000", "6.000"]
        assert [r.own for r in rows if r.kind == "bid"] == [False, True, False]
        spread = next(r for r in rows if r.kind == "spread")
        assert spread.price == "spread 0.02" and spread.size.endswith("%")
        # Deepest cumulative total gets the full-width bar; others proportionally less.
        bars = {r.price: r.bar for r in rows if r.kind in ("ask", "bid")}
        assert bars["100.10"] == 44 and bars["99.99"] < bars["99.90"] < bars["100.10"]


async def test_only_changed_lines_are_refreshed() -> None:
    app = BookApp()
    async with app.run_test(size=(46, 12)) as pilot:
        book = app.query_one(OrderBookView)
        book.update_book(display(BIDS, ASKS))
        await pilot.pause()
        before = book.lines_refreshed
        book.update_book(display(BIDS, ASKS))  # same book: nothing to repaint
        assert book.lines_refreshed == before
        # The deepest bid grows: only its own line changes (totals above it are unchanged,
        # but the bars scale with the deepest total, so compare against a change that keeps it).
        book.update_book(display([("99.99", "1"), ("99.98", "2"), ("99.90", "3")],
                                 [("100.01", "1.5"), ("100.02", "2"), ("100.10", "4")], stale=False))
        assert book.lines_refreshed == before
        book.update_book(display(BIDS, [("100.01", "1.5"), ("100.02", "2"), ("100.10", "3.9")]))
        changed = book.lines_refreshed - before
        assert 1 <= changed < len(book.rows)


async def test_grouping_key_cycles_and_announces() -> None:
    app = BookApp()
    seen: dict[int, int] = {}  # one entry per message (a message is seen again as it bubbles)

    def hook(message: object) -> None:
        if isinstance(message, OrderBookView.GroupingChanged):
            seen[id(message)] = message.multiple

    async with app.run_test(size=(46, 12), message_hook=hook) as pilot:
        book = app.query_one(OrderBookView)
        book.focus()
        assert book.group_multiple == 1
        await pilot.press("g")
        await pilot.press("g")
        assert book.group_multiple == 100
        assert list(seen.values()) == [10, 100]
        book.update_book(display(BIDS, ASKS, group=Decimal("0.10")))
        await pilot.pause()
        prices = [r.price for r in book.rows if r.kind in ("ask", "bid")]
        assert prices == ["100.1", "99.9"]  # asks bucket up, bids bucket down; 0.1 grid, 1 decimal


async def test_stop_levels_have_a_marker_of_their_own() -> None:
    """An own untriggered stop is not in the book: its level is marked ◆, apart from own ● orders."""
    app = BookApp()
    async with app.run_test(size=(46, 12)) as pilot:
        book = app.query_one(OrderBookView)
        view = display(BIDS, ASKS, own_bids=["99.98"])
        book.update_book(BookDisplay(view.book, view.price_step, view.qty_step, view.own_bids, view.own_asks,
                                     stops=frozenset({Decimal("99.90"), Decimal("100.02")})))
        await pilot.pause()
        rows = {r.price: r for r in book.rows if r.kind in ("ask", "bid")}
        assert {p for p, r in rows.items() if r.stop} == {"99.90", "100.02"}
        assert {p for p, r in rows.items() if r.own} == {"99.98"}
        lines = {p: "".join(s.text for s in book.render_line(i)) for i, r in enumerate(book.rows)
                 for p in [r.price] if r.kind in ("ask", "bid")}
        assert lines["99.90"].startswith("◆ ") and lines["99.98"].startswith("● ")
        assert lines["99.99"].startswith("  ")
