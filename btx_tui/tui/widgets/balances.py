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
from btx_tui.tui.formatting import fit, fmt_balance, fmt_fixed
from btx_tui.tui.widgets.columns import add_columns

FLASH_S = 0.8
COLUMNS = (("Asset", "asset", 6), ("Free", "free", 16), ("Locked", "locked", 8),
           ("Total", "total", 10), ("Value", "value", 10))
"""The free balance gets the room to be exact (what can be spent); locked and total may compact."""
WIDTH = {key: width for _, key, width in COLUMNS}
COMPACT_FREE_WIDTH = 13


def amount(value: Decimal, key: str, width: int | None = None) -> str:
    """A balance for column ``key``: exact when it fits, compact (50.00M) when it would not."""
    return fit(fmt_balance(value), value, width or WIDTH[key])
TOTAL_KEY = "__total__"


def valuation(balances: Sequence[Balance], prices: Mapping[str, Decimal], quote: str) -> dict[str, Decimal | None]:
    """Value of each asset's total in ``quote``: direct pair, inverse pair, or via BTC/USDT."""
    values: dict[str, Decimal | None] = {}
    for b in balances:
        total = b.free + b.locked
        values[b.asset] = None if (rate := rate_to(b.asset, quote, prices)) is None else total * rate
    return values


BRIDGES = ("USDT", "BTC", "ETH", "TRX")
"""Assets a value may be converted through when no direct market exists."""


def _direct(asset: str, quote: str, prices: Mapping[str, Decimal]) -> Decimal | None:
    if asset == quote:
        return Decimal(1)
    if (p := prices.get(asset + quote)) is not None:
        return p
    if p := prices.get(quote + asset):
        return 1 / p
    return None


def rate_to(asset: str, quote: str, prices: Mapping[str, Decimal]) -> Decimal | None:
    """Price of one ``asset`` in ``quote``: a direct or inverse market, else through one bridge."""
    if (rate := _direct(asset, quote, prices)) is not None:
        return rate
    for bridge in BRIDGES:
        first = _direct(asset, bridge, prices)
        second = _direct(bridge, quote, prices)
        if first is not None and second is not None:
            return first * second
    return None


class BalancesTable(DataTable):
    """The account's balances, free and locked."""

    def __init__(self, quote: str = "USDT", *, compact: bool = False, **kwargs: object) -> None:
        """
        Args:
            compact: only asset, free (exact) and value — for the narrow column under the
                watchlist on a small terminal.
        """
        super().__init__(cursor_type="row", cell_padding=0, **kwargs)  # type: ignore[arg-type]
        self.quote = quote
        self.compact = compact
        self.balances: dict[str, Balance] = {}

    @property
    def free_width(self) -> int:
        return COMPACT_FREE_WIDTH if self.compact else WIDTH["free"]

    def free(self, value: Decimal) -> str:
        """The free amount, exact whenever it fits: the asset column's padding separates it,
        so it may use the column's whole width (what can be spent is never rounded away)."""
        return fit(fmt_balance(value), value, self.free_width + 1)

    @property
    def keys(self) -> tuple[str, ...]:
        """The columns shown."""
        return ("asset", "free", "value") if self.compact else ("asset", "free", "locked", "total", "value")

    def on_mount(self) -> None:
        columns = [(label, key, self.free_width if key == "free" else width)
                   for label, key, width in COLUMNS[:-1] if key in self.keys]
        add_columns(self, (*columns, (f"≈ {self.quote}", "value", COLUMNS[-1][2])))

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
                Text(self.free(b.free), justify="right"),
                Text(amount(b.locked, "locked"), justify="right", style="yellow" if b.locked else "dim"),
                Text(amount(b.free + b.locked, "total"), justify="right"),
                Text(fit(fmt_fixed(value, 2), value, WIDTH["value"]) if value is not None else "—", justify="right"),
            ]
            shown_cells = [c for key, c in zip(("asset", "free", "locked", "total", "value"), cells) if key in self.keys]
            old = self.balances.get(b.asset)
            if old is None:
                self.add_row(*shown_cells, key=b.asset)
            else:
                if old.free != b.free:
                    cells[1].stylize("bold black on green" if b.free > old.free else "bold black on red")
                if old.locked != b.locked:
                    cells[2].stylize("bold black on yellow")
                for key, cell in zip(("asset", "free", "locked", "total", "value"), cells):
                    if key in self.keys:
                        self.update_cell(b.asset, key, cell)
                if old.free != b.free or old.locked != b.locked:
                    self.set_timer(FLASH_S, lambda a=b.asset: self._unflash(a))
            self.balances[b.asset] = b
        total = sum((v for v in values.values() if v is not None), Decimal(0))
        blanks = [""] * (len(self.keys) - 2)
        self.add_row(Text(" Σ", style="bold"), *blanks,
                     Text(fit(fmt_fixed(total, 2), total, WIDTH["value"]), justify="right", style="bold"),
                     key=TOTAL_KEY)

    def _unflash(self, asset: str) -> None:
        b = self.balances.get(asset)
        if b is None or asset not in self.rows:
            return
        self.update_cell(asset, "free", Text(self.free(b.free), justify="right"))
        if "locked" in self.keys:
            self.update_cell(asset, "locked", Text(amount(b.locked, "locked"), justify="right",
                                               style="yellow" if b.locked else "dim"))
