"""Frozen pydantic models of the BTX v3 market-data responses (contract section 5).

Money is ``Decimal`` from the wire on: the exchange sends amounts as JSON strings and the client
parses bodies with ``parse_float=Decimal``, so a float never exists. Models are frozen because
they travel as immutable snapshots from feed workers to widgets. Unknown extra fields are
ignored (other exchanges speaking the same standard add some).

Trading, account and withdrawal models live in :mod:`btx_tui.api.models_trading`; both are
re-exported from :mod:`btx_tui.api`. Order-book levels (:class:`PriceLevel`, :func:`parse_levels`)
are parsed in :mod:`btx_tui.api.models_levels` and re-exported here.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from itertools import repeat
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from btx_tui.contract.rate_limits import interval_seconds

from .models_levels import PriceLevel, PriceLevels, parse_levels

__all__ = [
    "AggTrade",
    "AvgPrice",
    "BookTicker",
    "Depth",
    "ExchangeInfo",
    "Frozen",
    "Kline",
    "LotSizeFilter",
    "MaxNumOrdersFilter",
    "NotionalFilter",
    "OtherFilter",
    "PriceFilter",
    "PriceLevel",
    "PriceLevels",
    "Pong",
    "RateLimit",
    "ServerTime",
    "SymbolInfo",
    "SymbolStatus",
    "Ticker24h",
    "TickerPrice",
    "Trade",
    "parse_levels",
]


class Frozen(BaseModel):
    """Base of every model: immutable, camelCase aliases, extra fields ignored, no floats."""

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_floats(cls, data: Any) -> Any:
        # Defence in depth: a float reaching a money field means someone parsed JSON the
        # wrong way, and its value is already rounded. Refuse rather than hide it.
        # (The check runs in C — map/any — since it runs for every model from the wire.)
        if isinstance(data, dict) and any(map(isinstance, data.values(), repeat(float))):
            key = next(k for k, v in data.items() if isinstance(v, float))
            raise ValueError(f"field {key!r} is a float; money must be parsed as Decimal")
        return data


class Pong(BaseModel):
    """Result of ``ping``: the exchange is reachable; how long the round trip took (not money)."""

    model_config = ConfigDict(frozen=True)

    round_trip_ms: float


class ServerTime(Frozen):
    server_time: int


class RateLimit(Frozen):
    """One entry of ``rateLimits`` (``count`` only in ``rateLimit/order``)."""

    rate_limit_type: str
    interval: str
    interval_num: int
    limit: int
    count: int | None = None


class SymbolStatus(StrEnum):
    TRADING = "TRADING"
    HALT = "HALT"
    BREAK = "BREAK"
    PRE_TRADING = "PRE_TRADING"
    POST_TRADING = "POST_TRADING"
    END_OF_DAY = "END_OF_DAY"
    AUCTION_MATCH = "AUCTION_MATCH"


class PriceFilter(Frozen):
    filter_type: Literal["PRICE_FILTER"] = "PRICE_FILTER"
    min_price: Decimal
    max_price: Decimal
    tick_size: Decimal


class LotSizeFilter(Frozen):
    """``LOT_SIZE`` (LIMIT orders) or ``MARKET_LOT_SIZE`` (MARKET orders)."""

    filter_type: Literal["LOT_SIZE", "MARKET_LOT_SIZE"]
    min_qty: Decimal
    max_qty: Decimal
    step_size: Decimal


class NotionalFilter(Frozen):
    """``NOTIONAL`` (or the legacy ``MIN_NOTIONAL``, normalised to this shape)."""

    filter_type: Literal["NOTIONAL"] = "NOTIONAL"
    min_notional: Decimal = Decimal(0)
    apply_min_to_market: bool = True
    max_notional: Decimal | None = None
    apply_max_to_market: bool = False
    avg_price_mins: int | None = None


class MaxNumOrdersFilter(Frozen):
    filter_type: Literal["MAX_NUM_ORDERS"] = "MAX_NUM_ORDERS"
    max_num_orders: int


class OtherFilter(Frozen):
    """A filter type this client does not interpret; kept by name only."""

    filter_type: str


SymbolFilter = PriceFilter | LotSizeFilter | NotionalFilter | MaxNumOrdersFilter | OtherFilter


def _parse_filter(raw: Any) -> SymbolFilter:
    if isinstance(raw, Frozen):
        return raw  # type: ignore[return-value]
    if not isinstance(raw, dict):
        raise ValueError("filter must be an object")
    kind = raw.get("filterType")
    if kind == "PRICE_FILTER":
        return PriceFilter.model_validate(raw)
    if kind in ("LOT_SIZE", "MARKET_LOT_SIZE"):
        return LotSizeFilter.model_validate(raw)
    if kind == "NOTIONAL":
        return NotionalFilter.model_validate(raw)
    if kind == "MIN_NOTIONAL":
        return NotionalFilter(
            min_notional=raw.get("minNotional", "0"),
            apply_min_to_market=bool(raw.get("applyToMarket", True)),
            avg_price_mins=raw.get("avgPriceMins"),
        )
    if kind == "MAX_NUM_ORDERS":
        return MaxNumOrdersFilter.model_validate(raw)
    return OtherFilter(filter_type=str(kind))


class SymbolInfo(Frozen):
    """One market in ``exchangeInfo``; typed accessors for the filters the client uses."""

    symbol: str
    status: str  # a SymbolStatus value; kept as text so new statuses don't break parsing
    base_asset: str
    base_asset_precision: int = 8
    quote_asset: str
    quote_precision: int = 8
    quote_asset_precision: int = 8
    order_types: tuple[str, ...] = ()
    quote_order_qty_market_allowed: bool = False
    is_spot_trading_allowed: bool = True
    permissions: tuple[str, ...] = ()
    filters: tuple[SymbolFilter, ...] = ()

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueError("filters must be a list")
        return tuple(_parse_filter(f) for f in value)

    def _find(self, kind: str) -> Any:
        return next((f for f in self.filters if f.filter_type == kind), None)

    @property
    def price_filter(self) -> PriceFilter | None:
        return self._find("PRICE_FILTER")

    @property
    def lot_size(self) -> LotSizeFilter | None:
        return self._find("LOT_SIZE")

    @property
    def market_lot_size(self) -> LotSizeFilter | None:
        return self._find("MARKET_LOT_SIZE")

    @property
    def notional(self) -> NotionalFilter | None:
        return self._find("NOTIONAL")

    @property
    def max_num_orders(self) -> MaxNumOrdersFilter | None:
        return self._find("MAX_NUM_ORDERS")


class ExchangeInfo(Frozen):
    timezone: str = "UTC"
    server_time: int
    rate_limits: tuple[RateLimit, ...] = ()
    symbols: tuple[SymbolInfo, ...] = ()

    def symbol(self, name: str) -> SymbolInfo:
        """The market called ``name``; KeyError if the exchange does not list it."""
        for info in self.symbols:
            if info.symbol == name:
                return info
        raise KeyError(name)

    @property
    def request_weight_window(self) -> tuple[int, int] | None:
        """``(limit, window seconds)`` of the REQUEST_WEIGHT limit, if declared: (6000, 60) per
        the contract. The shortest window wins when several are declared."""
        found = []
        for rl in self.rate_limits:
            if rl.rate_limit_type == "REQUEST_WEIGHT":
                seconds = interval_seconds(rl.interval, rl.interval_num)
                if seconds is not None and rl.limit > 0:
                    found.append((seconds, rl.limit))
        if not found:
            return None
        seconds, limit = min(found)
        return limit, seconds


class Depth(Frozen):
    """``GET /api/v3/depth``: bids and asks, best first."""

    last_update_id: int
    bids: PriceLevels
    asks: PriceLevels


class Trade(Frozen):
    id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    is_buyer_maker: bool
    is_best_match: bool = True


class AggTrade(Frozen):
    agg_id: int = Field(alias="a")
    price: Decimal = Field(alias="p")
    qty: Decimal = Field(alias="q")
    first_trade_id: int = Field(alias="f")
    last_trade_id: int = Field(alias="l")
    time: int = Field(alias="T")
    is_buyer_maker: bool = Field(alias="m")
    is_best_match: bool = Field(default=True, alias="M")


_KLINE_FIELDS = ("open_time", "open", "high", "low", "close", "volume", "close_time",
                 "quote_volume", "trades", "taker_buy_base", "taker_buy_quote")


class Kline(Frozen):
    """One candle; parsed from the contract's positional array."""

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time: int
    quote_volume: Decimal
    trades: int
    taker_buy_base: Decimal
    taker_buy_quote: Decimal

    @model_validator(mode="before")
    @classmethod
    def _from_array(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) < 11:
                raise ValueError("kline array too short")
            return dict(zip(_KLINE_FIELDS, data, strict=False))
        return data


class Ticker24h(Frozen):
    symbol: str
    price_change: Decimal
    price_change_percent: Decimal
    weighted_avg_price: Decimal
    prev_close_price: Decimal | None = None
    last_price: Decimal
    last_qty: Decimal | None = None
    bid_price: Decimal | None = None
    bid_qty: Decimal | None = None
    ask_price: Decimal | None = None
    ask_qty: Decimal | None = None
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_time: int
    close_time: int
    first_id: int
    last_id: int
    count: int


class TickerPrice(Frozen):
    symbol: str
    price: Decimal


class BookTicker(Frozen):
    symbol: str
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal


class AvgPrice(Frozen):
    mins: int
    price: Decimal
    close_time: int | None = None
