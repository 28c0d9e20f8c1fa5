"""Order entry: a modal form that shows the exact order before anything is sent.

Why it works this way: a trader must see the rounded price and quantity, the total, the fee
and every filter or balance problem *while typing*, and nothing leaves the machine until a
confirmation that names the order exactly has been answered with y. The form never calls
the exchange: it reads the latest snapshots from the state store it is given, is told of new
ones by the store's signals (while it is on screen), and posts the confirmed
:class:`~btx_tui.api.orders.OrderRequest` as :class:`~btx_tui.tui.messages.OrderConfirmed`;
the app's trading actions send it in a worker. Parsing and pre-flight live in :mod:`btx_tui.tui.widgets.order_preview`;
the ``Choice`` control and the field rows in :mod:`btx_tui.tui.screens.order_form_fields`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import ModalScreen
from textual.signal import Signal
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from btx_tui.api.models_trading import OrderSide, OrderType, TimeInForce
from btx_tui.api.preflight import SymbolRules
from btx_tui.tui.messages import OrderConfirmed
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.order_form_fields import SIZE_HINT, SIZES, Choice, form_layout, shown
from btx_tui.tui.state import DashboardState
from btx_tui.tui.widgets.order_preview import (
    Evaluation, MarketContext, OrderDraft, OrderPreview, confirmation_text, evaluate, fmt_on_grid, quick_size,
)

INPUT_IDS = {"price": "price", "quantity": "quantity", "quote_order_qty": "quote-amount"}
"""Pre-flight field name → id of its Input (and, with ``-error``, of its problem line)."""


class OrderFormScreen(ModalScreen[None]):
    """Buy or sell the selected market: type, price, size, live preview, then confirm."""

    AUTO_FOCUS = "#quantity"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="order_form_close", tooltip="Close the form; nothing is sent"),
        Binding("enter", "review", "Review", id="order_form_review",
                tooltip="Show the order for confirmation (only when it has no problems)"),
        *[Binding(f"f{n},alt+{n}", f"quick_size({pct})", f"{pct}%", id=f"order_form_size_{pct}",
                  tooltip=f"Size the order at {pct}% of the free balance (rounded down to the step)")
          for n, pct in enumerate(SIZES, start=1)],
        Binding("f5", "switch_side", "Buy/Sell", id="order_form_side", tooltip="Switch between buy and sell"),
        Binding("f6", "cycle_type", "Type", id="order_form_type", tooltip="LIMIT → MARKET → LIMIT_MAKER"),
        Binding("f7", "cycle_tif", "TIF", id="order_form_tif", tooltip="Time in force: GTC → IOC → FOK"),
        Binding("f8", "toggle_sizing", "Qty/Amount", id="order_form_sizing",
                tooltip="MARKET BUY: size by quantity or by the amount to spend"),
    ]

    CSS_PATH = "order_form.tcss"

    def __init__(self, state: DashboardState, *, side: str, symbol: str, paper: bool = False) -> None:
        """
        Args:
            state: the store the form reads the market and the account from.
            side: BUY or SELL.
            symbol: the market to trade.
            paper: the bundled paper exchange (the title says so).
        """
        super().__init__()
        self.state = state
        self.paper = paper
        self.side = OrderSide(side)
        self.symbol = symbol
        self.order_type = OrderType.LIMIT
        self.time_in_force = TimeInForce.GTC
        self.by_quote = False
        self.evaluation: Evaluation | None = None
        """The latest evaluation of the form (what the preview shows)."""
        self.context: MarketContext | None = None
        self._prefilled: str | None = None
        self._touched: set[str] = set()
        self._review_attempted = False
        self._rules: SymbolRules | None = None
        self._rules_for: object = None
        self._market_moved = False
        """A store signal arrived and its re-evaluation is scheduled (bursts coalesce into one)."""
        self._seen: tuple[object, ...] = ()
        """:meth:`_market_seen` at the last evaluation."""

    def prepare(self, side: str) -> None:
        """Start a new order on this form, which the app reuses for its market.

        Composing and styling the form's ~50 widgets took ~200 ms, four times the 50 ms a
        key press may take to show it; so the app builds one form per market and calls this
        on every later open: everything back to a fresh LIMIT/GTC order on ``side``.
        """
        self.side = OrderSide(side)
        self.order_type = OrderType.LIMIT
        self.time_in_force = TimeInForce.GTC
        self.by_quote = False
        self.evaluation = None
        self._prefilled = None
        self._touched = set()
        self._review_attempted = False
        if not self.is_mounted:
            return  # first open: on_mount sets everything up
        with self.prevent(Input.Changed):  # clearing is not typing
            for input_id in INPUT_IDS.values():
                self.query_one(f"#{input_id}", Input).value = ""
        self.query_one("#size-note", Static).update(SIZE_HINT)
        base = self.rules.base_asset if self.rules else "base"
        self.query_one("#quantity", Input).placeholder = f"{base} to {self.side.lower()}"
        self._prefill_price()
        self._sync_layout()
        self.recompute()
        self.query_one("#quantity", Input).focus()

    def on_screen_resume(self) -> None:
        """Follow the market while on screen: new book, balances, orders or rules re-evaluate the form.

        What changed while it was covered (by the confirmation) is caught up at once; a form
        just prepared is current already and is not evaluated twice (opening must stay fast).
        """
        for signal in self._signals():
            signal.subscribe(self, self._market_changed)
        seen = self._market_seen()
        if len(seen) != len(self._seen) or any(a is not b for a, b in zip(seen, self._seen, strict=True)):
            self._market_changed(None)

    def on_screen_suspend(self) -> None:
        for signal in self._signals():
            signal.unsubscribe(self)

    def _market_seen(self) -> tuple[object, ...]:
        """Identities of the snapshots the form reads (the store replaces them, never mutates)."""
        s = self.state
        return (s.depth, s.account, s.open_orders, s.prices, s.rules.info)

    def _signals(self) -> tuple[Signal[Any], ...]:
        s = self.state
        return (s.book_changed, s.balances_changed, s.open_orders_changed, s.markets_loaded)

    # -- data ----------------------------------------------------------------------------

    @property
    def rules(self) -> SymbolRules | None:
        """The market's trading rules (rebuilt only when exchangeInfo is fetched again)."""
        info = self.state.rules.info
        if self._rules_for is not info or info is None:
            symbol_info = self.state.rules.symbol(self.symbol)
            self._rules = SymbolRules.from_symbol_info(symbol_info) if symbol_info is not None else None
            self._rules_for = info
        return self._rules

    def market_context(self) -> MarketContext | None:
        """The market and account as the feeds last saw them; None if the market is unknown."""
        rules = self.rules
        if rules is None:
            return None
        state = self.state
        depth, account = state.depth, state.account
        return MarketContext(
            rules=rules,
            best_bid=depth.bids[0].price if depth and depth.bids else None,
            best_ask=depth.asks[0].price if depth and depth.asks else None,
            last_price=state.prices.get(self.symbol),
            free=account.free() if account is not None else None,
            commission_rates=account.commission_rates if account is not None else None,
            open_orders=sum(1 for o in state.open_orders if o.symbol == self.symbol),
        )

    def draft(self) -> OrderDraft:
        """The fields exactly as typed."""
        return OrderDraft(
            side=self.side, type=self.order_type, time_in_force=self.time_in_force,
            price=self.query_one("#price", Input).value,
            quantity=self.query_one("#quantity", Input).value,
            quote_amount=self.query_one("#quote-amount", Input).value,
            by_quote=self.by_quote and bool(self.context and self.context.rules.quote_order_qty_market_allowed),
        )

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        rules = self.rules
        base, quote = (rules.base_asset, rules.quote_asset) if rules else ("base", "quote")
        yield from form_layout(self.side, self.order_type, self.time_in_force, base, quote)
        # No Footer: the keys are on the form itself, and a Footer rebuilds all its bindings on
        # every focus change, which made opening the form several times slower.

    def on_mount(self) -> None:
        rules = self.rules
        if rules is not None and rules.order_types:
            types = self.query_one("#type", Choice)
            for key, button in zip(types.keys, types.query(RadioButton), strict=True):
                button.disabled = key not in rules.order_types
        self._prefill_price()
        self._sync_layout()
        self.recompute()

    # -- state changes ---------------------------------------------------------------------

    def _prefill_price(self, *, follow: bool = True) -> None:
        """Put a price from the book in the price field unless the trader typed one.

        A LIMIT (or STOP-type) order gets the best opposite price — it would trade at once, and
        the preview says "takes liquidity"; a LIMIT_MAKER, which the exchange rejects if it
        would trade, gets the best price on its own side (best bid to buy, best ask to sell).

        With ``follow=False`` only an empty field the trader is not in is filled: a price the
        form chose must not move under the trader's eyes just because the book moved, and a
        field just cleared must not refill under the cursor (its ``Input.Changed``, which marks
        it touched, may still be queued behind the book update that calls this).
        """
        price = self.query_one("#price", Input)
        if not follow and (price.value or "price" in self._touched or price.has_focus):
            return  # an emptied field is being retyped: never fill it under the cursor
        if price.value and price.value != self._prefilled:
            return
        ctx = self.market_context()
        maker = self.order_type is OrderType.LIMIT_MAKER
        best = (ctx.own_best(self.side) if maker else ctx.best(self.side)) if ctx else None
        if ctx is None or best is None:
            return
        self._prefilled = fmt_on_grid(best, ctx.rules.tick_size).replace(",", "")
        if price.value != self._prefilled:
            price.value = self._prefilled

    def _sync_layout(self) -> None:
        """Show only the fields that apply; colour and title the form by side."""
        draft_type, buy = self.order_type, self.side is OrderSide.BUY
        rules = self.rules
        form = self.query_one("#order-form")
        form.set_class(not buy, "-sell")
        paper = " · PAPER" if self.paper else ""
        verb = "BUY" if buy else "SELL"
        self.query_one("#of-title", Static).update(f"{verb} {self.symbol}{paper}")
        self.query_one("#review", Button).variant = "success" if buy else "error"
        self.query_one("#review", Button).label = Content(f"Review {verb} [Enter]")
        quote_ok = bool(rules and rules.quote_order_qty_market_allowed)
        market_buy = draft_type is OrderType.MARKET and buy and quote_ok
        uses_quote = market_buy and self.by_quote
        self.query_one("#row-price").display = draft_type is not OrderType.MARKET
        self.query_one("#row-tif").display = draft_type is OrderType.LIMIT
        self.query_one("#row-sizing").display = market_buy
        self.query_one("#row-quantity").display = not uses_quote
        self.query_one("#row-quote-amount").display = uses_quote
        self.query_one("#side", Choice).choose(self.side)
        self.query_one("#type", Choice).choose(self.order_type)
        self.query_one("#tif", Choice).choose(self.time_in_force)
        self.query_one("#sizing", Choice).choose("quote" if self.by_quote else "qty")
        focused = self.focused
        if focused is not None and not shown(focused):
            self.query_one("#quote-amount" if uses_quote else "#quantity", Input).focus()

    def recompute(self) -> Evaluation | None:
        """Evaluate the form and show the preview and every problem next to its field."""
        self._seen = self._market_seen()
        ctx = self.context = self.market_context()
        if ctx is None:
            self.evaluation = None
            self.query_one("#preview", OrderPreview).update(
                f"{self.symbol} is not listed by this exchange: nothing can be ordered.")
            return None
        draft = self.draft()
        ev = self.evaluation = evaluate(draft, ctx)
        texts = {"price": draft.price, "quantity": draft.quantity, "quote_order_qty": draft.quote_amount}
        for name, input_id in INPUT_IDS.items():
            line = self.query_one(f"#{input_id}-error", Static)
            messages = ev.messages(name)
            quiet = not texts[name].strip() and name not in self._touched and not self._review_attempted
            line.set_class(quiet, "-hint")
            line.update("required" if quiet and messages else "\n".join(f"✗ {m}" for m in messages))
        self.query_one("#preview", OrderPreview).show(ev, ctx)
        return ev

    def _market_changed(self, _: object) -> None:
        """The store changed something the form shows: re-evaluate once the burst is over."""
        if not self._market_moved:
            self._market_moved = True
            self.call_later(self._follow_market)

    def _follow_market(self) -> None:
        """Follow new book and account snapshots (prefill, balances, fees) without typing."""
        self._market_moved = False
        if self.is_mounted:
            self._prefill_price(follow=False)
            self.recompute()

    def _set_side(self, side: OrderSide) -> None:
        if side is self.side:
            return
        self.side = side
        self._prefill_price()
        base = self.context.rules.base_asset if self.context else "base"
        self.query_one("#quantity", Input).placeholder = f"{base} to {side.lower()}"
        self._sync_layout()
        self.recompute()

    # -- events ----------------------------------------------------------------------------

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.has_focus:
            self._touched.add({v: k for k, v in INPUT_IDS.items()}[event.input.id or ""])
        self.query_one("#size-note", Static).update(SIZE_HINT)
        self.recompute()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_review()

    @on(RadioSet.Changed)
    def _chosen(self, event: RadioSet.Changed) -> None:
        choice = event.radio_set
        if not isinstance(choice, Choice):
            return
        value = choice.value
        if choice.id == "side":
            self._set_side(OrderSide(value))
            return
        if choice.id == "type":
            self.order_type = OrderType(value)
            self._prefill_price()  # a form-chosen price moves to the new type's side of the book
        elif choice.id == "tif":
            self.time_in_force = TimeInForce(value)
        elif choice.id == "sizing":
            self.by_quote = value == "quote"
        if self.order_type is not OrderType.MARKET:
            self._prefill_price(follow=False)
        self._sync_layout()
        self.recompute()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id == "close":
            self.action_close()
        elif button_id == "review":
            self.action_review()
        elif button_id.startswith("size-"):
            self.action_quick_size(int(button_id.removeprefix("size-")))

    # -- actions ---------------------------------------------------------------------------

    def action_close(self) -> None:
        """Close without sending anything."""
        self.dismiss(None)

    def action_switch_side(self) -> None:
        self._set_side(OrderSide.SELL if self.side is OrderSide.BUY else OrderSide.BUY)

    def action_cycle_type(self) -> None:
        self.query_one("#type", Choice).action_step(1)

    def action_cycle_tif(self) -> None:
        if self.order_type is OrderType.LIMIT:
            self.query_one("#tif", Choice).action_step(1)

    def action_toggle_sizing(self) -> None:
        if self.query_one("#row-sizing").display:
            self.query_one("#sizing", Choice).action_step(1)

    def action_quick_size(self, percent: int) -> None:
        """Size at ``percent`` % of the free balance, rounded down to the step."""
        ctx = self.market_context()
        note = self.query_one("#size-note", Static)
        if ctx is None:
            return
        outcome = quick_size(self.draft(), ctx, percent)
        if isinstance(outcome, str):
            note.update(Content.styled(f"✗ {outcome}", "$error"))
            return
        name, text = outcome
        target = self.query_one(f"#{INPUT_IDS[name]}", Input)
        self._touched.add(name)
        target.value = text
        target.cursor_position = len(text)
        note.update("")

    def action_review(self) -> None:
        """Show the confirmation if the order has no problems; otherwise point at them."""
        self._review_attempted = True
        ev = self.recompute()
        ctx = self.context
        if ev is None or ctx is None or not ev.ok:
            self.app.bell()
            if ev is not None:
                for name, input_id in INPUT_IDS.items():
                    widget = self.query_one(f"#{input_id}", Input)
                    if ev.messages(name) and shown(widget):
                        widget.focus()
                        break
            return
        body, details = confirmation_text(ev, ctx)
        result = ev.result
        verb = result.side.value

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                request = result.to_request()
                self.dismiss(None)
                self.app.post_message(OrderConfirmed(request))

        self.app.push_screen(ConfirmScreen(f"Place this {verb} order?", body, details=details,
                                           confirm_label=f"Place {verb}"), answered)
