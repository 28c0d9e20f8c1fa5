"""BtxApp: the dashboard application — bindings, session lifecycle, and where messages land.

The app is where the parts are wired together: it owns the service-layer client, the polling
feeds (:mod:`~btx_tui.tui.feeds`), the state store (:mod:`~btx_tui.tui.state`, the only writer
of each fact) and the trading actions (:mod:`~btx_tui.tui.trading`, an object, not a mixin).
Every typed message lands in one handler here that hands it to the store, then to whoever must
act on it (fill lookups, notifications, reconciliation). Widgets never see the app: the
dashboard is told of changes by the store's signals.

Every binding has an id so users can remap it via ``[keys]`` in the config
(``App.set_keymap``), and a description for the footer and the help screen. Bindings the
key's permissions forbid are disabled through :meth:`BtxApp.check_action` (the footer greys
them) and still say why when pressed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from btx_tui.api.client import BtxClient
from btx_tui.api.journal import SqliteJournal
from btx_tui.backoff import Backoff
from btx_tui.config import Settings
from btx_tui.tui.connection_health import Connection, connection_state, freshest_age_s, overdue_feeds
from btx_tui.tui.exporting import ExportFailed, Exporter, ExportWritten
from btx_tui.tui.feeds import FeedRunner
from btx_tui.tui.fetchers import Fetchers
from btx_tui.tui.messages import (
    AccountFetched, BalancesStreamed, DepthFetched, FeedFailed, FillHistoryLoaded, FillsFound, HealthChecked, HistoryFetched, IntervalChosen,
    JournalChanged, KlinesFetched, MarketSelected, MarketsLoaded, OpenOrdersFetched, OrderAmended, OrderChangeConfirmed,
    OrderConfirmed, OrderListConfirmed, OrderListPlaced, OrderNotSent, OrderPlaced, OrderReplaced, OrdersCanceled, OrderStreamed,
    PricesFetched, Reconciled, TickersFetched, TradesFetched, WatchlistChanged,
)
from btx_tui.tui import session_memory
from btx_tui.tui.permissions import NEEDS
from btx_tui.tui.price_alerts import PriceAlerts
from btx_tui.tui.screens.alerts import AlertForm, AlertsScreen, describe
from btx_tui.tui.screens.dashboard import PANES, DashboardScreen
from btx_tui.tui.screens.help import HelpScreen
from btx_tui.tui.state import DashboardState
from btx_tui.tui.stream_feeds import KIND_LABELS, StreamFeeds
from btx_tui.tui.trading import Session, TradingActions
from btx_tui.tui.formatting import fmt_known_price
from btx_tui.tui.typeahead import TypeAhead
from btx_tui.tui.widgets.chart import INTERVALS
from btx_tui.tui.widgets.order_book import GROUPINGS, OrderBookView
from btx_tui.tui.widgets.status_bar import StatusInfo, StreamStatus
from btx_tui.tui.widgets.watchlist import Watchlist

log = logging.getLogger(__name__)

THEMES = ("textual-dark", "nord", "gruvbox", "tokyo-night", "dracula", "catppuccin-mocha",
          "textual-light", "solarized-light")


class BtxApp(App[None]):
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
        Binding("o", "oco", "OCO", id="oco",
                tooltip="Take profit + stop loss around a position in one go (an OCO order list)"),
        Binding("e", "amend_order", "Amend", id="amend_order",
                tooltip="Amend the highlighted order: quantity down keeps priority; a new price replaces it"),
        Binding("c", "cancel_order", "Cancel", id="cancel_order",
                tooltip="Cancel the highlighted open order (a list leg: the whole list), after a confirmation"),
        Binding("C", "cancel_all", "Cancel all", id="cancel_all",
                tooltip="Cancel every open order of the selected market (after a confirmation)"),
        Binding("slash", "find_symbol", "Market", id="find_symbol", tooltip="Jump to a market by fuzzy search"),
        Binding("w", "withdraw", "Withdraw", id="withdraw", tooltip="Withdraw funds and see withdrawal history"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Poll every feed now"),
        Binding("p", "toggle_pause", "Pause", id="pause", tooltip="Pause or resume polling"),
        Binding("i", "cycle_interval", "Interval", id="chart_interval", show=False,
                tooltip="Change the chart's candle interval"),
        Binding("d", "toggle_depth", "Depth", id="toggle_depth", show=False,
                tooltip="Switch the chart between candles and the book's cumulative depth"),
        Binding("plus", "watch_add", "Watch", id="watch_add", show=False,
                tooltip="Add the selected market (find one with /) to the watchlist"),
        Binding("minus", "watch_remove", "Unwatch", id="watch_remove", show=False,
                tooltip="Remove the highlighted market from the watchlist"),
        Binding("x", "export", "Export", id="export", show=False,
                tooltip="Write the selected market's fills and order history as CSV files"),
        Binding("a", "alert_add", "Alert", id="alert_add", show=False,
                tooltip="Set a price alert on the selected market (above, below, crossing, % move)"),
        Binding("A", "alerts", "Alerts", id="alerts", show=False,
                tooltip="List the price alerts (d removes the highlighted one)"),
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
        memory_path: Path | None = None,
        explicit: Collection[str] = (),
        export_dir: Path | None = None,
        alerts_dir: Path | None = None,
    ) -> None:
        """
        Args:
            export_dir: where ``x`` writes CSV files (default: the current directory).
            alerts_dir: the data dir keeping the price alerts' file (None: alerts are off).
            memory_path: the file remembering the trader's choices between runs (None: forget them).
            explicit: dotted config keys the trader set (file, environment, flag): they win over
                what is remembered (see :mod:`~btx_tui.tui.session_memory`).
        """
        super().__init__()
        self._memory_path = memory_path
        remembered = session_memory.load(memory_path) if memory_path else session_memory.Remembered()
        settings = session_memory.with_remembered(settings, remembered, explicit)
        self._grouping_at_start = remembered.book_grouping
        self.settings = settings
        self.connection = connection
        self._client_factory = client_factory or default_client
        self.client: BtxClient | None = None
        self._journal_path = journal_path
        self.journal: SqliteJournal | None = None
        """The order intent journal (None without a ``journal_path``: intents live in memory only)."""
        self.state = DashboardState(self, symbol=settings.selected_symbol, chart_interval=settings.ui.chart_interval,
                                    watchlist=tuple(settings.ui.watchlist), journal_pending=self._journal_pending)
        """The dashboard's facts; :meth:`DashboardState.apply` is their only writer."""
        self.feeds = FeedRunner(self)
        self.fetchers = Fetchers(lambda: self.client, self.state, lambda: self.journal)
        self.streams: StreamFeeds | None = None
        """The stream connections (None with ``[exchange] streams = false``: everything polls)."""
        self.trading = TradingActions(self, Session(
            connection=connection, state=self.state, feeds=self.feeds, client=lambda: self.client,
            journal=lambda: self.journal, selected_order=lambda: self.dashboard.open_orders.selected,
            bell_on_fill=settings.ui.bell_on_fill))
        """Buy, sell, cancel, withdraw: the bindings below delegate to it."""
        self.exporter = Exporter(self, lambda: self.client, export_dir or Path.cwd(), settings.ui.zone)
        """``x``: the selected market's fills and orders as CSV."""
        self.price_alerts = PriceAlerts(self, self.state, alerts_dir, bell=settings.ui.bell_on_fill)
        """``a`` / ``A``: price alerts, checked against every price the feeds bring."""
        self.started = False
        self._connection_state = "connecting"
        self.type_ahead = TypeAhead(self)
        """Routes keys typed quickly one after another, each after the previous one settled."""
        self.theme = settings.ui.theme if settings.ui.theme in self.available_themes else "textual-dark"
        if settings.keys:
            self.set_keymap(dict(settings.keys))

    def _journal_pending(self) -> dict[str, str]:
        return {e.client_order_id: e.description for e in self.journal.pending()} if self.journal else {}

    # -- lifecycle ---------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        self.dashboard = DashboardScreen(self.state, list(self.state.watchlist), self.status_info,
                                         zone=self.settings.ui.zone)
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
        if self._grouping_at_start in GROUPINGS:
            self.dashboard.book.grouping = GROUPINGS.index(self._grouping_at_start)
        self.theme_changed_signal.subscribe(self, lambda _: self.remember())
        self.client = self._client_factory(self.connection, self.settings)
        if self._journal_path is not None:
            self.journal = SqliteJournal(self._journal_path, fingerprint=self._journal_path.stem)
            self.post_message(JournalChanged())  # intents an earlier run left unresolved: "unknown — checking"
        self.set_interval(1.0, self.check_health)
        if self.price_alerts.book is None and alerts_file_damaged(self.price_alerts.problem):
            self.notify(self.price_alerts.problem, title="Alerts off", severity="warning", timeout=15)
        self.run_worker(self._start_session(), name="session", group="session", exit_on_error=False)

    async def on_unmount(self) -> None:
        if self.streams is not None:
            await self.streams.aclose()
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
        ui = self.settings.ui
        if self.settings.exchange.streams is not False:
            self.streams = StreamFeeds(self, self.client, self.connection, self.state, self.feeds,
                                       lambda: self.journal, lambda: self.state.watchlist)
        for feed in self.fetchers.feeds(ui, lambda: bool(self.connection.api_key), self.settings.exchange.timeout_s):
            if self.streams is not None:
                feed.standby = lambda name=feed.name, streams=self.streams: streams.live(name)
            self.feeds.add(feed)
            self.run_worker(self.feeds.run(feed), name=f"feed:{feed.name}", group=f"feed:{feed.name}",
                            exit_on_error=False)
        self.started = True
        if self.streams is not None:
            self.run_worker(self.streams.start(), name="streams", group="streams", exit_on_error=False)
        self.trading.start_reconcile()
        backoff = Backoff(first_s=0.5, cap_s=15.0)
        attempt = 0
        while True:
            try:
                info, permissions = await asyncio.gather(self.client.exchange_info(), self._load_permissions())
            except Exception as exc:  # noqa: BLE001 - keep trying; the status bar shows it
                attempt += 1
                log.warning("session start failed: %s", exc)
                await asyncio.sleep(backoff.delay(attempt))
            else:
                self.post_message(MarketsLoaded(info, permissions))
                return

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

    @property
    def ui_live(self) -> bool:
        """False once shutdown began: late messages must not touch widgets being torn down."""
        return self.is_running and self.dashboard.is_mounted

    # -- facts: every message goes to the store first, then to whoever acts on it -----------

    def _apply(self, message: Any) -> bool:
        if not self.ui_live:
            return False
        with self.batch_update():
            self.state.apply(message)
        return True

    def on_markets_loaded(self, message: MarketsLoaded) -> None:
        if self._apply(message):
            self.refresh_bindings()  # the permissions decide which trading keys are enabled
            self.check_health()
            if self.connection.api_key and self.state.pnl_fills is None:
                self.run_worker(self._load_fill_history(), name="fill-history", group="fill-history",
                                exclusive=True, exit_on_error=False)

    async def _load_fill_history(self) -> None:
        """The P&L's base: the fill history, once (retried with backoff while the exchange fails)."""
        backoff = Backoff(first_s=1.0, cap_s=15.0)
        attempt = 0
        while True:
            try:
                message = await self.fetchers.fill_history()
            except Exception as exc:  # noqa: BLE001 - keep trying; the positions say "loading"
                attempt += 1
                log.warning("fill history failed: %s", exc)
                await asyncio.sleep(backoff.delay(attempt))
            else:
                self.post_message(message)
                return

    def on_fill_history_loaded(self, message: FillHistoryLoaded) -> None:
        self._apply(message)

    def on_tickers_fetched(self, message: TickersFetched) -> None:
        if self._fetched(message):
            self.price_alerts.check({t.symbol: t.last_price for t in message.tickers if t.last_price})

    def on_depth_fetched(self, message: DepthFetched) -> None:
        self._fetched(message)

    def on_trades_fetched(self, message: TradesFetched) -> None:
        self._fetched(message)

    def on_klines_fetched(self, message: KlinesFetched) -> None:
        self._fetched(message)

    def on_prices_fetched(self, message: PricesFetched) -> None:
        if self._fetched(message):
            self.price_alerts.check(message.prices)

    def on_history_fetched(self, message: HistoryFetched) -> None:
        self._fetched(message)

    def on_account_fetched(self, message: AccountFetched) -> None:
        previous = self.state.account
        if self._fetched(message) and previous is not None and previous.balances != message.account.balances:
            # Something filled, or an order came or went (maybe from elsewhere): look now.
            self.feeds.wake("orders", "history")

    def on_open_orders_fetched(self, message: OpenOrdersFetched) -> None:
        before = self.state.open_orders
        if self._fetched(message):
            self.trading.check_fills(before, self.state.open_orders)

    def on_order_streamed(self, message: OrderStreamed) -> None:
        before = self.state.open_orders
        if self._fetched(message):
            self.trading.check_fills(before, self.state.open_orders)

    def on_balances_streamed(self, message: BalancesStreamed) -> None:
        if self._fetched(message):
            self.feeds.wake("history")

    def _fetched(self, message: Any) -> bool:
        if not self._apply(message):
            return False
        self.check_health()
        return True

    def on_feed_failed(self, message: FeedFailed) -> None:
        if self._apply(message):
            self.check_health()

    def check_health(self) -> None:
        """Judge the connection from the feeds (every second, and on every answer or failure).

        A failing feed is marked stale by its FeedFailed; a silent one (a hung exchange) only by
        the clock, here. When the exchange answers again after being down, the order journal
        is reconciled.
        """
        if not self.ui_live:
            return
        feeds = self.feeds.feeds.values()
        state, error = connection_state(feeds, self.feeds.paused, self.started)
        overdue = frozenset() if self.feeds.paused else frozenset(f.name for f in overdue_feeds(feeds))
        self.state.apply(HealthChecked(state, error, overdue))
        previous, self._connection_state = self._connection_state, state
        if previous == "down" and state in ("live", "degraded"):
            log.info("connection recovered: reconciling orders")
            self.trading.start_reconcile()

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
            permissions=self.state.permissions,
            session_pnl=self.state.session_pnl,
            streams=self._stream_status(),
        )

    def _stream_status(self) -> tuple[StreamStatus, ...] | None:
        """How each kind of data arrives now (None: streams are off, everything polls)."""
        if self.streams is None:
            return None
        return tuple(StreamStatus(KIND_LABELS[kind], h.live, h.lag_ms, h.reconnects, h.reason)
                     for kind, h in self.streams.health().items() if kind in KIND_LABELS)

    # -- trading events ------------------------------------------------------------------

    def on_order_confirmed(self, message: OrderConfirmed) -> None:
        self.trading.submit_order(message.request)

    def on_order_placed(self, message: OrderPlaced) -> None:
        if self._apply(message):
            self.trading.placed(message)

    def on_order_not_sent(self, message: OrderNotSent) -> None:
        if self._apply(message):
            self.trading.not_sent(message)

    def on_order_list_confirmed(self, message: OrderListConfirmed) -> None:
        self.trading.submit_order_list(message.request)

    def on_order_list_placed(self, message: OrderListPlaced) -> None:
        if self._apply(message):
            self.trading.list_placed(message)

    def on_order_change_confirmed(self, message: OrderChangeConfirmed) -> None:
        self.trading.submit_change(message.request)

    def on_order_amended(self, message: OrderAmended) -> None:
        if self._apply(message):
            self.trading.amended(message)

    def on_order_replaced(self, message: OrderReplaced) -> None:
        if self._apply(message):
            self.trading.replaced(message)

    def on_orders_canceled(self, message: OrdersCanceled) -> None:
        if self._apply(message):
            self.trading.canceled(message)

    def on_fills_found(self, message: FillsFound) -> None:
        if self._apply(message):
            self.trading.announce_fills(message.trades)

    def on_journal_changed(self, message: JournalChanged) -> None:
        self._apply(message)

    def on_reconciled(self, message: Reconciled) -> None:
        if self._apply(message):
            self.trading.reconciled(message)

    # -- selection ---------------------------------------------------------------------

    def select_market(self, symbol: str) -> None:
        """Make ``symbol`` the market of the book, chart, trades and order form."""
        if symbol == self.state.symbol:
            return
        self.post_message(MarketSelected(symbol))

    def on_market_selected(self, message: MarketSelected) -> None:
        if self._apply(message):
            if self.streams is not None:
                self.streams.follow()
            self.feeds.wake("book", "trades", "klines", "history")
            self.remember()

    def on_watchlist_changed(self, message: WatchlistChanged) -> None:
        if self._apply(message):
            if self.streams is not None:
                self.streams.watch()  # one !miniTicker@arr follows the store's watchlist
            self.feeds.wake("tickers")
            self.remember()

    def on_order_book_view_grouping_changed(self, message: OrderBookView.GroupingChanged) -> None:
        self.remember()

    def remember(self) -> None:
        """Write the trader's current choices to the session memory (when the app has one)."""
        if self._memory_path is None or not self.ui_live:
            return
        session_memory.save(self._memory_path, session_memory.Remembered(
            theme=self.theme, chart_interval=self.state.chart_interval,
            book_grouping=self.dashboard.book.group_multiple, symbol=self.state.symbol,
            watchlist=self.state.watchlist))

    def on_watchlist_row_chosen(self, message: Watchlist.RowChosen) -> None:
        self.select_market(message.symbol)

    def on_interval_chosen(self, message: IntervalChosen) -> None:
        if self._apply(message):
            if self.streams is not None:
                self.streams.follow()
            self.feeds.wake("klines")
            self.remember()

    # -- actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Trading keys the key's permissions forbid (or that wait for the markets) are disabled:
        None shows them greyed out in the footer. Pressing one still says why (:meth:`run_action`)."""
        if action in NEEDS and self.trading.refusal(action) is not None:
            return None
        return True

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        if await super().run_action(action, default_namespace, namespaces):
            return True
        name = action.removeprefix("app.") if isinstance(action, str) else ""
        if name in NEEDS and default_namespace in (None, self):
            return self.trading.explain(name)  # a disabled trading key: say why
        return False

    def action_buy(self) -> None:
        self.trading.open_order_form("BUY")

    def action_sell(self) -> None:
        self.trading.open_order_form("SELL")

    def action_oco(self) -> None:
        self.trading.open_oco_form()

    def action_amend_order(self) -> None:
        self.trading.open_amend_form()

    def action_cancel_order(self) -> None:
        self.trading.cancel_order()

    def action_cancel_all(self) -> None:
        self.trading.cancel_all()

    def action_withdraw(self) -> None:
        self.trading.withdraw()

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
        self.check_health()

    def action_cycle_theme(self) -> None:
        themes = [t for t in THEMES if t in self.available_themes]
        current = themes.index(self.theme) if self.theme in themes else -1
        self.theme = themes[(current + 1) % len(themes)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_cycle_interval(self) -> None:
        current = self.state.chart_interval
        idx = INTERVALS.index(current) if current in INTERVALS else 0
        self.post_message(IntervalChosen(INTERVALS[(idx + 1) % len(INTERVALS)]))

    def action_toggle_depth(self) -> None:
        if self.screen is self.dashboard:
            self.dashboard.toggle_depth()

    def action_export(self) -> None:
        if not self.connection.api_key:
            self.notify("Export needs an API key.", severity="warning", timeout=4)
            return
        self.notify(f"Exporting {self.state.symbol} fills and orders…", timeout=2)
        self.exporter.start(self.state.symbol)

    def on_export_written(self, message: ExportWritten) -> None:
        lines = "\n".join(f"{path} ({rows} row{'s' if rows != 1 else ''})" for path, rows in message.files)
        if message.download:
            lines = f"{message.download} holds\n{lines}"
        self.notify(lines, title="Sent to your browser" if message.download else "Exported", timeout=10)

    def on_export_failed(self, message: ExportFailed) -> None:
        self.notify(message.reason, title="Export failed", severity="error", timeout=8)

    def action_alert_add(self) -> None:
        alerts = self.price_alerts
        if alerts.book is None:
            self.notify(alerts.problem, severity="warning", timeout=5)
            return
        symbol = self.state.symbol
        last = alerts.last_price(symbol)
        shown = fmt_known_price(last, alerts.tick(symbol))

        def saved(alert: Any) -> None:
            if alert is not None:
                self.notify(f"Alert set: {describe(alert, alerts.tick(alert.symbol))}", timeout=4)
        self.push_screen(AlertForm(symbol, shown, alerts), saved)

    def action_alerts(self) -> None:
        if self.price_alerts.book is None:
            self.notify(self.price_alerts.problem, severity="warning", timeout=5)
            return
        self.push_screen(AlertsScreen(self.price_alerts, self.price_alerts.tick))

    def action_watch_add(self) -> None:
        """Add the selected market (found with ``/``) to the watchlist."""
        symbol = self.state.symbol
        if symbol in self.state.watchlist:
            self.notify(f"{symbol} is already in the watchlist.", timeout=2)
            return
        self.post_message(WatchlistChanged((*self.state.watchlist, symbol)))
        self.notify(f"{symbol} added to the watchlist.", timeout=2)

    def action_watch_remove(self) -> None:
        """Remove the market highlighted in the watchlist (never the last one)."""
        symbol = self.dashboard.watchlist.highlighted
        if symbol is None:
            return
        if len(self.state.watchlist) <= 1:
            self.notify("The watchlist keeps at least one market.", severity="warning", timeout=3)
            return
        self.post_message(WatchlistChanged(tuple(s for s in self.state.watchlist if s != symbol)))
        self.notify(f"{symbol} removed from the watchlist.", timeout=2)

    def action_focus_pane(self, index: int) -> None:
        if self.screen is self.dashboard:
            self.dashboard.focus_pane(index)

    def action_find_symbol(self) -> None:
        symbols = self.state.rules.symbols or list(self.state.watchlist)
        self.search_commands(
            [(s, (lambda s=s: self.select_market(s)), self._symbol_help(s)) for s in symbols],
            placeholder="Jump to market…",
        )

    def _symbol_help(self, symbol: str) -> str:
        info = self.state.rules.symbol(symbol)
        return f"{info.base_asset} / {info.quote_asset}" if info else ""

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.state.permissions))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        symbol, permissions = self.state.symbol, self.state.permissions
        if "TRADE" in permissions:
            yield SystemCommand("Buy", f"Buy {symbol}", self.action_buy)
            yield SystemCommand("Sell", f"Sell {symbol}", self.action_sell)
            yield SystemCommand("OCO (take profit + stop loss)",
                                f"Protect a {symbol} position: take-profit and stop-loss in one go", self.action_oco)
            yield SystemCommand("Amend order", "Amend the highlighted open order", self.action_amend_order)
            yield SystemCommand("Cancel all", f"Cancel all open orders of {symbol}", self.action_cancel_all)
        if "WITHDRAW" in permissions:
            yield SystemCommand("Withdraw", "Withdraw funds", self.action_withdraw)
        yield SystemCommand("Refresh", "Poll every feed now", self.action_refresh)
        yield SystemCommand("Pause / resume polling", "Stop or restart every feed", self.action_toggle_pause)
        for other in self.state.watchlist:
            if other != symbol:
                yield SystemCommand(f"Market {other}", f"Show {other}", lambda s=other: self.select_market(s))


def alerts_file_damaged(problem: str) -> bool:
    """Whether alerts are off because their file could not be read (not merely unconfigured)."""
    return bool(problem) and "alerts file" in problem


def default_client(connection: Connection, settings: Settings) -> BtxClient:
    """The service-layer client for ``connection`` (tests and benches wrap or replace it)."""
    return BtxClient(
        connection.base_url, connection.api_key, connection.api_secret,
        recv_window_ms=settings.exchange.recv_window_ms, timeout_s=settings.exchange.timeout_s,
        proxy=str(settings.exchange.proxy) if settings.exchange.proxy else None, ca_bundle=settings.exchange.ca_bundle,
        trust_env=not connection.paper,  # the bundled exchange is ours, on loopback: never via a proxy
    )

