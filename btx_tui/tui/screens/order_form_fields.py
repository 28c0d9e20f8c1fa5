"""The order form's building blocks and layout: the ``Choice`` control, field rows, the widget tree.

Why a module of its own: the screen (:mod:`btx_tui.tui.screens.order_form`) is about what
the form *does* — evaluating the draft, prefilling, reviewing, sending; what it looks like
(which rows in which order, a row's label, control, key hint and problem line) and how a
segmented control reacts to the arrow keys are widget details that need none of that.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from btx_tui.api.models_trading import OrderSide, OrderType, TimeInForce
from btx_tui.tui.widgets.order_preview import OrderPreview

__all__ = ["SIZES", "TRAILING_UNITS", "TYPES", "SIZE_HINT", "Choice", "choice_row", "form_layout", "input_row", "shown"]

TYPES = ((OrderType.LIMIT, "Limit"), (OrderType.MARKET, "Market"), (OrderType.LIMIT_MAKER, "Maker"),
         (OrderType.STOP_LOSS, "Stop"), (OrderType.STOP_LOSS_LIMIT, "Stop lmt"),
         (OrderType.TAKE_PROFIT, "Take"), (OrderType.TAKE_PROFIT_LIMIT, "Take lmt"))
"""Every type the standard defines; those a market does not advertise are disabled on the form."""
TRAILING_UNITS = (("%", "%"), ("bps", "bps"))
TIFS = ((TimeInForce.GTC, "GTC"), (TimeInForce.IOC, "IOC"), (TimeInForce.FOK, "FOK"))
SIZES = (25, 50, 75, 100)
SIZE_HINT = "  F1–F4 or alt+1–4"
"""Shown beside the quick-size buttons (the form has no footer)."""


class Choice(RadioSet, inherit_bindings=False):
    """A one-line segmented control: the arrow keys choose at once.

    A plain RadioSet only moves a highlight with the arrows and needs Enter to choose; here
    Enter is left to the form (it means "review the order").
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,down", "step(1)", "Next", show=False),
        Binding("left,up", "step(-1)", "Previous", show=False),
        Binding("space", "toggle_button", "Choose", show=False),
    ]

    DEFAULT_CSS = """
    Choice { layout: horizontal; width: auto; height: 1; }
    Choice > RadioButton { width: auto; margin-right: 2; }
    """

    def __init__(self, options: tuple[tuple[str, str], ...], value: str, *, id: str) -> None:
        self.keys = [key for key, _ in options]
        super().__init__(*[RadioButton(label, value=key == value) for key, label in options],
                         id=id, compact=True)

    def on_mount(self) -> None:
        self._selected = self.pressed_index

    @property
    def value(self) -> str:
        return self.keys[self.pressed_index]

    def choose(self, key: str) -> None:
        """Press the option ``key`` (a no-op if it is already pressed)."""
        button = list(self.query(RadioButton))[self.keys.index(key)]
        if not button.value:
            button.value = True

    def action_step(self, step: int) -> None:
        buttons = list(self.query(RadioButton))
        index = self.pressed_index
        for _ in buttons:
            index = (index + step) % len(buttons)
            if not buttons[index].disabled:
                buttons[index].value = True
                return


def choice_row(name: str, label: str, choice: Choice, key: str) -> Horizontal:
    return Horizontal(Label(label, classes="of-label"), choice, Static(key, classes="of-key"),
                      classes="of-row", id=f"row-{name}")


def input_row(name: str, label: str, placeholder: str) -> Horizontal:
    """Label, input and — next to it — the field's problems."""
    return Horizontal(Label(label, classes="of-label"),
                      Input(id=name, classes="of-input", placeholder=placeholder),
                      Static(id=f"{name}-error", classes="of-error"),
                      classes="of-row -input", id=f"row-{name}")


def shown(widget: Widget) -> bool:
    """True if ``widget`` and all its ancestors are displayed."""
    node: Widget | None = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent if isinstance(node.parent, Widget) else None
    return True


def form_layout(side: OrderSide, order_type: OrderType, time_in_force: TimeInForce,
                base: str, quote: str) -> ComposeResult:
    """The form's widgets, top to bottom (``OrderFormScreen.compose`` yields them)."""
    with Vertical(id="order-form"):
        yield Static(id="of-title")
        yield choice_row("side", "Side", Choice(((OrderSide.BUY, "Buy"), (OrderSide.SELL, "Sell")),
                                                side, id="side"), "F5")
        yield choice_row("type", "Type", Choice(TYPES, order_type, id="type"), "F6")
        yield choice_row("tif", "Time in force", Choice(TIFS, time_in_force, id="tif"), "F7")
        yield input_row("stop-price", f"Stop ({quote})", "last price that triggers")
        with Horizontal(classes="of-row -input", id="row-trailing"):
            yield Label("Trailing delta", classes="of-label")
            yield Input(id="trailing", classes="of-input -short", placeholder="optional")
            yield Choice(TRAILING_UNITS, "%", id="trailing-unit")
            yield Static(id="trailing-error", classes="of-error")
        yield input_row("price", f"Price ({quote})", "limit price")
        yield choice_row("sizing", "Size by", Choice((("qty", f"Quantity ({base})"),
                                                     ("quote", f"Amount to spend ({quote})")), "qty",
                                                    id="sizing"), "F8")
        yield input_row("quantity", f"Quantity ({base})", f"{base} to {side.lower()}")
        yield input_row("quote-amount", f"Spend ({quote})", f"{quote} to spend")
        with Horizontal(id="sizes"):
            yield Label("Of free", classes="of-label")
            for n, pct in enumerate(SIZES, start=1):
                button = Button(f"{pct}%", id=f"size-{pct}", compact=True, tooltip=f"F{n} / alt+{n}")
                button.can_focus = False  # keys F1–F4 do this; tabbing through four buttons would not help
                yield button
            yield Static(SIZE_HINT, id="size-note")
        yield OrderPreview(id="preview")
        with Horizontal(id="actions"):
            yield Button(Content("Close [Esc]"), id="close")
            yield Button(Content("Review [Enter]"), id="review", variant="success")
