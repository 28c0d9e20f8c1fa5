"""The order form's brain and its preview: parse what was typed, pre-flight it, show the result.

Kept apart from the screen so the rules — strict Decimal parsing, which problem goes next to
which field, quick sizes, the confirmation's wording — are plain functions that can be tested
without a terminal. :class:`OrderPreview` only renders an :class:`Evaluation`.

Money never passes through ``float``: every amount is parsed with ``Decimal`` from a strictly
checked string (no exponent, no sign, no grouping commas — ``1,5`` is 1.5 in half the world and
15 in the other half, so it is refused rather than guessed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from types import MappingProxyType

from textual.content import Content
from textual.widgets import Static

from btx_tui.api.models_trading import CommissionRates, OrderSide, OrderType, TimeInForce
from btx_tui.api.preflight import PreflightResult, SymbolRules, check_order, human, round_quantity, snap_to_step
from btx_tui.tui.formatting import decimals_of, fmt_balance, fmt_fixed

FIELDS = ("price", "quantity", "quote_order_qty")
"""Fields with an input of their own; every other problem is shown in the preview."""

TIF_MEANING = {TimeInForce.GTC: "good till canceled", TimeInForce.IOC: "immediate or cancel",
               TimeInForce.FOK: "fill or kill"}

_NUMBER = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
"""Thousands separators as the panes print them: ``1,000.5`` (every group of three digits)."""
_MAX_DIGITS = 32


def parse_amount(text: str, what: str) -> tuple[Decimal | None, str | None]:
    """``(value, None)`` for a plain positive-looking decimal, else ``(None, why)``.

    Accepted: ``12``, ``12.5``, ``.5``, ``12.``, and thousands separators as the panes print
    them (``1,000.5``, so a price copied from the book pastes). Refused with a reason: empty,
    letters, a sign, an exponent (``1e5``), a comma that is not a thousands separator (``1,5``:
    a decimal comma would be read a thousand times too large), more than 32 digits.
    """
    t = text.strip()
    if not t:
        return None, f"Enter {what}"
    if t.startswith(("-", "+")):
        return None, "Must be positive: type the number without a sign"
    if "," in t:
        if not _GROUPED.match(t):
            return None, "Use a dot for decimals; commas only between groups of three digits"
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        if re.fullmatch(r"[\d.]+[eE][+-]?\d+", t):
            return None, "Write the number in full, without an exponent"
        return None, f"Not a number: {t[:16]!r}"
    if sum(c.isdigit() for c in t) > _MAX_DIGITS:
        return None, f"Too many digits (at most {_MAX_DIGITS})"
    return Decimal(t), None


@dataclass(frozen=True, slots=True)
class MarketContext:
    """What the form knows about the market and the account right now."""

    rules: SymbolRules
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    last_price: Decimal | None = None
    free: Mapping[str, Decimal] | None = None
    """Free balances by asset; None until the account feed has answered."""
    commission_rates: CommissionRates | None = None
    open_orders: int | None = None

    def best(self, side: OrderSide) -> Decimal | None:
        """The price a new order would meet: best ask to buy, best bid to sell."""
        return self.best_ask if side is OrderSide.BUY else self.best_bid

    def own_best(self, side: OrderSide) -> Decimal | None:
        """The best price on the order's own side of the book (a maker's price): best bid to
        buy, best ask to sell."""
        return self.best_bid if side is OrderSide.BUY else self.best_ask

    def crosses(self, side: OrderSide, price: Decimal) -> bool:
        """True when a limit order at ``price`` would trade at once against the book (a taker)."""
        best = self.best(side)
        if best is None:
            return False
        return price >= best if side is OrderSide.BUY else price <= best

    def reference(self, side: OrderSide) -> Decimal | None:
        """Estimated execution price of a market order: best opposite price, else last price."""
        return self.best(side) or self.last_price


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """The form's fields exactly as typed."""

    side: OrderSide
    type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    price: str = ""
    quantity: str = ""
    quote_amount: str = ""
    by_quote: bool = False
    """MARKET BUY sized by the amount of quote asset to spend (``quoteOrderQty``)."""

    @property
    def uses_quote(self) -> bool:
        return self.by_quote and self.type is OrderType.MARKET and self.side is OrderSide.BUY

    @property
    def has_price(self) -> bool:
        return self.type is not OrderType.MARKET

    @property
    def has_tif(self) -> bool:
        return self.type is OrderType.LIMIT


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A draft after parsing and pre-flight: problems by field, and the rounded order."""

    draft: OrderDraft
    result: PreflightResult
    errors: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """field → messages; parse errors replace the pre-flight's message for the same field."""
    typed: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    """The parsed (unrounded) values, to say when rounding changed them."""

    @property
    def ok(self) -> bool:
        return not any(self.errors.values())

    def messages(self, name: str) -> tuple[str, ...]:
        return self.errors.get(name, ())


def evaluate(draft: OrderDraft, ctx: MarketContext) -> Evaluation:
    """Parse the draft strictly, then round and check it with :func:`check_order`."""
    parse_errors: dict[str, str] = {}
    typed: dict[str, Decimal] = {}

    def take(name: str, text: str, what: str) -> Decimal | None:
        value, error = parse_amount(text, what)
        if error:
            parse_errors[name] = error
        elif value is not None:
            typed[name] = value
        return value

    price = take("price", draft.price, "a price") if draft.has_price else None
    quantity = quote = None
    if draft.uses_quote:
        quote = take("quote_order_qty", draft.quote_amount, f"an amount of {ctx.rules.quote_asset}")
    else:
        quantity = take("quantity", draft.quantity, "a quantity")
    result = check_order(
        ctx.rules, side=draft.side, type=draft.type, quantity=quantity, price=price,
        quote_order_qty=quote if draft.uses_quote else None,
        time_in_force=draft.time_in_force if draft.has_tif else None,
        free_balances=ctx.free, reference_price=ctx.reference(draft.side),
        commission_rates=ctx.commission_rates, open_orders=ctx.open_orders,
    )
    errors: dict[str, list[str]] = {}
    for problem in result.problems:
        if problem.field in parse_errors:
            continue  # "Enter a quantity above zero" says less than "Not a number: 'abc'"
        errors.setdefault(problem.field, []).append(problem.message)
    for name, message in parse_errors.items():
        errors.setdefault(name, []).insert(0, message)
    return Evaluation(draft, result, MappingProxyType({k: tuple(v) for k, v in errors.items()}),
                      MappingProxyType(typed))


def quick_size(draft: OrderDraft, ctx: MarketContext, percent: int) -> tuple[str, str] | str:
    """``(field, text)`` sizing the order at ``percent`` % of the free balance, or why not.

    BUY: free quote / price (the typed limit price, or the best ask for MARKET); SELL: free
    base. Always rounded down to the step, so 100 % never asks for more than is free.
    """
    rules = ctx.rules
    if ctx.free is None:
        return "Balances are not loaded yet"
    share = Decimal(percent) / 100
    if draft.uses_quote:
        amount = snap_to_step(ctx.free.get(rules.quote_asset, Decimal(0)) * share,
                              Decimal(1).scaleb(-rules.quote_precision), ROUND_DOWN)
        return "quote_order_qty", human(amount)
    step = rules.lot(draft.type)[0]
    if draft.side is OrderSide.SELL:
        qty = round_quantity(ctx.free.get(rules.base_asset, Decimal(0)) * share, step)
        return "quantity", human(qty)
    if draft.has_price:
        price, error = parse_amount(draft.price, "a price first")
        if error or price is None or price <= 0:
            return "Enter a valid price first: a buy is sized from it"
        price = snap_to_step(price, rules.tick_size, "ROUND_FLOOR")
    else:
        price = ctx.reference(OrderSide.BUY)
    if not price:
        return "No price to size from: the book is empty"
    qty = round_quantity(ctx.free.get(rules.quote_asset, Decimal(0)) * share / price, step)
    return "quantity", human(qty)


# -- formatting -----------------------------------------------------------------------------


def fmt_on_grid(value: Decimal, step: Decimal) -> str:
    """``value`` with the step's decimals and thousands separators — exact, never rounded."""
    if step > 0:
        decimals = decimals_of(step)
        if value == value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN):
            return fmt_fixed(value, decimals)
    return grouped(value)


def grouped(value: Decimal) -> str:
    """Exact, trailing zeros dropped, thousands separated: ``1,234.5``."""
    text = human(value)
    whole, dot, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-') or 0):,}{dot}{frac}"


def approx(value: Decimal, decimals: int = 8) -> str:
    """An estimate for people: at most ``decimals`` decimals (a division can yield 60)."""
    if value != value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN):
        value = value.quantize(Decimal(1).scaleb(-decimals))
    return grouped(value)


def describe_price(ev: Evaluation, ctx: MarketContext) -> str:
    r = ev.result
    if r.price is not None:
        return f"{fmt_on_grid(r.price, ctx.rules.tick_size)} {ctx.rules.quote_asset}"
    ref = ctx.reference(r.side)
    return "market" + (f" (≈ {fmt_on_grid(ref, ctx.rules.tick_size)} {ctx.rules.quote_asset} now)" if ref else "")


def confirmation_text(ev: Evaluation, ctx: MarketContext) -> tuple[str, str]:
    """``(body, details)`` of the confirmation: exactly the order that will be sent."""
    r, rules = ev.result, ctx.rules
    step = rules.lot(r.type)[0]
    if r.quote_order_qty is not None:
        what = f"{r.side.value} {rules.base_asset} for {grouped(r.quote_order_qty)} {rules.quote_asset} on {r.symbol}"
    else:
        assert r.quantity is not None
        what = f"{r.side.value} {fmt_on_grid(r.quantity, step)} {rules.base_asset} on {r.symbol}"
    if r.type is OrderType.MARKET:
        ref = ctx.reference(r.side)
        how = "MARKET at the best available price" + (
            f" (≈ {fmt_on_grid(ref, rules.tick_size)} {rules.quote_asset} now)" if ref else "")
    else:
        how = f"{r.type.value} @ {describe_price(ev, ctx)}"
        if r.time_in_force is not None:
            how += f", {r.time_in_force.value} ({TIF_MEANING[r.time_in_force]})"
        if r.type is OrderType.LIMIT_MAKER:
            how += " (post-only: rejected if it would trade at once)"
    about = "≈ " if r.type is OrderType.MARKET and r.quote_order_qty is None else ""
    total = (f"Total {about}{(approx if about else grouped)(r.notional)} {rules.quote_asset}"
             if r.notional is not None else "Total unknown")
    fee = (f"Commission ≈ {approx(r.commission)} {r.commission_asset} (estimated)"
           if r.commission is not None else "Commission: estimated after the fill")
    return f"{what}\n{how}", f"{total}\n{fee}"


class OrderPreview(Static):
    """What the order would be: rounded price and quantity, total, commission, balances after.

    Problems that belong to no input (order value, balance, market) are shown on the line
    they concern, so nothing is sent before the trader has seen why it would fail.
    """

    DEFAULT_CSS = """
    OrderPreview {
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    """

    LABEL_WIDTH = 12

    def show(self, ev: Evaluation | None, ctx: MarketContext | None) -> None:
        """Render ``ev``; ``None`` shows an empty preview."""
        if ev is None or ctx is None:
            self.update(Content.styled("No preview yet", "$text-muted"))
            return
        self.update(self.render_evaluation(ev, ctx))

    def _line(self, label: str, *parts: str | tuple[str, str]) -> Content:
        return Content.assemble((label.ljust(self.LABEL_WIDTH), "$text-muted"), *parts)

    def render_evaluation(self, ev: Evaluation, ctx: MarketContext) -> Content:
        r, rules, draft = ev.result, ctx.rules, ev.draft
        step = rules.lot(r.type)[0]
        lines: list[Content] = []
        note = "$warning"
        # price
        if r.price is not None:
            extra = ("  rounded " + ("down" if r.side is OrderSide.BUY else "up")
                     + f" from {human(ev.typed['price'])}", note) if r.price_adjusted else ""
            lines.append(self._line("Price", describe_price(ev, ctx), extra))
        elif not draft.has_price:
            lines.append(self._line("Price", describe_price(ev, ctx)))
        else:
            lines.append(self._line("Price", ("—", "$text-muted")))
        # size
        if r.quote_order_qty is not None:
            typed = ev.typed.get("quote_order_qty")
            extra = (f"  rounded down from {human(typed)}", note) if typed is not None and typed != r.quote_order_qty else ""
            lines.append(self._line("Spend", f"{grouped(r.quote_order_qty)} {rules.quote_asset}", extra))
        elif r.quantity is not None:
            extra = (f"  rounded down from {human(ev.typed['quantity'])}", note) if r.quantity_adjusted else ""
            lines.append(self._line("Quantity", f"{fmt_on_grid(r.quantity, step)} {rules.base_asset}", extra))
        else:
            lines.append(self._line("Spend" if draft.uses_quote else "Quantity", ("—", "$text-muted")))
        # total and fee
        about = "≈ " if r.type is OrderType.MARKET and r.quote_order_qty is None else ""
        total = (f"{about}{(approx if about else grouped)(r.notional)} {rules.quote_asset}"
                 if r.notional is not None else "—")
        lines.append(self._line("Total", total, *self._problems(ev, "notional")))
        fee = f"≈ {approx(r.commission)} {r.commission_asset}" if r.commission is not None else "—"
        taker = (r.type is OrderType.LIMIT and r.price is not None and ctx.crosses(r.side, r.price))
        lines.append(self._line("Commission", fee, ("  takes liquidity: taker fee", note) if taker else ""))
        # balances after a full fill
        if ctx.free is None:
            lines.append(self._line("After", ("balances not loaded yet", "$text-muted")))
        elif r.balances_after:
            parts: list[str | tuple[str, str]] = []
            for asset in (rules.base_asset, rules.quote_asset):
                if asset in r.balances_after:
                    before, after = ctx.free.get(asset, Decimal(0)), r.balances_after[asset]
                    parts.append(f"{asset} {fmt_balance(before)} → ")
                    parts.append((fmt_balance(after), "$error" if after < 0 else "bold"))
                    parts.append("   ")
            lines.append(self._line("After", *parts))
        else:
            free = "   ".join(f"{a} {fmt_balance(ctx.free.get(a, Decimal(0)))}"
                               for a in (rules.base_asset, rules.quote_asset))
            lines.append(self._line("Free", free))
        for message in ev.messages("balance"):
            lines.append(self._line("", ("✗ " + message, "$error")))
        for name in ("symbol", "type", "time_in_force"):
            for message in ev.messages(name):
                lines.append(self._line("", ("✗ " + message, "$error")))
        return Content("\n").join(lines)

    @staticmethod
    def _problems(ev: Evaluation, name: str) -> list[tuple[str, str]]:
        return [("  ✗ " + m, "$error") for m in ev.messages(name)]
