"""Balances: asset, free, locked, total and value in the valuation currency; changes flash.

Updates every few seconds, so a keyed ``DataTable`` is cheap enough. Zero balances are
hidden; the last row is the total value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from rich.text import Text
from textual.widgets import DataTable

from btx_tui.api.models_trading import Balance
from btx_tui.tui.formatting import fmt_balance, fmt_fixed
from btx_tui.tui.widgets.columns import add_columns

FLASH_S = 0.8
TOTAL_KEY = "__total__"


def valuation(balances: Sequence[Balance], prices: Mapping[str, Decimal], quote: str) -> dict[str, Decimal | None]:
    """Value of each asset's total in ``quote``: direct pair, inverse pair, or via BTC/USDT."""
    values: dict[str, Decimal | None] = {}
    for b in balances:
        total = b.free + b.locked
        values[b.asset] = None if (rate := rate_to(b.asset, quote, prices)) is None else total * rate
    return values


def rate_to(asset: str, quote: str, prices: Mapping[str, Decimal]) -> Decimal | None:
    if asset == quote:
        return Decimal(1)
    if (p := prices.get(asset + quote)) is not None:
        return p
    if (p := prices.get(quote + asset)) and p != 0:
        return 1 / p
    for bridge in ("USDT", "BTC", "TRX"):
        if bridge in (asset, quote):
            continue
        first = prices.get(asset + bridge)
        second = rate_to(bridge, quote, {k: v for k, v in prices.items() if not k.startswith(asset)})
        if first is not None and second is not None:
            return first * second
    return None


class BalancesTable(DataTable):
    """The account's balances, free and locked."""

    def __init__(self, quote: str = "USDT", **kwargs: object) -> None:
        super().__init__(cursor_type="row", cell_padding=0, **kwargs)  # type: ignore[arg-type]
        self.quote = quote
        self.balances: dict[str, Balance] = {}

    def on_mount(self) -> None:
        add_columns(self, (("Asset", "asset", 6), ("Free", "free", 14), ("Locked", "locked", 12),
                           ("Total", "total", 14), (f"≈ {self.quote}", "value", 11)))

    def update_balances(self, balances: Sequence[Balance], prices: Mapping[str, Decimal]) -> None:
        shown = [b for b in balances if b.free or b.locked]
        values = valuation(shown, prices, self.quote)
        wanted = {b.asset for b in shown}
        for asset in list(self.balances):
            if asset not in wanted:
                self.remove_row(asset)
                del self.balances[asset]
        if TOTAL_KEY in self.rows:
            self.remove_row(TOTAL_KEY)
        for b in shown:
            value = values.get(b.asset)
            cells = [
                Text(" " + b.asset, style="bold"),
                Text(fmt_balance(b.free), justify="right"),
                Text(fmt_balance(b.locked), justify="right", style="yellow" if b.locked else "dim"),
                Text(fmt_balance(b.free + b.locked), justify="right"),
                Text(fmt_fixed(value, 2) if value is not None else "—", justify="right"),
            ]
            old = self.balances.get(b.asset)
            if old is None:
                self.add_row(*cells, key=b.asset)
            else:
                if old.free != b.free:
                    cells[1].stylize("bold black on green" if b.free > old.free else "bold black on red")
                if old.locked != b.locked:
                    cells[2].stylize("bold black on yellow")
                for key, cell in zip(("asset", "free", "locked", "total", "value"), cells):
                    self.update_cell(b.asset, key, cell)
                if old.free != b.free or old.locked != b.locked:
                    self.set_timer(FLASH_S, lambda a=b.asset: self._unflash(a))
            self.balances[b.asset] = b
        known = [v for v in values.values() if v is not None]
        self.add_row(Text(" Σ", style="bold"), "", "", "",
                     Text(fmt_fixed(sum(known, Decimal(0)), 2), justify="right", style="bold"),
                     key=TOTAL_KEY)

    def _unflash(self, asset: str) -> None:
        b = self.balances.get(asset)
        if b is None or asset not in self.rows:
            return
        self.update_cell(asset, "free", Text(fmt_balance(b.free), justify="right"))
        self.update_cell(asset, "locked", Text(fmt_balance(b.locked), justify="right",
                                               style="yellow" if b.locked else "dim"))
