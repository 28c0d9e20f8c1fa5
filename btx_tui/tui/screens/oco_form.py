"""The OCO (bracket) form: take-profit and stop-loss around a position in one go.

Why a form of its own rather than a type on the order form: an OCO is two orders sharing one
quantity and one lock, checked together (the take-profit above the last price, the stop below
for a sell; the reverse for a buy) — :func:`~btx_tui.api.preflight.check_oco` does that. Like
the order form it never calls the exchange: it reads the store, shows every problem next to
its field while typing, and only after a confirmation naming both legs posts
:class:`~btx_tui.tui.messages.OrderListConfirmed`; the trading actions send it through
``place_order_list`` (journalled; an unclear answer is "unknown — checking", never "failed").
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioSet, Static

from btx_tui.api.models_trading import OrderSide, OrderType, TimeInForce
from btx_tui.api.preflight import LegInput, OcoPreflight, SymbolRules, check_oco, describe_stop, round_quantity
from btx_tui.tui.messages import OrderListConfirmed
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.order_form_fields import Choice
from btx_tui.tui.state import DashboardState
from btx_tui.tui.widgets.order_preview import fmt_on_grid, grouped, parse_amount

__all__ = ["OCO_FIELDS", "OcoFormScreen", "oco_problems_by_field"]

OCO_FIELDS = ("quantity", "take-profit", "stop", "stop-limit")
"""The form's inputs, top to bottom (ids)."""


def leg_names(side: OrderSide) -> tuple[str, str]:
    """``(take-profit leg, stop-loss leg)`` as check_oco names them: a sell takes profit above."""
    return ("above", "below") if side is OrderSide.SELL else ("below", "above")


def oco_problems_by_field(pre: OcoPreflight) -> dict[str, list[str]]:
    """check_oco's problems by the form's input id (``""``: shown in the preview)."""
    tp, sl = leg_names(pre.side)
    where = {"quantity": "quantity", f"{tp}.price": "take-profit", f"{sl}.stop_price": "stop",
             f"{sl}.price": "stop-limit", f"{sl}.trailing_delta": "stop", f"{tp}.quantity": "quantity",
             f"{sl}.quantity": "quantity"}
    out: dict[str, list[str]] = {}
    for p in pre.problems:
        out.setdefault(where.get(p.field, ""), []).append(p.message)
    return out


class OcoFormScreen(ModalScreen[None]):
    """Sell (or buy) with a take-profit and a stop-loss; one filling cancels the other."""

    AUTO_FOCUS = "#take-profit"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="oco_form_close", tooltip="Close the form; nothing is sent"),
        Binding("enter", "review", "Review", id="oco_form_review", tooltip="Show both orders for confirmation"),
        Binding("f5", "switch_side", "Buy/Sell", id="oco_form_side", tooltip="Switch between sell and buy"),
    ]

    DEFAULT_CSS = """
    OcoFormScreen { align: center middle; background: $background 60%; }
    OcoFormScreen #oco-form {
        width: 84; max-width: 100%; height: auto; max-height: 100%; overflow-y: auto;
        border: thick $error; background: $surface; padding: 0 1;
    }
    OcoFormScreen #oco-form.-buy { border: thick $success; }
    OcoFormScreen #oco-title { width: 100%; padding: 0 1; text-style: bold; background: $error 35%; }
    OcoFormScreen #oco-form.-buy #oco-title { background: $success 35%; }
    OcoFormScreen .oco-row { height: 1; margin-top: 1; }
    OcoFormScreen .oco-label { width: 22; color: $text-muted; }
    OcoFormScreen .oco-input { width: 22; }
    OcoFormScreen .oco-error { width: 1fr; padding-left: 1; color: $error; }
    OcoFormScreen #oco-preview { height: auto; margin-top: 1; padding: 0 1; background: $boost; }
    OcoFormScreen #oco-actions { height: auto; align-horizontal: right; }
    OcoFormScreen #oco-actions Button { margin-left: 2; }
    """

    def __init__(self, state: DashboardState, *, symbol: str, side: str = "SELL", paper: bool = False) -> None:
        super().__init__()
        self.state = state
        self.symbol = symbol
        self.side = OrderSide(side)
        self.paper = paper
        self.preflight: OcoPreflight | None = None
        """The latest check of the form (what the preview shows)."""
        self._review_attempted = False

    @property
    def rules(self) -> SymbolRules | None:
        info = self.state.rules.symbol(self.symbol)
        return SymbolRules.from_symbol_info(info) if info is not None else None

    def compose(self) -> ComposeResult:
        rules = self.rules
        base, quote = (rules.base_asset, rules.quote_asset) if rules else ("base", "quote")
        with Vertical(id="oco-form"):
            yield Static(id="oco-title")
            with Horizontal(classes="oco-row"):
                yield Label("Side", classes="oco-label")
                yield Choice(((OrderSide.SELL, "Sell"), (OrderSide.BUY, "Buy")), self.side, id="oco-side")
                yield Static("F5", classes="oco-error")
            for name, label, hint in (("quantity", f"Quantity ({base})", f"{base} for both orders"),
                                      ("take-profit", f"Take profit ({quote})", "limit-maker price"),
                                      ("stop", f"Stop ({quote})", "last price that triggers"),
                                      ("stop-limit", f"Stop limit ({quote})", "empty: at market")):
                with Horizontal(classes="oco-row"):
                    yield Label(label, classes="oco-label")
                    yield Input(id=name, classes="oco-input", placeholder=hint, compact=True)
                    yield Static(id=f"{name}-error", classes="oco-error")
            yield Static(id="oco-preview")
            with Horizontal(id="oco-actions"):
                yield Button(Content("Close [Esc]"), id="close", compact=True)
                yield Button(Content("Review OCO [Enter]"), id="review", variant="warning", compact=True)

    def on_mount(self) -> None:
        self._prefill_quantity()
        self._sync()
        self.recompute()

    def on_screen_resume(self) -> None:
        for signal in (self.state.balances_changed, self.state.tickers_changed, self.state.book_changed):
            signal.subscribe(self, lambda _: self.recompute() if self.is_mounted else None)

    def on_screen_suspend(self) -> None:
        for signal in (self.state.balances_changed, self.state.tickers_changed, self.state.book_changed):
            signal.unsubscribe(self)

    # -- data ----------------------------------------------------------------------------

    def _free(self) -> Mapping[str, Decimal] | None:
        account = self.state.account
        return account.free() if account is not None else None

    def _prefill_quantity(self) -> None:
        """A sell protects the position: the whole free base balance, rounded down to the step."""
        rules, free = self.rules, self._free()
        field = self.query_one("#quantity", Input)
        if rules is None or free is None or self.side is not OrderSide.SELL or field.value:
            return
        qty = round_quantity(free.get(rules.base_asset, Decimal(0)), rules.step_size)
        if qty > 0:
            field.value = fmt_on_grid(qty, rules.step_size).replace(",", "")

    def _values(self) -> tuple[dict[str, Decimal | None], dict[str, str]]:
        values: dict[str, Decimal | None] = {}
        errors: dict[str, str] = {}
        whats = {"quantity": "a quantity", "take-profit": "a take-profit price", "stop": "a stop price",
                 "stop-limit": "a stop-limit price"}
        for name in OCO_FIELDS:
            text = self.query_one(f"#{name}", Input).value
            if name == "stop-limit" and not text.strip():
                values[name] = None  # a market stop
                continue
            value, error = parse_amount(text, whats[name])
            values[name] = value
            if error:
                errors[name] = error
        return values, errors

    def recompute(self) -> OcoPreflight | None:
        rules = self.rules
        preview = self.query_one("#oco-preview", Static)
        if rules is None:
            preview.update(f"{self.symbol} is not listed by this exchange: nothing can be ordered.")
            self.preflight = None
            return None
        values, parse_errors = self._values()
        stop_type = OrderType.STOP_LOSS_LIMIT if values["stop-limit"] is not None else OrderType.STOP_LOSS
        take = LegInput(OrderType.LIMIT_MAKER, price=values["take-profit"])
        stop = LegInput(stop_type, price=values["stop-limit"], stop_price=values["stop"],
                        time_in_force=TimeInForce.GTC if stop_type is OrderType.STOP_LOSS_LIMIT else None)
        above, below = (take, stop) if self.side is OrderSide.SELL else (stop, take)
        account = self.state.account
        pre = self.preflight = check_oco(
            rules, side=self.side, quantity=values["quantity"], above=above, below=below,
            last_price=self.state.prices.get(self.symbol), free_balances=self._free(),
            commission_rates=account.commission_rates if account is not None else None,
            open_orders=sum(1 for o in self.state.open_orders if o.symbol == self.symbol))
        by_field = oco_problems_by_field(pre)
        for name in OCO_FIELDS:
            messages = [parse_errors[name]] if name in parse_errors else by_field.get(name, [])
            typed = self.query_one(f"#{name}", Input).value.strip()
            line = self.query_one(f"#{name}-error", Static)
            if not typed and not self._review_attempted:
                line.update(Content.styled("required" if messages else "", "$text-muted"))
            else:
                line.update("\n".join(f"✗ {m}" for m in messages[:1]))
        preview.update(self._preview(pre, rules, by_field.get("", [])))
        self.preflight = pre if not parse_errors else None
        return self.preflight

    def _preview(self, pre: OcoPreflight, rules: SymbolRules, problems: list[str]) -> Content:
        tp_leg, sl_leg = (pre.above, pre.below) if self.side is OrderSide.SELL else (pre.below, pre.above)
        verb = "sells" if self.side is OrderSide.SELL else "buys"
        qty = grouped(pre.quantity) if pre.quantity is not None else "?"
        tp = (f"{verb} {qty} {rules.base_asset} at {fmt_on_grid(tp_leg.price, rules.tick_size)} "
              f"(limit maker, rests in the book now)" if tp_leg.price is not None else "—")
        sl = describe_stop(sl_leg, rules.base_asset) if sl_leg.stop_price is not None else "—"
        lock = (f"{grouped(pre.lock)} {pre.lock_asset} (one lock for both orders)"
                if pre.lock is not None else "—")
        lines = [Content.assemble(("Take profit ", "$text-muted"), tp),
                 Content.assemble(("Stop loss   ", "$text-muted"), sl),
                 Content.assemble(("Locks       ", "$text-muted"), lock),
                 Content.styled("One filling cancels the other.", "$text-muted")]
        lines += [Content.styled(f"✗ {m}", "$error") for m in problems]
        return Content("\n").join(lines)

    def _sync(self) -> None:
        sell = self.side is OrderSide.SELL
        self.query_one("#oco-form").set_class(not sell, "-buy")
        paper = " · PAPER" if self.paper else ""
        self.query_one("#oco-title", Static).update(
            f"OCO {'SELL' if sell else 'BUY'} {self.symbol}: take profit + stop loss{paper}")
        self.query_one("#oco-side", Choice).choose(self.side)

    # -- events ----------------------------------------------------------------------------

    @on(Input.Changed)
    def _typed(self, _: Input.Changed) -> None:
        self.recompute()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_review()

    @on(RadioSet.Changed)
    def _chosen(self, event: RadioSet.Changed) -> None:
        if isinstance(event.radio_set, Choice) and event.radio_set.id == "oco-side":
            side = OrderSide(event.radio_set.value)
            if side is not self.side:
                self.side = side
                self._prefill_quantity()
                self._sync()
                self.recompute()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "close":
            self.action_close()
        elif event.button.id == "review":
            self.action_review()

    # -- actions ---------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_switch_side(self) -> None:
        self.query_one("#oco-side", Choice).action_step(1)

    def action_review(self) -> None:
        """Show both orders for confirmation if the OCO has no problems; else point at them."""
        self._review_attempted = True
        pre = self.recompute()
        rules = self.rules
        if pre is None or rules is None or not pre.ok:
            self.app.bell()
            for name in OCO_FIELDS:
                if str(self.query_one(f"#{name}-error", Static).content).startswith("✗"):
                    self.query_one(f"#{name}", Input).focus()
                    break
            return
        request = pre.to_request()
        tp_leg, sl_leg = (pre.above, pre.below) if self.side is OrderSide.SELL else (pre.below, pre.above)
        assert pre.quantity is not None and tp_leg.price is not None
        verb = self.side.value
        body = (f"{verb} {grouped(pre.quantity)} {rules.base_asset} on {self.symbol} as an OCO "
                f"(one cancels the other):\n"
                f"• take profit: LIMIT_MAKER @ {fmt_on_grid(tp_leg.price, rules.tick_size)} {rules.quote_asset}\n"
                f"• stop loss: {sl_leg.type.value}: {describe_stop(sl_leg, rules.base_asset)}")
        details = (f"Locks {grouped(pre.lock)} {pre.lock_asset} (one lock for both orders)"
                   if pre.lock is not None else "")

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss(None)
                self.app.post_message(OrderListConfirmed(request))

        self.app.push_screen(ConfirmScreen("Place this OCO?", body, details=details, confirm_label="Place OCO"),
                             answered)
