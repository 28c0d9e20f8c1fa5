"""Withdraw funds: a checked form, a typed confirmation, and the live withdrawal history.

Money leaving the exchange cannot be called back, so the screen is strict where an order
form may be lenient: every problem (bad address, garbage number, below the minimum,
above the maximum, more than the free balance) is shown next to its field before anything
can be sent, and the final send needs the amount and coin *typed* — a stray Enter cannot
withdraw. A request is named by a ``withdrawOrderId`` generated before it is sent and is
never resent: when the answer is lost the trader is told the outcome is unknown and the
history (refreshed at once, then every few seconds) shows whether it arrived.

The coroutines that talk to the exchange (the history poll, the send) and the messages
they post back live in :mod:`btx_tui.tui.screens.withdraw_worker`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static, TabbedContent, TabPane

from btx_tui.api.models_trading import CoinConfig, NetworkConfig, Withdrawal
from btx_tui.tui.screens.withdraw_confirm import ConfirmWithdrawScreen
from btx_tui.tui.screens.withdraw_worker import (
    WithdrawalSent, WithdrawalsFailed, WithdrawalsFetched, poll_history, send_withdrawal,
)
from btx_tui.tui.connection_health import short_error
from btx_tui.tui.widgets.withdrawals import WithdrawalsTable, plain, shorten
from btx_tui.tui.withdraw_checks import HISTORY_INTERVAL_S, Draft, check, max_amount, new_withdraw_order_id, show


class WithdrawScreen(ModalScreen[None]):
    """The withdraw form and the withdrawal history, as two tabs of one modal.

    The history (and each coin's free balance) is polled by one long-lived worker while the
    screen is open; a send runs in a worker owned by the *app*, so closing the screen never
    cancels a request already on its way.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="withdraw_close",
                tooltip="Close the withdraw screen (a withdrawal being sent still finishes)"),
        Binding("ctrl+s", "review", "Review & send", id="withdraw_review",
                tooltip="Check the withdrawal and open the typed confirmation"),
        Binding("ctrl+o", "max", "Max", id="withdraw_max",
                tooltip="Fill in the most you can withdraw: free balance minus the network fee"),
        Binding("ctrl+t", "switch_tab", "Form/History", id="withdraw_switch_tab",
                tooltip="Switch between the withdraw form and the withdrawal history"),
        Binding("ctrl+r", "refresh_history", "Refresh", id="withdraw_refresh",
                tooltip="Fetch the withdrawal history and balances now"),
    ]

    DEFAULT_CSS = """
    WithdrawScreen { align: center middle; }
    WithdrawScreen #wd-box {
        width: 108; max-width: 100%; height: 33; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    WithdrawScreen #wd-title { text-style: bold; width: 1fr; }
    WithdrawScreen #wd-tabs, WithdrawScreen TabPane { height: 1fr; }
    WithdrawScreen #wd-form { height: 1fr; }
    WithdrawScreen .row { height: auto; }
    WithdrawScreen .lbl { width: 10; padding-top: 1; }
    WithdrawScreen .row Select, WithdrawScreen .row Input { width: 1fr; }
    WithdrawScreen #wd-max { min-width: 9; width: 9; }
    WithdrawScreen .problem { color: $error; padding-left: 10; height: auto; }
    WithdrawScreen .hint { color: $text-muted; padding-left: 10; height: auto; }
    WithdrawScreen #wd-summary { padding: 0 1; border: round $primary; height: auto; }
    WithdrawScreen #wd-buttons { height: auto; align-horizontal: right; }
    WithdrawScreen #wd-buttons Button { margin-left: 2; }
    WithdrawScreen #wd-history-status { color: $text-muted; height: auto; }
    WithdrawScreen #wd-history-status.-error { color: $error; }
    WithdrawScreen #wd-table { height: 1fr; }
    """

    def __init__(self, *, client: Callable[[], Any], on_sent: Callable[[], None] = lambda: None,
                 interval_s: float = HISTORY_INTERVAL_S) -> None:
        """
        Args:
            client: returns the service-layer client (None while not connected).
            on_sent: called once a send's outcome is known (the app refreshes the balances).
            interval_s: seconds between two history polls.
        """
        super().__init__()
        self.client = client
        self.on_sent = on_sent
        self.interval_s = interval_s
        self.coins: dict[str, CoinConfig] = {}
        """Withdrawable coins by name, from the latest ``capital/config/getall``."""
        self.draft = check(None, None, "", "", "")
        self.unresolved: dict[str, str] = {}
        """withdrawOrderId → description of sends whose outcome is unknown, until seen in the history."""
        self.last_update: datetime | None = None
        self.sent: list[str] = []
        """withdrawOrderIds of the requests sent from this screen, oldest first."""
        self._networks_for: str | None = None
        self.wake = asyncio.Event()
        """Set to poll at once (after a send's answer, on ctrl+r) instead of waiting out the interval."""
        self._answered: set[str] = set()
        """Worker names of sends whose outcome has arrived."""

    def compose(self) -> ComposeResult:
        with Vertical(id="wd-box"):
            yield Label("Withdraw funds", id="wd-title")
            with TabbedContent(initial="wd-tab-form", id="wd-tabs"):
                with TabPane("Withdraw", id="wd-tab-form"), VerticalScroll(id="wd-form"):
                    yield Static("Loading coins and networks…", id="wd-load", classes="hint")
                    with Horizontal(classes="row"):
                        yield Label("Coin", classes="lbl")
                        yield Select[str]([], prompt="Choose a coin", id="wd-coin")
                    with Horizontal(classes="row"):
                        yield Label("Network", classes="lbl")
                        yield Select[str]([], prompt="Choose a network", id="wd-network")
                    with Horizontal(classes="row"):
                        yield Label("Address", classes="lbl")
                        yield Input(placeholder="destination address", id="wd-address")
                    yield Static("", id="wd-address-problem", classes="problem", markup=False)
                    with Horizontal(classes="row", id="wd-tag-row"):
                        yield Label("Memo/tag", classes="lbl")
                        yield Input(placeholder="memo / tag this network requires", id="wd-tag")
                    yield Static("", id="wd-tag-problem", classes="problem", markup=False)
                    with Horizontal(classes="row"):
                        yield Label("Amount", classes="lbl")
                        yield Input(placeholder="amount the recipient receives", id="wd-amount")
                        yield Button("Max", id="wd-max", tooltip="Free balance minus the network fee [ctrl+o]")
                    yield Static("", id="wd-free", classes="hint", markup=False)
                    yield Static("", id="wd-amount-problem", classes="problem", markup=False)
                    yield Static("", id="wd-summary", markup=False)
                    with Horizontal(id="wd-buttons"):
                        yield Button("Close \\[esc]", id="wd-close")
                        yield Button("Review & send \\[ctrl+s]", id="wd-review", variant="warning", disabled=True)
                with TabPane("History", id="wd-tab-history"):
                    yield Static("Loading history…", id="wd-history-status", markup=False)
                    yield WithdrawalsTable(id="wd-table")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#wd-tag-row").display = False
        self.query_one("#wd-coin", Select).focus()
        self._refresh_form()
        self.run_worker(poll_history(self), name="withdraw-history", group="withdraw-history",
                        exclusive=True, exit_on_error=False)

    # -- widgets -----------------------------------------------------------------------------

    @property
    def table(self) -> WithdrawalsTable:
        return self.query_one(WithdrawalsTable)

    def _select(self, which: str) -> Select[str]:
        return self.query_one(f"#wd-{which}", Select)

    def _input(self, which: str) -> Input:
        return self.query_one(f"#wd-{which}", Input)

    def _say(self, widget_id: str, text: str) -> None:
        widget = self.query_one(f"#{widget_id}", Static)
        widget.update(text)
        widget.display = bool(text)

    # -- polling (the loop is withdraw_worker.poll_history) ----------------------------------

    def on_withdrawals_fetched(self, message: WithdrawalsFetched) -> None:
        self.last_update = datetime.now(UTC)
        with self.app.batch_update():
            if message.coins is not None:
                self._apply_coins(message.coins)
            self.table.update_withdrawals(message.history)
            status = self.query_one("#wd-history-status", Static)
            status.remove_class("-error")
            status.update(f"{len(message.history)} withdrawal(s) · updated {self.last_update:%H:%M:%S} UTC · "
                          f"refreshes every {self.interval_s:g} s (ctrl+r: now)")
        self._resolve_unknown(message.history)

    def on_withdrawals_failed(self, message: WithdrawalsFailed) -> None:
        since = f" (last update {self.last_update:%H:%M:%S} UTC)" if self.last_update else ""
        text = f"History not updated: {short_error(message.error)} — retrying in {message.retry_in_s:.0f} s{since}"
        status = self.query_one("#wd-history-status", Static)
        status.add_class("-error")
        status.update(text)
        if not self.coins:
            self._say("wd-load", f"Could not load coins and networks: {short_error(message.error)} — "
                                 f"retrying in {message.retry_in_s:.0f} s")

    def _resolve_unknown(self, history: tuple[Withdrawal, ...]) -> None:
        for wid, what in list(self.unresolved.items()):
            found = next((w for w in history if w.withdraw_order_id == wid), None)
            if found is not None:
                del self.unresolved[wid]
                self.app.notify(f"{what} did reach the exchange: id {found.id}, {self.table.status_of(wid)}.",
                                title="Withdrawal found in history", timeout=10, markup=False)

    # -- the form --------------------------------------------------------------------------------

    def _apply_coins(self, coins: tuple[CoinConfig, ...]) -> None:
        usable = {c.coin: c for c in coins
                  if c.withdraw_all_enable and any(n.withdraw_enable for n in c.network_list)}
        first_load = not self.coins
        changed = list(usable) != list(self.coins)
        self.coins = usable
        if not usable:
            self._say("wd-load", "No coin can be withdrawn from this account.")
            return
        self._say("wd-load", "")
        if changed:
            select = self._select("coin")
            previous = select.selection
            select.set_options([(f"{c.coin}  {c.name}" if c.name and c.name != c.coin else c.coin, c.coin)
                                for c in usable.values()])
            if previous in usable:
                select.value = previous
            elif first_load:
                select.value = next((c.coin for c in usable.values() if c.free > 0), next(iter(usable)))
        self._refresh_form()

    def _networks(self, coin: CoinConfig) -> list[NetworkConfig]:
        return [n for n in coin.network_list if n.withdraw_enable]

    @on(Select.Changed, "#wd-coin")
    def _coin_changed(self, event: Select.Changed) -> None:
        coin = self.coins.get(self._select("coin").selection or "")
        name = coin.coin if coin else None
        if name != self._networks_for:
            self._networks_for = name
            select = self._select("network")
            nets = self._networks(coin) if coin else []
            select.set_options([(f"{n.network} · fee {show(n.withdraw_fee)} {n.coin} · "
                                 f"min {show(n.withdraw_min)} {n.coin}", n.network) for n in nets])
            if nets:
                select.value = next((n.network for n in nets if n.is_default), nets[0].network)
        self._refresh_form()

    @on(Select.Changed, "#wd-network")
    @on(Input.Changed, "#wd-address, #wd-tag, #wd-amount")
    def _field_changed(self, event: Message) -> None:
        self._refresh_form()

    def _current(self) -> tuple[CoinConfig | None, NetworkConfig | None]:
        coin = self.coins.get(self._select("coin").selection or "")
        name = self._select("network").selection
        network = next((n for n in self._networks(coin) if n.network == name), None) if coin else None
        return coin, network

    def _refresh_form(self) -> None:
        """Check the form and show every problem, the balance line and the summary."""
        coin, network = self._current()
        d = self.draft = check(coin, network, self._input("address").value, self._input("tag").value,
                               self._input("amount").value)
        self.query_one("#wd-tag-row").display = bool(network and network.memo_regex)
        self._say("wd-address-problem", f"✗ Address: {d.problems['address']}" if "address" in d.problems else "")
        self._say("wd-tag-problem", f"✗ Memo/tag: {d.problems['tag']}" if "tag" in d.problems else "")
        self._say("wd-amount-problem", f"✗ Amount: {d.problems['amount']}" if "amount" in d.problems else "")
        if coin and network:
            c = coin.coin
            self._say("wd-free", f"Free {show(coin.free)} {c} · fee {show(network.withdraw_fee)} · "
                                 f"min {show(network.withdraw_min)} · max {show(network.withdraw_max)} · "
                                 f"you can send up to {show(max_amount(coin, network))} {c} (ctrl+o)")
        else:
            self._say("wd-free", "")
        self.query_one("#wd-summary", Static).update(self._summary(d))
        review = self.query_one("#wd-review", Button)
        review.disabled = not d.ok or self.sending
        review.label = "Sending…" if self.sending else "Review & send \\[ctrl+s]"

    def _summary(self, d: Draft) -> str:
        c = d.coin.coin if d.coin else ""
        if d.amount is not None and d.network is not None and d.total is not None:
            lines = [f"Amount       {show(d.amount)} {c}",
                     f"Network fee  {show(d.network.withdraw_fee)} {c}",
                     f"Total locked {show(d.total)} {c}  (amount + fee; leaves the account when completed)",
                     f"Recipient    receives {show(d.amount)} {c}"
                     + (f" at {shorten(d.address, 8, 6)}" if d.address and "address" not in d.problems else "")]
        else:
            lines = ["Amount       —", "Network fee  " + (f"{show(d.fee)} {c}" if d.fee is not None else "—"),
                     "Total locked —", "Recipient    —"]
        if d.problems:
            lines.append(f"Fix {len(d.problems)} problem(s) above to continue.")
        elif d.missing:
            lines.append("Still needed: " + ", ".join(d.missing) + ".")
        else:
            lines.append("Ready: ctrl+s to review and confirm.")
        return "\n".join(lines)

    # -- sending -----------------------------------------------------------------------------------

    @property
    def sending(self) -> bool:
        """A withdrawal request is on its way (from this screen or an earlier one).

        A send whose outcome message has arrived counts as done even if its worker has not
        quite finished yet, so the form never stays stuck on "Sending…".
        """
        return any(w.group == "withdraw-send" and not w.is_finished and w.name not in self._answered
                   for w in self.app.workers)

    def action_max(self) -> None:
        coin, network = self._current()
        if coin is None or network is None:
            self.notify("Choose a coin and a network first.", severity="warning", timeout=3)
            return
        amount = self._input("amount")
        amount.value = plain(max_amount(coin, network))
        amount.focus()

    def action_review(self) -> None:
        d = self.draft
        if self.sending:
            self.notify("A withdrawal is being sent; wait for its answer.", severity="warning", timeout=4)
            return
        if not d.ok:
            first = next(iter(d.problems.items()), None)
            text = f"{first[0]}: {first[1]}" if first else "still needed: " + ", ".join(d.missing)
            self.notify(f"Cannot send yet — {text}.", severity="warning", timeout=4, markup=False)
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.send(d)

        self.app.push_screen(ConfirmWithdrawScreen(d), confirmed)

    def send(self, draft: Draft) -> str | None:
        """Send a confirmed withdrawal in an app worker; returns its withdrawOrderId.

        The worker group is exclusive, so this refuses (returns None) while another send is in
        flight: starting one would cancel a request that may already have reached the exchange.
        """
        if self.sending:
            self.notify("A withdrawal is being sent; wait for its answer.", severity="warning", timeout=4)
            return None
        wid = new_withdraw_order_id()
        self.sent.append(wid)
        self.app.run_worker(send_withdrawal(self, draft, wid), name=f"withdraw:{wid}", group="withdraw-send",
                            exclusive=True, exit_on_error=False)
        self._refresh_form()
        return wid

    def on_withdrawal_sent(self, message: WithdrawalSent) -> None:
        o = message.outcome
        self._answered.add(f"withdraw:{o.withdraw_order_id}")
        if o.kind == "unknown":
            self.unresolved[o.withdraw_order_id] = o.what
        if o.kind in ("accepted", "unknown"):
            self._input("amount").value = ""  # a second press must not repeat it
            self.query_one(TabbedContent).active = "wd-tab-history"
            self.table.focus()
        self.wake.set()
        self._refresh_form()

    # -- other actions -------------------------------------------------------------------------------

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        actions = {"wd-max": self.action_max, "wd-review": self.action_review, "wd-close": self.action_close}
        if event.button.id in actions:
            actions[event.button.id]()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_switch_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "wd-tab-history" if tabs.active == "wd-tab-form" else "wd-tab-form"
        if tabs.active == "wd-tab-history":
            self.table.focus()
        else:
            self._input("address").focus()

    def action_refresh_history(self) -> None:
        self.wake.set()
