"""BtxApp: the dashboard application — bindings, session lifecycle and feed routing.

The app owns the service-layer client and the polling feeds; widgets only receive
snapshots. Every binding has an id so users can remap it via ``[keys]`` in the config
(``App.set_keymap``), and a description for the footer and the help screen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from btx_tui.api.client import BtxClient
from btx_tui.api.journal import SqliteJournal
from btx_tui.config import Settings
from btx_tui.tui.feeds import Feed, FeedRunner
from btx_tui.tui.messages import FeedFailed, FeedUpdated
from btx_tui.tui.router import FeedRouter
from btx_tui.tui.screens.dashboard import PANES, DashboardScreen
from btx_tui.tui.session import Connection, MarketRules, connection_state, freshest_age_s, overdue_feeds
from btx_tui.tui.trading import TradingActions
from btx_tui.tui.typeahead import TypeAhead
from btx_tui.tui.widgets.chart import INTERVALS
from btx_tui.tui.widgets.status_bar import StatusInfo

log = logging.getLogger(__name__)

THEMES = ("textual-dark", "nord", "gruvbox", "tokyo-night", "dracula", "catppuccin-mocha",
          "textual-light", "solarized-light")


class BtxApp(TradingActions, App[None]):
    """The btx-tui trading dashboard."""

    CSS_PATH = "app.tcss"

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (120, "-normal"),
                                                                      (160, "-wide")]
    """Width classes every screen gets: app.tcss and the modals' CSS drop or grow panes by them."""
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (36, "-mid"), (50, "-tall")]
    """Height classes: below 36 rows the chart and the trades tape give way; from 50 the panes grow."""
    TITLE = "btx-tui"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "buy", "Buy", id="buy", tooltip="Open the order form to buy the selected market"),
        Binding("s", "sell", "Sell", id="sell", tooltip="Open the order form to sell the selected market"),
        Binding("c", "cancel_order", "Cancel", id="cancel_order",
                tooltip="Cancel the highlighted open order (after a confirmation)"),
        Binding("C", "cancel_all", "Cancel all", id="cancel_all",
                tooltip="Cancel every open order of the selected market (after a confirmation)"),
        Binding("slash", "find_symbol", "Market", id="find_symbol", tooltip="Jump to a market by fuzzy search"),
        Binding("w", "withdraw", "Withdraw", id="withdraw", tooltip="Withdraw funds and see withdrawal history"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Poll every feed now"),
        Binding("p", "toggle_pause", "Pause", id="pause", tooltip="Pause or resume polling"),
        Binding("i", "cycle_interval", "Interval", id="chart_interval", show=False,
                tooltip="Change the chart's candle interval"),
        Binding("t", "cycle_theme", "Theme", id="cycle_theme", show=False, tooltip="Cycle colour themes"),
        Binding("question_mark", "help", "Keys", id="help", tooltip="Show every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit btx-tui"),
        *[Binding(str(n), f"focus_pane({n - 1})", f"Pane {n}", id=f"pane_{n}", show=False,
                  tooltip=f"Focus the {PANES[n - 1]} pane") for n in range(1, len(PANES) + 1)],
    ]

    def __init__(
        self,
        settings: Settings,
        connection: Connection,
        *,
        client_factory: Callable[[Connection, Settings], BtxClient] | None = None,
        journal_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.connection = connection
        self.symbol = settings.selected_symbol
        self.chart_interval = settings.ui.chart_interval
        self.permissions: frozenset[str] = frozenset()
        self.rules = MarketRules()
        self._client_factory = client_factory or default_client
        self.client: BtxClient | None = None
        self.feeds = FeedRunner(self)
        self.router = FeedRouter(self)
        self.started = False
        self._pending: dict[str, str] = {}
        self._journal_path = journal_path
        self.journal: SqliteJournal | None = None
        """The order intent journal (None without a ``journal_path``: intents live in memory only)."""
        self._connection_state = "connecting"
        self._forms: list[str] = []
        self.type_ahead = TypeAhead(self)
        """Routes keys typed quickly one after another, each after the previous one settled."""
        self.theme = settings.ui.theme if settings.ui.theme in self.available_themes else "textual-dark"
        if settings.keys:
            self.set_keymap(dict(settings.keys))

    # -- lifecycle ---------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        self.dashboard = DashboardScreen(list(self.settings.ui.watchlist), self.status_info())
        return self.dashboard

    def _fatal_error(self) -> None:
        """Print a crash without local variables, scrubbed of secrets.

        Textual's default crash report shows every frame's locals, which would put the API
        key (and anything else in scope) on the terminal and in scrollback.
        """
        import traceback

        from rich.text import Text

        from btx_tui.logging_setup import redactor

        self.bell()
        report = redactor().redact(traceback.format_exc())
        log.error("btx-tui crashed:\n%s", report)
        self._exit_renderables.append(Text(report))
        self._close_messages_no_wait()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and self.type_ahead.hold(event):
            return  # posted again once the keys before it have taken effect
        await super().on_event(event)

    async def on_ready(self) -> None:
        self.client = self._client_factory(self.connection, self.settings)
        if self._journal_path is not None:
            self.journal = SqliteJournal(self._journal_path, fingerprint=self._journal_path.stem)
            self.show_pending()  # intents left unresolved by an earlier run: "unknown — checking"
        self.dashboard.set_titles(self.symbol)
        self.dashboard.watchlist.select_symbol(self.symbol)
        self.set_interval(1.0, self.refresh_status)
        self.run_worker(self._start_session(), name="session", group="session", exit_on_error=False)

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.journal is not None:
            self.journal.close()

    async def _start_session(self) -> None:
        """Learn the markets and the key's permissions, then start every feed.

        If the exchange is unreachable the feeds start anyway (they retry with backoff and
        the status bar says "down"); exchangeInfo is fetched again until it succeeds.
        """
        assert self.client is not None
        self._register_feeds()
        for feed in self.feeds.feeds.values():
            self.run_worker(self.feeds.run(feed), name=f"feed:{feed.name}", group=f"feed:{feed.name}",
                            exit_on_error=False)
        self.started = True
        self.start_reconcile()
        delay = 0.5
        while self.rules.info is None:
            try:
                info, permissions = await asyncio.gather(self.client.exchange_info(),
                                                         self._load_permissions())
                self.rules = MarketRules(info)
                self.permissions = permissions
                self.router.rules_loaded()
            except Exception as exc:  # noqa: BLE001 - keep trying; the status bar shows it
                log.warning("session start failed: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15)
        self.refresh_status()

    async def _load_permissions(self) -> frozenset[str]:
        assert self.client is not None
        if not self.connection.api_key:
            return frozenset()
        try:
            r = await self.client.api_restrictions()
        except Exception:  # noqa: BLE001 - not every exchange has this endpoint
            account = await self.client.account(omit_zero_balances=True)
            return frozenset({"READ"} | ({"TRADE"} if account.can_trade else set())
                             | ({"WITHDRAW"} if account.can_withdraw else set()))
        return frozenset({"READ"} | ({"TRADE"} if r.enable_spot_and_margin_trading else set())
                         | ({"WITHDRAW"} if r.enable_withdrawals else set()))

    def _register_feeds(self) -> None:
        ui = self.settings.ui
        signed = lambda: bool(self.connection.api_key)  # noqa: E731
        add = self.feeds.add
        add(Feed("tickers", ui.tickers_interval_s, self.router.fetch_tickers))
        add(Feed("book", ui.book_interval_s, self.router.fetch_book))
        add(Feed("trades", ui.trades_interval_s, self.router.fetch_trades))
        add(Feed("klines", ui.klines_interval_s, self.router.fetch_klines))
        add(Feed("account", ui.account_interval_s, self.router.fetch_account, signed))
        add(Feed("prices", ui.prices_interval_s, self.router.fetch_prices))
        add(Feed("orders", ui.orders_interval_s, self.router.fetch_orders, signed))
        add(Feed("history", ui.history_interval_s, self.router.fetch_history, signed))
        for feed in self.feeds.feeds.values():
            feed.timeout_s = self.settings.exchange.timeout_s

    @property
    def ui_live(self) -> bool:
        """False once shutdown began: late snapshots must not touch widgets being torn down."""
        return self.is_running and self.dashboard.is_mounted

    # -- feed messages -----------------------------------------------------------------

    def on_feed_updated(self, message: FeedUpdated) -> None:
        if not self.ui_live:
            return
        self.journal_observe(message)  # first, so the table's pending rows are current
        with self.batch_update():
            self.router.apply(message)
        self._watch_connection()
        self.refresh_status()

    def on_feed_failed(self, message: FeedFailed) -> None:
        if not self.ui_live:
            return
        self.router.mark_stale(message.feed)
        self._watch_connection()
        self.refresh_status()

    def _watch_connection(self) -> None:
        """Reconcile the order journal whenever the exchange answers again after being down."""
        state, _ = connection_state(self.feeds.feeds.values(), self.feeds.paused, self.started)
        previous, self._connection_state = self._connection_state, state
        if previous == "down" and state in ("live", "degraded"):
            log.info("connection recovered: reconciling orders")
            self.start_reconcile()

    def status_info(self) -> StatusInfo:
        state, error = connection_state(self.feeds.feeds.values(), self.feeds.paused, self.started)
        budget = self.client.budget if self.client is not None else None
        return StatusInfo(
            exchange=self.connection.label, paper=self.connection.paper, connection=state,
            last_error=error,
            latency_ms=self.client.last_latency_ms if self.client else None,
            data_age_s=freshest_age_s(self.feeds.feeds.values()),
            weight_used=budget.used if budget else 0,
            weight_limit=budget.limit if budget else 6000,
            paused_for_s=budget.paused_for if budget else 0.0,
            clock_offset_ms=self.client.clock_offset_ms if self.client else None,
            permissions=self.permissions,
        )

    def refresh_status(self) -> None:
        if self.ui_live:
            self._grey_out_silent()
            self._watch_connection()
            self.dashboard.status_bar.show(self.status_info())

    def _grey_out_silent(self) -> None:
        """Mark the panes of feeds that neither answer nor fail (a hung exchange) as stale.

        A failing feed is marked by its FeedFailed; a silent one only by the clock. The next
        answer un-marks it (:meth:`FeedRouter.apply`).
        """
        if self.feeds.paused:
            return
        for feed in overdue_feeds(self.feeds.feeds.values()):
            if feed.name not in self.router.stale:
                self.router.mark_stale(feed.name)

    # -- selection ---------------------------------------------------------------------

    def select_market(self, symbol: str) -> None:
        """Make ``symbol`` the market of the book, chart, trades and order form."""
        if symbol == self.symbol:
            return
        self.symbol = symbol
        self.dashboard.set_titles(symbol)
        self.dashboard.watchlist.select_symbol(symbol)
        self.router.market_changed()
        self.feeds.wake("book", "trades", "klines", "history")

    def on_watchlist_market_selected(self, message: Any) -> None:
        self.select_market(message.symbol)

    def on_order_book_view_grouping_changed(self, message: Any) -> None:
        self.router.regroup()

    # -- actions -----------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.feeds.wake_all()
        self.notify("Refreshing every feed now.", timeout=2)

    def action_toggle_pause(self) -> None:
        if self.feeds.paused:
            self.feeds.resume()
            self.notify("Polling resumed.", timeout=2)
        else:
            self.feeds.pause()
            self.notify("Polling paused: data on screen is no longer updated. Press p to resume.", timeout=4)
        self.refresh_status()

    def action_cycle_theme(self) -> None:
        themes = [t for t in THEMES if t in self.available_themes]
        current = themes.index(self.theme) if self.theme in themes else -1
        self.theme = themes[(current + 1) % len(themes)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_cycle_interval(self) -> None:
        idx = INTERVALS.index(self.chart_interval) if self.chart_interval in INTERVALS else 0
        self.chart_interval = INTERVALS[(idx + 1) % len(INTERVALS)]
        self.dashboard.chart.interval = self.chart_interval
        self.dashboard.set_titles(self.symbol)
        self.feeds.wake("klines")

    def action_focus_pane(self, index: int) -> None:
        if self.screen is self.dashboard:
            self.dashboard.focus_pane(index)

    def action_find_symbol(self) -> None:
        symbols = self.rules.symbols or list(self.settings.ui.watchlist)
        self.search_commands(
            [(s, (lambda s=s: self.select_market(s)), self._symbol_help(s)) for s in symbols],
            placeholder="Jump to market…",
        )

    def _symbol_help(self, symbol: str) -> str:
        info = self.rules.symbol(symbol)
        return f"{info.base_asset} / {info.quote_asset}" if info else ""

    def action_help(self) -> None:
        from btx_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if "TRADE" in self.permissions:
            yield SystemCommand("Buy", f"Buy {self.symbol}", self.action_buy)
            yield SystemCommand("Sell", f"Sell {self.symbol}", self.action_sell)
            yield SystemCommand("Cancel all", f"Cancel all open orders of {self.symbol}", self.action_cancel_all)
        if "WITHDRAW" in self.permissions:
            yield SystemCommand("Withdraw", "Withdraw funds", self.action_withdraw)
        yield SystemCommand("Refresh", "Poll every feed now", self.action_refresh)
        yield SystemCommand("Pause / resume polling", "Stop or restart every feed", self.action_toggle_pause)
        for symbol in self.settings.ui.watchlist:
            if symbol != self.symbol:
                yield SystemCommand(f"Market {symbol}", f"Show {symbol}", lambda s=symbol: self.select_market(s))

    def ring_bell(self) -> None:
        if self.settings.ui.bell_on_fill:
            self.bell()


def default_client(connection: Connection, settings: Settings) -> BtxClient:
    """The service-layer client for ``connection`` (tests and benches wrap or replace it)."""
    return BtxClient(
        connection.base_url, connection.api_key, connection.api_secret,
        recv_window_ms=settings.exchange.recv_window_ms, timeout_s=settings.exchange.timeout_s,
        proxy=str(settings.exchange.proxy) if settings.exchange.proxy else None, ca_bundle=settings.exchange.ca_bundle,
        trust_env=not connection.paper,  # the bundled exchange is ours, on loopback: never via a proxy
    )

