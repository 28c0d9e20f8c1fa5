"""The positions tab: per asset the quantity the fills left, its average cost, the last price,
unrealized and realized P&L, and the totals, all valued in USDT.

Why a tab beside Open orders / Fills / Order history rather than a screen of its own: it is
account data read at the same glance as the fills it comes from, it keeps updating while the
trader looks at the book, and ``6`` already focuses that pane. The figures come from
:mod:`btx_tui.api.pnl` through the store; this table only formats them: prices on the asset's
USDT market tick, quantities on its step, money in USDT on two decimals coloured by sign.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text

from btx_tui.api.pnl import PnlReport
from btx_tui.tui.formatting import UNKNOWN, fmt_amount, fmt_fixed, fmt_price
from btx_tui.tui.widgets.columns import cell
from btx_tui.tui.widgets.orders import AccountTable, Steps

TOTAL_KEY = "total"
"""Row key of the totals row."""


def fmt_money(value: Decimal | None) -> str:
    """A P&L in the valuation asset: two decimals, signed, a dash when unknown."""
    if value is None:
        return UNKNOWN
    q = value.quantize(Decimal("0.01")) + 0  # + 0: no "-0.00"
    return f"{'+' if q > 0 else ''}{fmt_fixed(q, 2)}"


class PositionsTable(AccountTable):
    """One row per asset the account's fills touched, then the totals."""

    COLUMNS = (("Asset", "symbol"), ("Qty", "qty"), ("Avg cost", "avg"), ("Last", "last"),
               ("Unrealized", "unrealized"), ("Realized", "realized"))
    DROP_FIRST = ("last",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.report: PnlReport | None = None

    def _money(self, value: Decimal | None) -> Text:
        style = "" if not value else self.styled("buy" if value > 0 else "sell")
        return cell(fmt_money(value), numeric=True, style=style)

    def show_report(self, report: PnlReport | None, prices: dict[str, Decimal], steps: Steps) -> None:
        """Show ``report`` (None: the fill history is still loading)."""
        self.report = report
        if report is None:
            self.refill([])
            return
        v = report.valuation
        rows = []
        for asset, pos in report.assets.items():
            tick, step = steps(f"{asset}{v}")
            last = prices.get(f"{asset}{v}")
            rows.append(([cell(asset), cell(fmt_amount(pos.qty, step), numeric=True),
                          cell(fmt_price(pos.avg_cost, tick) if pos.avg_cost is not None else UNKNOWN, numeric=True),
                          cell(fmt_price(last, tick) if last else UNKNOWN, numeric=True),
                          self._money(pos.unrealized), self._money(pos.realized)], asset))
        rows.append(([cell(f"Total {v}"), cell(""), cell(""), cell(""),
                      self._money(report.total_unrealized), self._money(report.total_realized)], TOTAL_KEY))
        self.refill(rows)
