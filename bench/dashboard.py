"""Dashboard benchmarks: order-book widget vs DataTable, and the whole app against the paper exchange.

Figures (each with a baseline measured in the same run, because these machines are shared
and noisy — the ratio is the stable figure):

* ``book_*``: CPU per update of a 2×25-level order book in the Line API widget vs a keyed
  ``DataTable`` showing the same rows (updated cell by cell, its cheapest use), rendering
  included. Target: the widget ≥ 8× cheaper.
* ``app_cpu_pct``: CPU of the whole app, headless, polling a live paper exchange at the
  default intervals with a 20-symbol watchlist; baseline: the same app with polling paused.
  Target ≤ 10 % of one core.
* ``launch_to_data_s``: from starting the paper exchange (as ``btx-tui`` does) to the first
  frame with every pane filled. Target ≤ 2 s.
* ``key_b_to_form_ms``: ``b`` pressed → order form painted (median of later opens; the first
  open on a market, which builds the form, is reported apart); baseline: a trivial modal
  screen pushed over the same dashboard. Target ≤ 50 ms.
* ``submit_to_visible_ms``: order submitted → in the open-orders table; baseline: one ``ping``
  round trip. Target ≤ 200 ms.

Run: ``.venv/bin/python bench/dashboard.py`` (``--quick`` for a short run). The last stdout
line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr
from textual.app import App, ComposeResult
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from btx_tui.api.models_trading import OrderSide, OrderType, TimeInForce  # noqa: E402
from btx_tui.api.orders import OrderRequest  # noqa: E402
from btx_tui.config import Settings  # noqa: E402
from btx_tui.exchange.process.launcher import start_paper_exchange  # noqa: E402
from btx_tui.tui.app import BtxApp  # noqa: E402
from btx_tui.tui.connection_health import Connection  # noqa: E402
from btx_tui.api.book_views import book_view  # noqa: E402
from btx_tui.api.models import Depth  # noqa: E402
from btx_tui.tui.widgets.order_book import BookDisplay, OrderBookView  # noqa: E402

LEVELS = 25
TICK = Decimal("0.01")
STEP = Decimal("0.00001")


# -- order book widget vs DataTable -------------------------------------------------------------


def book_updates(n: int, seed: int = 7) -> list[BookDisplay]:
    """A realistic stream: each update changes a few sizes near the touch, sometimes the touch moves."""
    rng = random.Random(seed)
    mid = 95000
    sizes = {p: Decimal(rng.randint(1, 900)) * STEP for p in range(mid - 200, mid + 200)}
    views = []
    for _ in range(n):
        if rng.random() < 0.15:
            mid += rng.choice((-1, 1))
        for _ in range(3):
            p = mid + rng.randint(-8, 8)
            sizes[p] = Decimal(rng.randint(1, 900)) * STEP
        bids = [(Decimal(p) * TICK, sizes[p]) for p in range(mid - 1, mid - 1 - LEVELS, -1)]
        asks = [(Decimal(p) * TICK, sizes[p]) for p in range(mid + 1, mid + 1 + LEVELS)]
        depth = Depth(last_update_id=len(views), bids=bids, asks=asks)
        views.append(BookDisplay(book_view(depth, "BTCUSDT"), TICK, STEP))
    return views


class BookApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OrderBookView(id="book")


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(id="table", cursor_type="none")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("price", "size", "total"):
            table.add_column(key.title(), key=key, width=14)
        for i in range(2 * LEVELS + 1):
            table.add_row("", "", "", key=str(i))


def table_rows(view: BookDisplay) -> list[tuple[str, str, str]]:
    """The same rows the widget shows, as DataTable cells (same formatting)."""
    from btx_tui.tui.formatting import fmt_amount, fmt_price

    assert view.book is not None

    def cells(level) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
        return (fmt_price(level.price, TICK), fmt_amount(level.qty, STEP),
                fmt_amount(level.cumulative_qty, STEP))

    return [*(cells(lvl) for lvl in reversed(view.book.asks)), ("spread", "", ""),
            *(cells(lvl) for lvl in view.book.bids)]


async def bench_book(n: int) -> dict[str, float]:
    views = book_updates(n)
    size = (46, 2 * LEVELS + 4)

    app = BookApp()
    async with app.run_test(size=size) as pilot:
        book = app.query_one(OrderBookView)
        book.update_book(views[0])
        await pilot.pause()
        start = time.process_time()
        for view in views:
            book.update_book(view)
            await pilot.pause()
        widget_cpu = (time.process_time() - start) / n

    table_app = TableApp()
    async with table_app.run_test(size=size) as pilot:
        table = table_app.query_one(DataTable)
        shown: list[tuple[str, str, str]] = [("", "", "")] * (2 * LEVELS + 1)
        await pilot.pause()
        start = time.process_time()
        for view in views:
            for i, row in enumerate(table_rows(view)):
                if row != shown[i]:
                    for key, old, new in zip(("price", "size", "total"), shown[i], row):
                        if old != new:
                            table.update_cell(str(i), key, new)
                    shown[i] = row
            await pilot.pause()
        table_cpu = (time.process_time() - start) / n

    return {"book_widget_cpu_ms": widget_cpu * 1000, "book_datatable_cpu_ms": table_cpu * 1000,
            "book_speedup": table_cpu / widget_cpu}


# -- whole app --------------------------------------------------------------------------------


def twenty_symbols(base_url: str) -> list[str]:
    import httpx

    info = httpx.get(base_url + "/api/v3/exchangeInfo", timeout=10).json()
    names = [s["symbol"] for s in info["symbols"]]
    first = ["BTTUSDT", "BTCUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX"]
    return (first + [n for n in names if n not in first])[:20]


class TrivialModal(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("baseline modal")


async def wait_until(cond, timeout: float = 30.0, step: float = 0.005) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(step)


def all_panes_filled(app: BtxApp) -> bool:
    """Every feed has delivered and every pane shows data (the status bar says live)."""
    d = app.dashboard
    feeds = app.feeds.feeds.values()
    return bool(feeds and all(f.last_ok is not None for f in feeds) and app.state.rules.info
                and d.tape.trades and d.chart.klines and len(d.watchlist.tickers) == len(d.watchlist.symbols))


async def shown(app: BtxApp, screen_type: type, t0: float) -> float:
    """Milliseconds from ``t0`` until a ``screen_type`` screen is mounted and painted once."""
    await wait_until(lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted, step=0.001)
    painted = asyncio.Event()
    app.screen.call_after_refresh(painted.set)
    await painted.wait()
    return (time.perf_counter() - t0) * 1000


async def bench_app(seconds: float, tmp: Path) -> dict[str, float]:
    # A trader's paper data persists between runs: let the market trade once, then time
    # a relaunch (exchange start + dashboard) until every pane shows data.
    warm = start_paper_exchange(tmp / "paper", market=True, seed=42)
    await asyncio.sleep(5)
    warm.stop()
    started = time.perf_counter()
    exchange = start_paper_exchange(tmp / "paper", market=True, seed=42)
    try:
        api_key, secret = exchange.key("full")
        settings = Settings.model_validate({"ui": {"watchlist": twenty_symbols(exchange.base_url)}})
        app = BtxApp(settings, Connection(exchange.base_url, api_key, SecretStr(secret), paper=True))
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_until(lambda: all_panes_filled(app))
            launch_to_data = time.perf_counter() - started
            await pilot.pause(2)

            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(seconds)
            polling_cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)

            app.feeds.pause()
            await pilot.pause(1)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(min(seconds, 10))
            idle_cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
            app.feeds.resume()
            await pilot.pause(1)

            from btx_tui.tui.screens.order_form import OrderFormScreen

            form_ms, modal_ms = [], []
            t0 = time.perf_counter()
            app.simulate_key("b")
            first_form_ms = await shown(app, OrderFormScreen, t0)  # builds the form for this market
            app.pop_screen()
            await pilot.pause(0.3)
            for _ in range(7):
                t0 = time.perf_counter()
                app.push_screen(TrivialModal())
                modal_ms.append(await shown(app, TrivialModal, t0))
                app.pop_screen()
                await pilot.pause(0.3)
                t0 = time.perf_counter()
                app.simulate_key("b")
                form_ms.append(await shown(app, OrderFormScreen, t0))
                app.pop_screen()
                await pilot.pause(0.3)

            visible_ms, ping_ms = [], []
            assert app.client is not None
            for i in range(5):
                t0 = time.perf_counter()
                await app.client.ping()
                ping_ms.append((time.perf_counter() - t0) * 1000)
                request = OrderRequest(symbol="BTCUSDT", side=OrderSide.BUY, type=OrderType.LIMIT,
                                       time_in_force=TimeInForce.GTC, quantity=Decimal("0.0001"),
                                       price=Decimal(50000 + i))
                t0 = time.perf_counter()
                app.trading.submit_order(request)
                table = app.dashboard.open_orders
                await wait_until(lambda: request.client_order_id in table.orders, step=0.001)
                visible_ms.append((time.perf_counter() - t0) * 1000)
                await pilot.pause(0.3)
            await app.client.cancel_open_orders("BTCUSDT")
    finally:
        exchange.stop()
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return {
        "launch_to_data_s": launch_to_data,
        "app_cpu_pct": polling_cpu * 100,
        "app_idle_cpu_pct": idle_cpu * 100,
        "app_cpu_vs_idle": polling_cpu / idle_cpu if idle_cpu else float("inf"),
        "key_b_to_form_ms": median(form_ms),
        "key_b_to_form_first_ms": first_form_ms,
        "trivial_modal_ms": median(modal_ms),
        "form_vs_modal": median(form_ms) / median(modal_ms),
        "submit_to_visible_ms": median(visible_ms),
        "ping_ms": median(ping_ms),
        "visible_vs_ping": median(visible_ms) / median(ping_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (~30 s)")
    parser.add_argument("--book-only", action="store_true", help="only the order-book widget bench")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    figures.update(asyncio.run(bench_book(60 if args.quick else 300)))
    if not args.book_only:
        with tempfile.TemporaryDirectory() as tmp:
            figures.update(asyncio.run(bench_app(15 if args.quick else 60, Path(tmp))))
    rows = [
        ("order book update, Line API widget", f"{figures['book_widget_cpu_ms']:.2f} ms CPU"),
        ("order book update, DataTable (baseline)", f"{figures['book_datatable_cpu_ms']:.2f} ms CPU"),
        ("  widget is cheaper by", f"{figures['book_speedup']:.1f}x  (target >= 8x)"),
    ]
    if "app_cpu_pct" in figures:
        rows += [
            ("launch to first full data frame", f"{figures['launch_to_data_s']:.2f} s  (target <= 2 s)"),
            ("whole app CPU, polling (20 symbols)", f"{figures['app_cpu_pct']:.1f} % of a core  (target <= 10 %)"),
            ("whole app CPU, paused (baseline)", f"{figures['app_idle_cpu_pct']:.1f} % of a core"),
            ("key b -> order form", f"{figures['key_b_to_form_ms']:.1f} ms  (target <= 50 ms)"),
            ("  first open on a market (builds it)", f"{figures['key_b_to_form_first_ms']:.1f} ms"),
            ("trivial modal (baseline)", f"{figures['trivial_modal_ms']:.1f} ms"),
            ("submit -> visible in open orders", f"{figures['submit_to_visible_ms']:.1f} ms  (target <= 200 ms)"),
            ("ping round trip (baseline)", f"{figures['ping_ms']:.1f} ms"),
        ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
