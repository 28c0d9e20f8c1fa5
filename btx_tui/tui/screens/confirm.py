"""A yes/no confirmation that names exactly what will happen."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


GRACE_S = 0.3
"""Enter is ignored this long after the confirmation appears."""


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True on y / Enter / the confirm button, False on n / Esc."""

    BINDINGS = [
        Binding("y", "confirm", "Confirm", id="confirm_yes", priority=True),
        Binding("enter", "confirm_enter", "Confirm", id="confirm_enter", show=False, priority=True),
        Binding("n,escape", "back", "Back", id="confirm_no", priority=True),
    ]

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmScreen .confirm-title { text-style: bold; color: $warning; margin-bottom: 1; }
    ConfirmScreen .confirm-body { margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(self, title: str, body: str, *, confirm_label: str = "Confirm",
                 details: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.details = details
        self.confirm_label = confirm_label
        self._shown_at = time.monotonic()

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Label(self.title_text, classes="confirm-title")
            yield Static(self.body, classes="confirm-body", id="confirm-body")
            if self.details:
                yield Static(self.details, classes="confirm-body", id="confirm-details")
            with Horizontal():
                yield Button("Back \\[n]", id="no")
                yield Button(f"{self.confirm_label} \\[y]", id="yes", variant="warning")

    def on_mount(self) -> None:
        self._shown_at = time.monotonic()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_confirm_enter(self) -> None:
        # An Enter right after the confirmation opened is the Enter that opened it repeating
        # (or a double press), not a decision: make the trader look first. ``y`` is always taken.
        if time.monotonic() - self._shown_at >= GRACE_S:
            self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(False)
