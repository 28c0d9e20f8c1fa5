"""Amend an open order: a smaller quantity keeps its place in the queue; a new price does not.

Why two routes behind one small form: the standard can lower an order's quantity in place
(``order/amend/keepPriority``) — the order keeps its id and its priority — but anything else
(a new price, a larger quantity) is a cancel and a new order (``order/cancelReplace``), which
goes to the back of the queue. The form decides which one the typed values need and says so
before anything is sent; the confirmation of a cancel-replace says that priority is lost.
Both are journalled by the service layer; the form only posts
:class:`~btx_tui.tui.messages.OrderChangeConfirmed`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from btx_tui.api.models_trading import Order, OrderSide, OrderType, TimeInForce
from btx_tui.api.order_changes import AmendRequest, CancelReplaceRequest
from btx_tui.api.preflight import PreflightResult, SymbolRules, check_stop_order, round_quantity
from btx_tui.tui.messages import OrderChangeConfirmed
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.state import DashboardState
from btx_tui.tui.widgets.order_preview import fmt_on_grid, parse_amount

__all__ = ["AmendFormScreen", "Change", "plan_change"]

_PRICED = (OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)


class Change:
    """What the typed values ask for: ``kind`` is ``amend``, ``replace``, ``none`` or ``invalid``."""

    def __init__(self, kind: str, *, problems: dict[str, str] | None = None, qty: Decimal | None = None,
                 price: Decimal | None = None, check: PreflightResult | None = None) -> None:
        self.kind = kind
        self.problems = problems or {}
        self.qty = qty
        self.price = price
        self.check = check


def plan_change(order: Order, rules: SymbolRules, qty_text: str, price_text: str,
                free: dict[str, Decimal] | None, last_price: Decimal | None) -> Change:
    """Amend (quantity down, same price), cancel-replace (new price or more), or why neither."""
    problems: dict[str, str] = {}
    qty, error = parse_amount(qty_text, "a quantity")
    if error:
        problems["quantity"] = error
    priced = OrderType(order.type) in _PRICED
    price: Decimal | None = order.price if priced else None
    if priced:
        price, error = parse_amount(price_text, "a price")
        if error:
            problems["price"] = error
    if problems or qty is None:
        return Change("invalid", problems=problems)
    qty = round_quantity(qty, rules.step_size)
    executed = order.executed_qty or Decimal(0)
    if qty <= executed:
        return Change("invalid", problems={"quantity": f"Must stay above the {executed.normalize():f} already filled"})
    same_price = not priced or price == order.price
    if same_price and qty == order.orig_qty:
        return Change("none", problems={"quantity": "Change the quantity or the price"})
    if same_price and qty < order.orig_qty:
        if not rules.amend_allowed:
            return Change("invalid", problems={"quantity": f"{rules.symbol} does not allow amending in place"})
        if rules.min_qty > 0 and qty < rules.min_qty:
            return Change("invalid", problems={"quantity": f"Below the minimum quantity {rules.min_qty.normalize():f}"})
        return Change("amend", qty=qty, price=order.price)
    if not rules.cancel_replace_allowed:
        return Change("invalid", problems={"price": f"{rules.symbol} does not allow cancel-replace"})
    # A new order: the same filters as the order form; the old order's lock is released first.
    side, otype = OrderSide(order.side), OrderType(order.type)
    if free is not None:
        freed = dict(free)
        remaining = order.orig_qty - executed
        if side is OrderSide.SELL:
            freed[rules.base_asset] = freed.get(rules.base_asset, Decimal(0)) + remaining
        elif order.price:
            freed[rules.quote_asset] = freed.get(rules.quote_asset, Decimal(0)) + remaining * order.price
        free = freed
    tif = TimeInForce(order.time_in_force) if order.time_in_force and otype in (
        OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT) else None
    check = check_stop_order(rules, side=side, type=otype, quantity=qty, price=price,
                             stop_price=order.stop_price or None, trailing_delta=order.trailing_delta,
                             time_in_force=tif, last_price=last_price if order.is_stop else None,
                             free_balances=free)
    if not check.ok:
        for p in check.problems:
            problems.setdefault("price" if p.field == "price" else "quantity" if p.field == "quantity" else "", p.message)
        return Change("invalid", problems=problems, check=check)
    return Change("replace", qty=check.quantity, price=check.price, check=check)


class AmendFormScreen(ModalScreen[None]):
    """Quantity and price of one open order; Enter reviews the change."""

    AUTO_FOCUS = "#amend-quantity"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="amend_form_close", tooltip="Close; nothing is sent"),
        Binding("enter", "review", "Review", id="amend_form_review", tooltip="Review the change"),
    ]

    DEFAULT_CSS = """
    AmendFormScreen { align: center middle; background: $background 60%; }
    AmendFormScreen #amend-form {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    AmendFormScreen #amend-title { text-style: bold; background: $warning 30%; padding: 0 1; }
    AmendFormScreen .amend-row { height: 1; margin-top: 1; }
    AmendFormScreen .amend-label { width: 18; color: $text-muted; }
    AmendFormScreen .amend-input { width: 22; }
    AmendFormScreen .amend-error { width: 1fr; padding-left: 1; color: $error; }
    AmendFormScreen #amend-plan { height: auto; margin-top: 1; padding: 0 1; background: $boost; }
    AmendFormScreen #amend-actions { height: auto; align-horizontal: right; margin-top: 1; }
    AmendFormScreen #amend-actions Button { margin-left: 2; }
    """

    def __init__(self, state: DashboardState, order: Order) -> None:
        super().__init__()
        self.state = state
        self.order = order
        self.change: Change | None = None

    @property
    def rules(self) -> SymbolRules | None:
        info = self.state.rules.symbol(self.order.symbol)
        return SymbolRules.from_symbol_info(info) if info is not None else None

    def compose(self) -> ComposeResult:
        o, rules = self.order, self.rules
        tick, step = self.state.steps(o.symbol)
        base, quote = (rules.base_asset, rules.quote_asset) if rules else ("base", "quote")
        with Vertical(id="amend-form"):
            yield Static(f"Amend {o.side} {o.type} {o.symbol} #{o.order_id}", id="amend-title")
            with Horizontal(classes="amend-row"):
                yield Label(f"Quantity ({base})", classes="amend-label")
                yield Input(fmt_on_grid(o.orig_qty, step).replace(",", ""), id="amend-quantity",
                            classes="amend-input", compact=True)
                yield Static(id="amend-quantity-error", classes="amend-error")
            with Horizontal(classes="amend-row", id="amend-price-row"):
                yield Label(f"Price ({quote})", classes="amend-label")
                yield Input(fmt_on_grid(o.price, tick).replace(",", "") if o.price else "", id="amend-price",
                            classes="amend-input", compact=True)
                yield Static(id="amend-price-error", classes="amend-error")
            yield Static(id="amend-plan")
            with Horizontal(id="amend-actions"):
                yield Button(Content("Close [Esc]"), id="close", compact=True)
                yield Button(Content("Review [Enter]"), id="review", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#amend-price-row").display = OrderType(self.order.type) in _PRICED
        self.recompute()

    def recompute(self) -> Change | None:
        rules = self.rules
        plan = self.query_one("#amend-plan", Static)
        if rules is None:
            plan.update("The market's rules are not loaded yet.")
            return None
        account = self.state.account
        change = self.change = plan_change(
            self.order, rules, self.query_one("#amend-quantity", Input).value,
            self.query_one("#amend-price", Input).value, account.free() if account is not None else None,
            self.state.prices.get(self.order.symbol))
        self.query_one("#amend-quantity-error", Static).update(
            f"✗ {change.problems['quantity']}" if change.kind == "invalid" and "quantity" in change.problems else "")
        self.query_one("#amend-price-error", Static).update(
            f"✗ {change.problems['price']}" if "price" in change.problems else "")
        if change.kind == "amend":
            plan.update(Content.assemble(("Amend in place: ", "bold"),
                                         "lower quantity, same order id, keeps its place in the queue"))
        elif change.kind == "replace":
            plan.update(Content.assemble(("Cancel-replace: ", "bold"),
                                         ("the order is canceled and a new one placed — queue priority is lost",
                                          "$warning")))
        else:
            other = change.problems.get("", "")
            plan.update(Content.styled(f"✗ {other}" if other else
                                       "Lower the quantity to keep priority; a new price replaces the order",
                                       "$error" if other else "$text-muted"))
        return change

    @on(Input.Changed)
    def _typed(self, _: Input.Changed) -> None:
        self.recompute()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_review()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "close":
            self.action_close()
        elif event.button.id == "review":
            self.action_review()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_review(self) -> None:
        change = self.recompute()
        o = self.order
        if change is None or change.kind not in ("amend", "replace") or change.qty is None:
            self.app.bell()
            return
        tick, step = self.state.steps(o.symbol)
        qty = fmt_on_grid(change.qty, step)
        request: AmendRequest | CancelReplaceRequest
        if change.kind == "amend":
            request = AmendRequest(o.symbol, change.qty, orig_client_order_id=o.client_order_id)
            title, label = "Amend order", "Amend"
            body = (f"{o.side} {o.type} {o.symbol} #{o.order_id}: quantity "
                    f"{fmt_on_grid(o.orig_qty, step)} → {qty}\nKeeps its place in the queue (same order).")
        else:
            assert change.check is not None
            request = CancelReplaceRequest(change.check.to_request(), cancel_orig_client_order_id=o.client_order_id)
            title, label = "Replace order — queue priority is lost", "Replace"
            was = f"{fmt_on_grid(o.orig_qty, step)} @ {fmt_on_grid(o.price, tick) if o.price else 'market'}"
            now = f"{qty} @ {fmt_on_grid(change.price, tick) if change.price else 'market'}"
            body = (f"{o.side} {o.type} {o.symbol}: {was} → {now}\n"
                    "Cancel-replace: #{0} is canceled and a new order placed; it loses its place "
                    "in the queue (queue priority is lost).".format(o.order_id))

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss(None)
                self.app.post_message(OrderChangeConfirmed(request))

        self.app.push_screen(ConfirmScreen(title, body, confirm_label=label), answered)
