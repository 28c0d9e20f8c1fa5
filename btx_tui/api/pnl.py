"""Profit and loss from an account's own fills: average cost, realized, unrealized, session.

Pure (no I/O, no Textual): the caller fetches ``myTrades`` and last prices and asks
:func:`compute_pnl`.  Decimal throughout.

Conventions (a spot account, average-cost method):

* A position is kept **per market** (base held, bought with that market's quote), so cost,
  realized and unrealized P&L are exact in the market's quote asset.  Cross-market totals
  (:attr:`PnlReport.total_realized` …) and the per-asset view (:attr:`PnlReport.assets`) are
  valued in one ``valuation`` asset (USDT) at the **last** prices; history prices are not
  looked up, so a BTC-quoted position's USDT figures move with BTCUSDT too.
* Commissions, in whatever asset the exchange took them:
  buying with the fee in the base → fewer units for the same cost (the cost per unit rises);
  in the quote → added to the cost; selling with the fee in the quote → lower proceeds; in
  the base → the position shrinks by qty + fee, the fee's cost is a realized loss; in a third
  asset (e.g. BNB) → its value in the market's quote at the last price is added to the cost
  (buy) or subtracted from the proceeds (sell); when no price converts it, it is listed in
  :attr:`PnlReport.unvalued_fees` instead of being guessed.
* Selling more than the fills bought (coins that were deposited or funded, whose cost the
  fills cannot know) closes the known position; the rest is reported in
  :attr:`MarketPosition.untracked_sold` and realizes nothing.
* Session P&L (:class:`SessionPnl`) = total (realized + unrealized, in the valuation asset)
  now minus the same total in the snapshot taken at the session's start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from .models_trading import MyTrade

__all__ = ["MarketPosition", "AssetPosition", "PnlReport", "Prices", "SessionPnl", "compute_pnl"]

ZERO = Decimal(0)


class Prices:
    """Last prices by symbol, and conversions between assets through them.

    Args:
        last: last trade price per symbol (``ticker/price``).
        markets: ``symbol -> (base, quote)`` for every listed market.
    """

    def __init__(self, last: Mapping[str, Decimal], markets: Mapping[str, tuple[str, str]]) -> None:
        self._rate: dict[tuple[str, str], Decimal] = {}
        for symbol, price in last.items():
            if symbol in markets and price > 0:
                base, quote = markets[symbol]
                self._rate[(base, quote)] = price
                self._rate.setdefault((quote, base), 1 / price)
        self._assets = {a for pair in self._rate for a in pair}

    def rate(self, asset: str, to: str) -> Decimal | None:
        """Units of ``to`` one ``asset`` is worth: direct, inverse or through one other asset."""
        if asset == to:
            return Decimal(1)
        direct = self._rate.get((asset, to))
        if direct is not None:
            return direct
        for via in sorted(self._assets):
            a, b = self._rate.get((asset, via)), self._rate.get((via, to))
            if a is not None and b is not None:
                return a * b
        return None

    def value(self, amount: Decimal, asset: str, to: str) -> Decimal | None:
        r = self.rate(asset, to)
        return None if r is None else amount * r


@dataclass
class MarketPosition:
    """One market's position from the account's fills (amounts in the market's quote)."""

    symbol: str
    base: str
    quote: str
    qty: Decimal = ZERO
    """Base held from the fills (after base commissions)."""
    cost: Decimal = ZERO
    """Quote paid for :attr:`qty` (average-cost basis)."""
    realized: Decimal = ZERO
    fees_in_quote: Decimal = ZERO
    """Commissions counted, valued in the quote (included in cost or realized)."""
    untracked_sold: Decimal = ZERO
    last_price: Decimal | None = None
    bought: Decimal = ZERO
    sold: Decimal = ZERO

    @property
    def avg_cost(self) -> Decimal | None:
        return self.cost / self.qty if self.qty else None

    @property
    def unrealized(self) -> Decimal | None:
        if self.last_price is None:
            return None
        return self.qty * self.last_price - self.cost if self.qty else ZERO


@dataclass(frozen=True)
class AssetPosition:
    """One base asset over every market it was traded on, valued in the valuation asset."""

    asset: str
    qty: Decimal
    avg_cost: Decimal | None
    realized: Decimal
    unrealized: Decimal | None


@dataclass
class PnlReport:
    valuation: str
    markets: dict[str, MarketPosition]
    assets: dict[str, AssetPosition]
    total_realized: Decimal
    total_unrealized: Decimal
    unvalued: list[str] = field(default_factory=list)
    """Markets whose quote could not be valued in :attr:`valuation` (left out of the totals)."""
    unvalued_fees: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.total_realized + self.total_unrealized


def compute_pnl(trades: Iterable[MyTrade], markets: Mapping[str, tuple[str, str]], prices: Prices,
                last: Mapping[str, Decimal], *, valuation: str = "USDT") -> PnlReport:
    """Average cost and P&L of every market the ``trades`` touch (see the module docstring).

    ``trades`` may come from several symbols in any order; they are applied by time, then id.
    ``last`` is the last price per symbol (for unrealized P&L).
    """
    positions: dict[str, MarketPosition] = {}
    unvalued_fees: dict[str, Decimal] = {}
    for t in sorted(trades, key=lambda t: (t.time, t.symbol, t.id)):
        base, quote = markets[t.symbol]
        pos = positions.get(t.symbol)
        if pos is None:
            pos = positions[t.symbol] = MarketPosition(t.symbol, base, quote)
        fee_quote = ZERO  # a third-asset fee, valued in the quote
        fee = t.commission
        if fee and t.commission_asset not in (base, quote):
            v = prices.value(fee, t.commission_asset, quote)
            if v is None:
                unvalued_fees[t.commission_asset] = unvalued_fees.get(t.commission_asset, ZERO) + fee
            else:
                fee_quote = v
        if t.is_buyer:
            got = t.qty - (fee if t.commission_asset == base else ZERO)
            paid = t.quote_qty + (fee if t.commission_asset == quote else ZERO) + fee_quote
            pos.qty += got
            pos.cost += paid
            pos.bought += t.qty
            pos.fees_in_quote += paid - t.quote_qty + (fee * t.price if t.commission_asset == base else ZERO)
        else:
            out = t.qty + (fee if t.commission_asset == base else ZERO)
            proceeds = t.quote_qty - (fee if t.commission_asset == quote else ZERO) - fee_quote
            pos.sold += t.qty
            pos.fees_in_quote += t.quote_qty - proceeds + (fee * t.price if t.commission_asset == base else ZERO)
            known = min(out, pos.qty)
            if known < out:
                pos.untracked_sold += out - known
                # The untracked part's proceeds realize nothing: its cost is unknown.
                proceeds = proceeds * known / out if out else ZERO
            basis = pos.cost * known / pos.qty if pos.qty else ZERO
            pos.realized += proceeds - basis
            pos.qty -= known
            pos.cost -= basis
    for sym, pos in positions.items():
        pos.last_price = last.get(sym)
    return _report(positions, prices, valuation, unvalued_fees)


def _report(positions: dict[str, MarketPosition], prices: Prices, valuation: str,
            unvalued_fees: dict[str, Decimal]) -> PnlReport:
    realized = unrealized = ZERO
    unvalued: list[str] = []
    by_asset: dict[str, list[Decimal | None]] = {}
    for sym, pos in sorted(positions.items()):
        rate = prices.rate(pos.quote, valuation)
        if rate is None:
            unvalued.append(sym)
            continue
        r = pos.realized * rate
        u = pos.unrealized * rate if pos.unrealized is not None else None
        realized += r
        unrealized += u or ZERO
        acc = by_asset.setdefault(pos.base, [ZERO, ZERO, ZERO, ZERO])
        acc[0] = (acc[0] or ZERO) + pos.qty
        acc[1] = (acc[1] or ZERO) + pos.cost * rate
        acc[2] = (acc[2] or ZERO) + r
        acc[3] = None if (u is None or acc[3] is None) else acc[3] + u
    assets = {a: AssetPosition(a, q, (c / q) if q else None, r, u)  # type: ignore[operator]
              for a, (q, c, r, u) in sorted(by_asset.items())}
    return PnlReport(valuation, positions, assets, realized, unrealized, unvalued, unvalued_fees)


class SessionPnl:
    """P&L since a start snapshot (the app's launch): total now minus total then."""

    def __init__(self, start: PnlReport) -> None:
        self.start_total = start.total
        self.valuation = start.valuation

    def since_start(self, now: PnlReport) -> Decimal:
        if now.valuation != self.valuation:
            raise ValueError(f"valued in {now.valuation}, the session started in {self.valuation}")
        return now.total - self.start_total
