"""The typed confirmation of a withdrawal: the amount and coin must be typed to send."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from btx_tui.tui.withdraw_checks import Draft, confirms, show

class ConfirmWithdrawScreen(ModalScreen[bool]):
    """Shows exactly what will leave, and sends only once the amount and coin are typed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to the form", id="withdraw_confirm_back",
                tooltip="Return to the form without sending; nothing is lost"),
    ]

    DEFAULT_CSS = """
    ConfirmWithdrawScreen { align: center middle; }
    ConfirmWithdrawScreen > Vertical {
        width: 84; height: auto; padding: 1 2; border: thick $error; background: $surface;
    }
    ConfirmWithdrawScreen .title { text-style: bold; color: $error; margin-bottom: 1; }
    ConfirmWithdrawScreen #wdc-details { margin-bottom: 1; }
    ConfirmWithdrawScreen #wdc-ask { color: $warning; }
    ConfirmWithdrawScreen Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmWithdrawScreen Button { margin-left: 2; }
    """

    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft

    def compose(self) -> ComposeResult:
        d = self.draft
        assert d.coin is not None and d.network is not None and d.amount is not None and d.total is not None
        c = d.coin.coin
        lines = [
            f"Coin      {c} ({d.coin.name or c})",
            f"Network   {d.network.network}",
            f"Address   {d.address}",
            *([f"Memo/tag  {d.tag}"] if d.tag else []),
            f"Amount    {show(d.amount)} {c}   (the recipient receives this)",
            f"Fee       {show(d.network.withdraw_fee)} {c}",
            f"Locked    {show(d.total)} {c}   (free after: {show(d.coin.free - d.total)} {c})",
        ]
        with Vertical(id="wdc"):
            yield Label("Confirm withdrawal — this cannot be undone", classes="title")
            yield Static("\n".join(lines), id="wdc-details", markup=False)
            yield Static(f"To send, type the amount and coin:  {d.phrase}", id="wdc-ask", markup=False)
            yield Input(placeholder=f"type {d.phrase} here", id="wdc-input")
            with Horizontal():
                yield Button("Back \\[esc]", id="wdc-back")
                yield Button("Send withdrawal", id="wdc-send", variant="error", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#wdc-input", Input).focus()

    @on(Input.Changed, "#wdc-input")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#wdc-send", Button).disabled = not confirms(event.value, self.draft)

    @on(Input.Submitted, "#wdc-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if confirms(event.value, self.draft):
            self.dismiss(True)
        else:
            self.notify(f"Type {self.draft.phrase} to send, or Esc to go back.", severity="warning",
                        timeout=4, markup=False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "wdc-send" and confirms(self.query_one("#wdc-input", Input).value, self.draft):
            self.dismiss(True)
        elif event.button.id == "wdc-back":
            self.dismiss(False)

    def action_back(self) -> None:
        self.dismiss(False)


# -- the screen ------------------------------------------------------------------------------
