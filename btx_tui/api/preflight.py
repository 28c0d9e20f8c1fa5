"""Pre-flight checks: round and validate an order locally, before any request is sent.

The exchange would reject a bad order anyway (-1013, -2010), but a trader deserves to see
*which* field is wrong and the rounded values before pressing "send". Everything here is pure
(no I/O): rules come from ``exchangeInfo`` (:class:`SymbolRules`), balances from ``account``.

Rounding modes are explicit and conservative: a price moves toward the passive side (BUY
down, SELL up — never more aggressive than asked), a quantity only ever goes down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, localcontext
from types import MappingProxyType

from .models import Frozen, SymbolInfo
from .models_trading import CommissionRates, OrderSide, OrderType, TimeInForce
from .orders import OrderRequest

__all__ = [
    "DEFAULT_COMMISSION_RATE",
    "PreflightResult",
    "Problem",
    "SymbolRules",
    "check_order",
    "human",
    "round_price",
    "round_quantity",
    "snap_to_step",
]

#: 0.1 %, the contract's maker and taker rate, used when the account does not say.
DEFAULT_COMMISSION_RATE = Decimal("0.001")
_ZERO = Decimal(0)
_PREC = 60  # enough digits for 20+20-digit amounts and their products


def human(value: Decimal) -> str:
    """A Decimal for people: no exponent, no trailing zeros (``0.00001``, ``100``)."""
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def snap_to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """``value`` rounded to a multiple of ``step`` with ``rounding``; unchanged if step <= 0."""
    if step <= 0:
        return value
    with localcontext() as ctx:
        ctx.prec = _PREC
        units = (value / step).to_integral_value(rounding=rounding)
        result = units * step
        # Present it with the step's number of decimals (not more), never in exponent form.
        exponent = min(step.normalize().as_tuple().exponent, 0)  # type: ignore[arg-type]
        return result.quantize(Decimal(1).scaleb(exponent))


def round_price(price: Decimal, tick_size: Decimal, side: OrderSide | str) -> Decimal:
    """Round to the tick toward the passive side: BUY down, SELL up."""
    rounding = ROUND_FLOOR if OrderSide(side) is OrderSide.BUY else ROUND_CEILING
    return snap_to_step(price, tick_size, rounding)


def round_quantity(quantity: Decimal, step_size: Decimal) -> Decimal:
    """Round a quantity down to the step (never sell or buy more than asked)."""
    return snap_to_step(quantity, step_size, ROUND_DOWN)


class SymbolRules(Frozen):
    """The trading rules of one symbol, flattened from ``exchangeInfo`` filters.

    A zero bound means "no bound", as in the exchange's filters.
    """

    symbol: str
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    order_types: tuple[str, ...] = ()
    quote_order_qty_market_allowed: bool = True
    quote_precision: int = 8
    tick_size: Decimal = _ZERO
    min_price: Decimal = _ZERO
    max_price: Decimal = _ZERO
    step_size: Decimal = _ZERO
    min_qty: Decimal = _ZERO
    max_qty: Decimal = _ZERO
    market_step_size: Decimal | None = None
    market_min_qty: Decimal | None = None
    market_max_qty: Decimal | None = None
    min_notional: Decimal = _ZERO
    apply_min_to_market: bool = True
    max_notional: Decimal | None = None
    apply_max_to_market: bool = False
    max_num_orders: int | None = None

    @classmethod
    def from_symbol_info(cls, info: SymbolInfo) -> SymbolRules:
        pf, lot, mlot, notional, mno = (info.price_filter, info.lot_size, info.market_lot_size,
                                        info.notional, info.max_num_orders)
        return cls(
            symbol=info.symbol, base_asset=info.base_asset, quote_asset=info.quote_asset,
            status=info.status, order_types=info.order_types,
            quote_order_qty_market_allowed=info.quote_order_qty_market_allowed,
            quote_precision=info.quote_asset_precision,
            tick_size=pf.tick_size if pf else _ZERO, min_price=pf.min_price if pf else _ZERO,
            max_price=pf.max_price if pf else _ZERO,
            step_size=lot.step_size if lot else _ZERO, min_qty=lot.min_qty if lot else _ZERO,
            max_qty=lot.max_qty if lot else _ZERO,
            market_step_size=mlot.step_size if mlot else None,
            market_min_qty=mlot.min_qty if mlot else None,
            market_max_qty=mlot.max_qty if mlot else None,
            min_notional=notional.min_notional if notional else _ZERO,
            apply_min_to_market=notional.apply_min_to_market if notional else True,
            max_notional=notional.max_notional if notional else None,
            apply_max_to_market=notional.apply_max_to_market if notional else False,
            max_num_orders=mno.max_num_orders if mno else None,
        )

    def lot(self, order_type: OrderType) -> tuple[Decimal, Decimal, Decimal]:
        """(step, min, max) for this order type: MARKET_LOT_SIZE for MARKET when it is set."""
        if order_type is OrderType.MARKET and self.market_step_size is not None:
            step = self.market_step_size if self.market_step_size > 0 else self.step_size
            return (step, self.market_min_qty or self.min_qty, self.market_max_qty or self.max_qty)
        return self.step_size, self.min_qty, self.max_qty


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the order cannot go, tagged with the form field to highlight."""

    field: str
    message: str

    def __iter__(self):  # lets callers unpack (field, message)
        return iter((self.field, self.message))


@dataclass(frozen=True, slots=True)
class PreflightResult:
    """The rounded order, its estimated cost, and every problem found.

    Attributes:
        problems: empty when the order may be sent.
        price / quantity / quote_order_qty: the rounded values that would be sent.
        price_adjusted / quantity_adjusted: rounding changed what the user typed.
        notional: estimated order value in the quote asset (None when unknowable).
        commission / commission_asset: estimated fee, charged in the asset received.
        balances_after: free balances after a complete fill at the estimated price.
    """

    symbol: str
    side: OrderSide
    type: OrderType
    problems: tuple[Problem, ...]
    price: Decimal | None = None
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    time_in_force: TimeInForce | None = None
    price_adjusted: bool = False
    quantity_adjusted: bool = False
    notional: Decimal | None = None
    commission: Decimal | None = None
    commission_asset: str | None = None
    balances_after: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_for(self, field_name: str) -> tuple[str, ...]:
        return tuple(p.message for p in self.problems if p.field == field_name)

    def to_request(self, client_order_id: str | None = None) -> OrderRequest:
        """The :class:`OrderRequest` to send; ValueError if there are problems."""
        if self.problems:
            raise ValueError("order has pre-flight problems: " + "; ".join(p.message for p in self.problems))
        extra = {"client_order_id": client_order_id} if client_order_id else {}
        return OrderRequest(symbol=self.symbol, side=self.side, type=self.type, quantity=self.quantity,
                            price=self.price, quote_order_qty=self.quote_order_qty,
                            time_in_force=self.time_in_force, **extra)


def _rate(rates: CommissionRates | Decimal | None, order_type: OrderType) -> Decimal:
    if rates is None:
        return DEFAULT_COMMISSION_RATE
    if isinstance(rates, Decimal):
        return rates
    if order_type is OrderType.MARKET:
        return rates.taker
    if order_type is OrderType.LIMIT_MAKER:
        return rates.maker
    return max(rates.maker, rates.taker)  # a LIMIT may take or make: assume the dearer


def check_order(  # noqa: C901 - one linear list of checks reads better than many helpers
    rules: SymbolRules,
    *,
    side: OrderSide | str,
    type: OrderType | str,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    quote_order_qty: Decimal | None = None,
    time_in_force: TimeInForce | str | None = None,
    free_balances: Mapping[str, Decimal] | None = None,
    reference_price: Decimal | None = None,
    commission_rates: CommissionRates | Decimal | None = None,
    open_orders: int | None = None,
) -> PreflightResult:
    """Round and check an order against the symbol's rules and the free balances.

    ``reference_price`` (best opposite price or avgPrice) lets MARKET orders be checked for
    notional and balance; without it those checks are skipped. ``free_balances`` None skips
    the balance check; ``open_orders`` (count on this symbol) enables MAX_NUM_ORDERS.
    """
    side, otype = OrderSide(side), OrderType(type)
    tif = TimeInForce(time_in_force) if time_in_force else (TimeInForce.GTC if otype is OrderType.LIMIT else None)
    base, quote = rules.base_asset, rules.quote_asset
    problems: list[Problem] = []
    add = lambda f, m: problems.append(Problem(f, m))  # noqa: E731

    if rules.status != "TRADING":
        add("symbol", f"{rules.symbol} is not trading now (status {rules.status})")
    if rules.order_types and otype.value not in rules.order_types:
        add("type", f"{otype.value} orders are not allowed on {rules.symbol}")
    if otype is not OrderType.LIMIT and time_in_force:
        add("time_in_force", f"Time in force does not apply to {otype.value} orders")
        tif = None

    # --- price ---
    price_r: Decimal | None = None
    if otype in (OrderType.LIMIT, OrderType.LIMIT_MAKER):
        if price is None or price <= 0:
            add("price", "Enter a price above zero")
        else:
            price_r = round_price(price, rules.tick_size, side)
            floor = rules.min_price if rules.min_price > 0 else rules.tick_size
            if price_r <= 0 or (rules.min_price > 0 and price_r < rules.min_price):
                add("price", f"Below the minimum price {human(floor)} {quote}")
            elif rules.max_price > 0 and price_r > rules.max_price:
                add("price", f"Above the maximum price {human(rules.max_price)} {quote}")
    elif price is not None:
        add("price", "A market order takes no price")

    # --- quantity / quote amount ---
    step, min_qty, max_qty = rules.lot(otype)
    qty_r: Decimal | None = None
    quote_r: Decimal | None = None
    if otype is OrderType.MARKET and quote_order_qty is not None:
        if quantity is not None:
            add("quantity", "Give either a quantity or an amount to spend, not both")
        if not rules.quote_order_qty_market_allowed:
            add("quote_order_qty", f"{rules.symbol} does not accept market orders by {quote} amount")
        if quote_order_qty <= 0:
            add("quote_order_qty", f"Enter a {quote} amount above zero")
        else:
            quote_r = snap_to_step(quote_order_qty, Decimal(1).scaleb(-rules.quote_precision), ROUND_DOWN)
    elif quantity is None or quantity <= 0:
        add("quantity", "Enter a quantity above zero")
    else:
        qty_r = round_quantity(quantity, step)
        if qty_r <= 0 or (min_qty > 0 and qty_r < min_qty):
            add("quantity", f"Below the minimum quantity {human(min_qty if min_qty > 0 else step)} {base}")
        elif max_qty > 0 and qty_r > max_qty:
            add("quantity", f"Above the maximum quantity {human(max_qty)} {base}")

    # --- estimated execution price and value ---
    with localcontext() as ctx:
        ctx.prec = _PREC
        est_price = price_r if price_r is not None else reference_price
        notional: Decimal | None = None
        est_qty: Decimal | None = qty_r
        if quote_r is not None:
            notional = quote_r
            if reference_price:
                est_qty = quote_r / reference_price
        elif qty_r is not None and est_price is not None:
            notional = qty_r * est_price

        market = otype is OrderType.MARKET
        if notional is not None and qty_r != 0:
            if rules.min_notional > 0 and (not market or rules.apply_min_to_market) and notional < rules.min_notional:
                add("notional", f"Order value {human(notional)} {quote} is below the minimum "
                                f"{human(rules.min_notional)} {quote}")
            if (rules.max_notional and rules.max_notional > 0 and (not market or rules.apply_max_to_market)
                    and notional > rules.max_notional):
                add("notional", f"Order value {human(notional)} {quote} is above the maximum "
                                f"{human(rules.max_notional)} {quote}")

        if (open_orders is not None and rules.max_num_orders is not None and not market
                and open_orders >= rules.max_num_orders):
            add("symbol", f"Already {open_orders} open orders on {rules.symbol} (maximum {rules.max_num_orders})")

        # --- balance, commission, balances after a full fill ---
        rate = _rate(commission_rates, otype)
        commission: Decimal | None = None
        commission_asset = base if side is OrderSide.BUY else quote
        after: dict[str, Decimal] = {}
        if side is OrderSide.BUY:
            need, need_asset = notional, quote
            if est_qty is not None:
                commission = est_qty * rate
        else:
            need, need_asset = est_qty, base
            if notional is not None:
                commission = notional * rate
        if free_balances is not None:
            have_base = free_balances.get(base, _ZERO)
            have_quote = free_balances.get(quote, _ZERO)
            have = have_quote if need_asset == quote else have_base
            if need is not None and need > have:
                add("balance", f"Not enough {need_asset}: needs {human(need)}, free {human(have)}")
            if notional is not None and est_qty is not None and commission is not None:
                if side is OrderSide.BUY:
                    after = {quote: have_quote - notional, base: have_base + est_qty - commission}
                else:
                    after = {base: have_base - est_qty, quote: have_quote + notional - commission}

    return PreflightResult(
        symbol=rules.symbol, side=side, type=otype, problems=tuple(problems),
        price=price_r, quantity=qty_r, quote_order_qty=quote_r, time_in_force=tif,
        price_adjusted=price_r is not None and price is not None and price_r != price,
        quantity_adjusted=qty_r is not None and quantity is not None and qty_r != quantity,
        notional=notional, commission=commission, commission_asset=commission_asset,
        balances_after=MappingProxyType(after),
    )
