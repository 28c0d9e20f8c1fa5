"""Pre-flight checks: round and validate an order locally, before any request is sent.

The exchange would reject a bad order anyway (-1013, -2010), but a trader deserves to see
*which* field is wrong and the rounded values before pressing "send". Everything here is pure
(no I/O): rules come from ``exchangeInfo`` (:class:`SymbolRules`), balances from ``account``.

Rounding modes are explicit and conservative: a price moves toward the passive side (BUY
down, SELL up — never more aggressive than asked), a quantity only ever goes down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, localcontext
from enum import StrEnum
from types import MappingProxyType

from .models import Frozen, SymbolInfo
from .models_trading import CommissionRates, OrderSide, OrderType, TimeInForce
from .order_lists import ListLeg, OcoRequest
from .orders import OrderRequest

__all__ = [
    "DEFAULT_COMMISSION_RATE",
    "MARKET_BUY_STOP_SLACK",
    "LegInput",
    "OcoPreflight",
    "PreflightResult",
    "Problem",
    "SymbolRules",
    "Trigger",
    "check_oco",
    "check_order",
    "check_stop_order",
    "describe_stop",
    "human",
    "round_price",
    "round_quantity",
    "round_stop_price",
    "snap_to_step",
    "trigger_of",
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
    oco_allowed: bool = False
    oto_allowed: bool = False
    allow_trailing_stop: bool = False
    cancel_replace_allowed: bool = False
    amend_allowed: bool = False
    trailing_above: tuple[int, int] | None = None
    """(min, max) bps for orders triggering on a rise (STOP_LOSS BUY, TAKE_PROFIT SELL)."""
    trailing_below: tuple[int, int] | None = None
    """(min, max) bps for orders triggering on a fall (STOP_LOSS SELL, TAKE_PROFIT BUY)."""

    @classmethod
    def from_symbol_info(cls, info: SymbolInfo) -> SymbolRules:
        pf, lot, mlot, notional, mno = (info.price_filter, info.lot_size, info.market_lot_size,
                                        info.notional, info.max_num_orders)
        td = info.trailing_delta
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
            oco_allowed=info.oco_allowed, oto_allowed=info.oto_allowed,
            allow_trailing_stop=info.allow_trailing_stop, cancel_replace_allowed=info.cancel_replace_allowed,
            amend_allowed=info.amend_allowed,
            trailing_above=(td.min_trailing_above_delta, td.max_trailing_above_delta) if td else None,
            trailing_below=(td.min_trailing_below_delta, td.max_trailing_below_delta) if td else None,
        )

    def lot(self, order_type: OrderType) -> tuple[Decimal, Decimal, Decimal]:
        """(step, min, max) for this order type: MARKET_LOT_SIZE for MARKET when it is set."""
        if order_type is OrderType.MARKET and self.market_step_size is not None:
            step = self.market_step_size if self.market_step_size > 0 else self.step_size
            return (step, self.market_min_qty or self.min_qty, self.market_max_qty or self.max_qty)
        return self.step_size, self.min_qty, self.max_qty


class Trigger(StrEnum):
    """When a stop order fires: the last price at or ``ABOVE`` its stop, or at or ``BELOW``."""

    ABOVE = "above"
    BELOW = "below"


def trigger_of(side: OrderSide | str, type: OrderType | str) -> Trigger:
    """The standard's rule: STOP_LOSS BUY and TAKE_PROFIT SELL fire on a rise (ABOVE);
    STOP_LOSS SELL and TAKE_PROFIT BUY on a fall (BELOW)."""
    stop_loss = OrderType(type).value.startswith("STOP_LOSS")
    buy = OrderSide(side) is OrderSide.BUY
    return Trigger.ABOVE if stop_loss == buy else Trigger.BELOW


def round_stop_price(stop_price: Decimal, tick_size: Decimal, side: OrderSide | str,
                     type: OrderType | str) -> Decimal:
    """Round a stop price to the tick so it never fires earlier than asked (the passive side):
    up for a stop that fires on a rise, down for one that fires on a fall."""
    rounding = ROUND_CEILING if trigger_of(side, type) is Trigger.ABOVE else ROUND_FLOOR
    return snap_to_step(stop_price, tick_size, rounding)


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
    stop_price: Decimal | None = None
    """The rounded stop price of a stop / take-profit order."""
    stop_price_adjusted: bool = False
    trailing_delta: int | None = None
    trigger: Trigger | None = None
    """Which way the last price must move to trigger (stop types only)."""

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
                            time_in_force=self.time_in_force, stop_price=self.stop_price,
                            trailing_delta=self.trailing_delta, **extra)


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


# --- stop / take-profit orders ------------------------------------------------------------------

MARKET_BUY_STOP_SLACK = Decimal("1.05")
"""An untriggered market BUY stop locks quantity × reference × (1 + trailing delta) × this:
it may fill above its stop (docs/exchange-internals.md, "Untriggered orders")."""

_STOP_TYPES = (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT)
_LIMIT_STOPS = (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
_BPS = 10_000


def _grouped(value: Decimal) -> str:
    """``62,000`` / ``0.5``: a price or amount for a sentence (thousands grouped, no zeros)."""
    text = human(value)
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def _bps_text(bps: int) -> str:
    return f"{human(Decimal(bps) / 100)} % ({bps} bps)"


def _stop_problems(rules: SymbolRules, side: OrderSide, otype: OrderType, stop_price: Decimal | None,
                   trailing_delta: int | None, last_price: Decimal | None,
                   add) -> Decimal | None:  # noqa: ANN001 - the local ``add`` of the caller
    """Check the trigger fields; returns the rounded stop price."""
    quote = rules.quote_asset
    trigger = trigger_of(side, otype)
    stop_r: Decimal | None = None
    if stop_price is None and trailing_delta is None:
        add("stop_price", "Enter a stop price or a trailing delta")
    if stop_price is not None:
        if stop_price <= 0:
            add("stop_price", "Enter a stop price above zero")
        else:
            stop_r = round_stop_price(stop_price, rules.tick_size, side, otype)
            if stop_r <= 0 or (rules.min_price > 0 and stop_r < rules.min_price):
                floor = rules.min_price if rules.min_price > 0 else rules.tick_size
                add("stop_price", f"Below the minimum price {human(floor)} {quote}")
            elif rules.max_price > 0 and stop_r > rules.max_price:
                add("stop_price", f"Above the maximum price {human(rules.max_price)} {quote}")
            elif last_price is not None and (
                    (trigger is Trigger.ABOVE and last_price >= stop_r)
                    or (trigger is Trigger.BELOW and last_price <= stop_r)):
                where = "at or above" if trigger is Trigger.ABOVE else "at or below"
                add("stop_price", f"Would trigger immediately: the last price {_grouped(last_price)} is already "
                                  f"{where} the stop price {_grouped(stop_r)}")
    if trailing_delta is not None:
        if not rules.allow_trailing_stop:
            add("trailing_delta", f"{rules.symbol} does not allow trailing stops")
        bounds = rules.trailing_above if trigger is Trigger.ABOVE else rules.trailing_below
        if trailing_delta <= 0:
            add("trailing_delta", "Enter a trailing delta above zero")
        elif bounds is not None and not bounds[0] <= trailing_delta <= bounds[1]:
            add("trailing_delta", f"Trailing delta must be between {_bps_text(bounds[0])} and {_bps_text(bounds[1])}")
    return stop_r


def check_stop_order(  # noqa: C901 - one linear list of checks, like check_order
    rules: SymbolRules,
    *,
    side: OrderSide | str,
    type: OrderType | str,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    trailing_delta: int | None = None,
    time_in_force: TimeInForce | str | None = None,
    last_price: Decimal | None = None,
    free_balances: Mapping[str, Decimal] | None = None,
    commission_rates: CommissionRates | Decimal | None = None,
    open_orders: int | None = None,
) -> PreflightResult:
    """Round and check a STOP_LOSS / STOP_LOSS_LIMIT / TAKE_PROFIT / TAKE_PROFIT_LIMIT order.

    The same filters as :func:`check_order` (price, lot, notional — a market stop's notional at
    its stop price — MAX_NUM_ORDERS: untriggered orders count), plus: a stop price or trailing
    delta is required; the stop price is rounded so it never fires earlier than asked and must
    not be met by ``last_price`` already ("Would trigger immediately…"); the trailing delta
    must be allowed and within the ``TRAILING_DELTA`` filter; the balance must cover what the
    exchange locks from placement (a SELL its quantity, a limit BUY quantity × price, a market
    BUY quantity × stop × (1 + delta) × :data:`MARKET_BUY_STOP_SLACK`).

    Other order types go to :func:`check_order`, with a problem if a stop field is given.
    """
    side, otype = OrderSide(side), OrderType(type)
    if otype not in _STOP_TYPES:
        result = check_order(rules, side=side, type=otype, quantity=quantity, price=price,
                             time_in_force=time_in_force, free_balances=free_balances,
                             reference_price=last_price, commission_rates=commission_rates,
                             open_orders=open_orders)
        extra = [Problem(name, f"A {otype.value} order takes no {label}")
                 for name, label, value in (("stop_price", "stop price", stop_price),
                                            ("trailing_delta", "trailing delta", trailing_delta))
                 if value is not None]
        return replace(result, problems=(*result.problems, *extra)) if extra else result

    is_limit = otype in _LIMIT_STOPS
    problems: list[Problem] = []
    add = lambda f, m: problems.append(Problem(f, m))  # noqa: E731
    if rules.order_types and otype.value not in rules.order_types:
        add("type", f"{otype.value} orders are not allowed on {rules.symbol}")
    if not is_limit:
        if price is not None:
            add("price", f"A {otype.value} order takes no price (it trades at market once triggered)")
        if time_in_force:
            add("time_in_force", f"Time in force does not apply to {otype.value} orders")
    stop_r = _stop_problems(rules, side, otype, stop_price, trailing_delta, last_price, add)
    reference = stop_r if stop_r is not None else last_price
    # The shared filters, as the order works once triggered (LIMIT or MARKET); no type or
    # balance check there (done here with the stop's own rules).
    base = check_order(rules.model_copy(update={"order_types": ()}), side=side,
                       type=OrderType.LIMIT if is_limit else OrderType.MARKET, quantity=quantity,
                       price=price if is_limit else None,
                       time_in_force=(time_in_force or TimeInForce.GTC) if is_limit else None,
                       reference_price=reference, commission_rates=commission_rates)
    problems[:0] = base.problems
    if (open_orders is not None and rules.max_num_orders is not None
            and open_orders >= rules.max_num_orders):
        add("symbol", f"Already {open_orders} open orders on {rules.symbol} (maximum {rules.max_num_orders})")

    with localcontext() as ctx:
        ctx.prec = _PREC
        need: Decimal | None = None
        asset = rules.base_asset if side is OrderSide.SELL else rules.quote_asset
        if base.quantity is not None:
            if side is OrderSide.SELL:
                need = base.quantity
            elif is_limit and base.price is not None:
                need = base.quantity * base.price
            elif not is_limit and reference is not None:
                need = base.quantity * reference * MARKET_BUY_STOP_SLACK
                if trailing_delta:
                    need = need * (_BPS + trailing_delta) / _BPS
        if free_balances is not None and need is not None:
            have = free_balances.get(asset, _ZERO)
            if need > have:
                why = " (a market buy stop reserves 5 % above its stop price)" if (
                    side is OrderSide.BUY and not is_limit) else ""
                add("balance", f"Not enough {asset}: needs {human(need)}, free {human(have)}{why}")

    return replace(base, type=otype, problems=tuple(problems), stop_price=stop_r,
                   stop_price_adjusted=stop_r is not None and stop_price is not None and stop_r != stop_price,
                   trailing_delta=trailing_delta, trigger=trigger_of(side, otype),
                   time_in_force=base.time_in_force if is_limit else None, balances_after=MappingProxyType({}))


def describe_stop(result: PreflightResult, base_asset: str) -> str:
    """The order form's preview of a stop order, e.g. "sells 0.5 BTC at ≥ 62,000 if the last
    price falls to 62,100" or "buys 1 ETH at market if the last price rises 2 % (200 bps) from
    its lowest since placement"."""
    verb = "sells" if result.side is OrderSide.SELL else "buys"
    qty = _grouped(result.quantity) if result.quantity is not None else "?"
    if result.type in _LIMIT_STOPS and result.price is not None:
        at = f"at {'≥' if result.side is OrderSide.SELL else '≤'} {_grouped(result.price)}"
    else:
        at = "at market"
    rise = result.trigger is Trigger.ABOVE
    if result.stop_price is not None and not result.trailing_delta:
        when = f"if the last price {'rises' if rise else 'falls'} to {_grouped(result.stop_price)}"
    elif result.trailing_delta and result.stop_price is None:
        extreme = "lowest" if rise else "highest"
        when = (f"if the last price {'rises' if rise else 'falls'} {_bps_text(result.trailing_delta)} "
                f"from its {extreme} since placement")
    elif result.trailing_delta and result.stop_price is not None:
        when = (f"once the last price reaches {_grouped(result.stop_price)}, then "
                f"{'rises' if rise else 'falls'} {_bps_text(result.trailing_delta)} from its "
                f"{'lowest' if rise else 'highest'}")
    else:
        when = "when triggered"
    return f"{verb} {qty} {base_asset} {at} {when}"


# --- OCO ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LegInput:
    """One leg of an OCO as the form has it (not yet rounded)."""

    type: OrderType
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trailing_delta: int | None = None
    time_in_force: TimeInForce | None = None


@dataclass(frozen=True, slots=True)
class OcoPreflight:
    """The checked OCO: each leg's rounded result, and every problem (leg problems carry the
    field ``above.<field>`` / ``below.<field>``)."""

    symbol: str
    side: OrderSide
    quantity: Decimal | None
    above: PreflightResult
    below: PreflightResult
    problems: tuple[Problem, ...]
    lock: Decimal | None = None
    """What the list locks (ONE lock for both legs, the larger need), in ``lock_asset``."""
    lock_asset: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_for(self, field_name: str) -> tuple[str, ...]:
        return tuple(p.message for p in self.problems if p.field == field_name)

    def to_request(self, list_client_order_id: str | None = None) -> OcoRequest:
        """The :class:`~btx_tui.api.order_lists.OcoRequest` to send; ValueError if there are problems."""
        if self.problems or self.quantity is None:
            raise ValueError("OCO has pre-flight problems: " + "; ".join(p.message for p in self.problems))

        def leg(r: PreflightResult) -> ListLeg:
            return ListLeg(type=r.type, price=r.price, stop_price=r.stop_price, trailing_delta=r.trailing_delta,
                           time_in_force=r.time_in_force)

        extra = {"list_client_order_id": list_client_order_id} if list_client_order_id else {}
        return OcoRequest(symbol=self.symbol, side=self.side, quantity=self.quantity, above=leg(self.above),
                          below=leg(self.below), **extra)


_OCO_ABOVE = {OrderSide.SELL: (OrderType.LIMIT_MAKER, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT),
              OrderSide.BUY: (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)}
_OCO_BELOW = {OrderSide.SELL: (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT),
              OrderSide.BUY: (OrderType.LIMIT_MAKER, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT)}
_OCO_ROLE = {
    (OrderSide.SELL, "above"): "In a sell OCO the upper order is a limit-maker or take-profit",
    (OrderSide.SELL, "below"): "In a sell OCO the lower order is a stop-loss",
    (OrderSide.BUY, "above"): "In a buy OCO the upper order is a stop-loss",
    (OrderSide.BUY, "below"): "In a buy OCO the lower order is a limit-maker or take-profit",
}


def _oco_level(r: PreflightResult) -> tuple[str, Decimal | None]:
    """(field, price) a leg is compared by: a limit-maker's price, a stop's stop price."""
    if r.type is OrderType.LIMIT_MAKER:
        return "price", r.price
    return "stop_price", r.stop_price


def check_oco(
    rules: SymbolRules,
    *,
    side: OrderSide | str,
    quantity: Decimal | None,
    above: LegInput,
    below: LegInput,
    last_price: Decimal | None = None,
    free_balances: Mapping[str, Decimal] | None = None,
    commission_rates: CommissionRates | Decimal | None = None,
    open_orders: int | None = None,
) -> OcoPreflight:
    """Round and check an OCO: the leg types for the side (a SELL: limit-maker/take-profit above,
    stop-loss below; a BUY the reverse), each leg's filters, the price order
    above > last price > below (limit price for a limit-maker, stop price for a stop; a
    trailing leg without a stop price is not compared), room for two more open orders, and a
    balance covering ONE lock — the larger leg's need."""
    side = OrderSide(side)
    problems: list[Problem] = []
    add = lambda f, m: problems.append(Problem(f, m))  # noqa: E731
    if not rules.oco_allowed:
        add("type", f"OCO orders are not allowed on {rules.symbol}")
    results: dict[str, PreflightResult] = {}
    for name, leg, allowed in (("above", above, _OCO_ABOVE[side]), ("below", below, _OCO_BELOW[side])):
        otype = OrderType(leg.type)
        if otype not in allowed:
            add(f"{name}.type", _OCO_ROLE[(side, name)])
        r = check_stop_order(rules, side=side, type=otype, quantity=quantity, price=leg.price,
                             stop_price=leg.stop_price, trailing_delta=leg.trailing_delta,
                             time_in_force=leg.time_in_force, commission_rates=commission_rates)
        results[name] = r
        for p in r.problems:
            if p.field == "quantity" and name == "below" and results["above"].problems_for("quantity"):
                continue  # the same quantity: say it once
            add(p.field if p.field in ("quantity", "symbol", "notional") and name == "above"
                else f"{name}.{p.field}", p.message)
    if (open_orders is not None and rules.max_num_orders is not None
            and open_orders + 2 > rules.max_num_orders):
        add("symbol", f"An OCO needs room for 2 orders: {open_orders} of {rules.max_num_orders} are open "
                      f"on {rules.symbol}")

    up_field, up = _oco_level(results["above"])
    down_field, down = _oco_level(results["below"])
    quote = rules.quote_asset
    if last_price is not None:
        if up is not None and up <= last_price:
            add(f"above.{up_field}", f"Must be above the last price {_grouped(last_price)} {quote}")
        if down is not None and down >= last_price:
            add(f"below.{down_field}", f"Must be below the last price {_grouped(last_price)} {quote}")
    elif up is not None and down is not None and up <= down:
        add(f"above.{up_field}", "The upper order must be priced above the lower order")

    lock, asset = _oco_lock(rules, side, results["above"], results["below"], last_price)
    if free_balances is not None and lock is not None and asset is not None:
        have = free_balances.get(asset, _ZERO)
        if lock > have:
            add("balance", f"Not enough {asset}: the OCO locks {human(lock)} (one lock for both orders), "
                           f"free {human(have)}")
    qty = results["above"].quantity
    return OcoPreflight(symbol=rules.symbol, side=side, quantity=qty, above=results["above"],
                        below=results["below"], problems=tuple(problems), lock=lock, lock_asset=asset)


def _oco_lock(rules: SymbolRules, side: OrderSide, above: PreflightResult, below: PreflightResult,
              last_price: Decimal | None) -> tuple[Decimal | None, str | None]:
    """ONE lock for both legs: the larger leg's need (a SELL: its quantity)."""
    qty = above.quantity
    if qty is None:
        return None, None
    if side is OrderSide.SELL:
        return qty, rules.base_asset
    needs: list[Decimal] = []
    with localcontext() as ctx:
        ctx.prec = _PREC
        for r in (above, below):
            if r.type in (OrderType.LIMIT_MAKER, *_LIMIT_STOPS):
                if r.price is None:
                    return None, rules.quote_asset
                needs.append(qty * r.price)
            else:
                ref = r.stop_price if r.stop_price is not None else last_price
                if ref is None:
                    return None, rules.quote_asset
                need = qty * ref * MARKET_BUY_STOP_SLACK
                if r.trailing_delta:
                    need = need * (_BPS + r.trailing_delta) / _BPS
                needs.append(need)
    return max(needs), rules.quote_asset
