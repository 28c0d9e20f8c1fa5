"""The paper exchange's markets: filters, and exact Decimal <-> integer conversions.

The engine works on integers (price ticks, quantity lots); :class:`SymbolSpec` is the
only place that converts, and it refuses anything that is not exactly on the grid
(``-1013 PRICE_FILTER`` / ``LOT_SIZE``) rather than rounding silently: a client that
sends an off-grid price must learn about it, not get a different order.

Filters follow Binance spot (the contract says "where silent, follow Binance"); the
reference prices are late-2024 levels so the demo looks realistic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..errors import filter_failure, invalid_symbol
from ..numbers import fmt

__all__ = ["SymbolSpec", "MARKETS", "ASSET_PRECISION", "ORDER_TYPES", "STOP_TYPES", "STP_MODES",
           "ASSETS", "spec_for", "TRAILING_DELTA_MIN", "TRAILING_DELTA_MAX"]

ASSET_PRECISION = 8
ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
               "TAKE_PROFIT_LIMIT"]
STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
TRAILING_DELTA_MIN = 10
"""``TRAILING_DELTA`` filter bounds in basis points (0.1 % .. 20 %), both directions."""
TRAILING_DELTA_MAX = 2000
STP_MODES = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One market and its filters.  All amounts are Decimals."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_price: Decimal
    max_price: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    max_num_orders: int
    ref_price: Decimal
    """Initial reference price of the synthetic market (and avgPrice before any trade)."""
    daily_volatility: Decimal
    """Daily relative volatility the synthetic market should simulate (e.g. 0.03)."""
    base_precision: int = ASSET_PRECISION
    quote_precision: int = ASSET_PRECISION
    status: str = "TRADING"

    # ------------------------------------------------------------ conversions

    @property
    def quote_unit(self) -> Decimal:
        """The quote amount of one tick*lot unit (the engine's quote unit)."""
        return self.tick_size * self.step_size

    def ticks_to_price(self, ticks: int) -> Decimal:
        return self.tick_size * ticks

    def lots_to_qty(self, lots: int) -> Decimal:
        return self.step_size * lots

    def units_to_quote(self, units: int) -> Decimal:
        return self.quote_unit * units

    def quote_to_units_floor(self, amount: Decimal) -> int:
        """Whole tick*lot units in ``amount`` (rounded down: a budget is never exceeded)."""
        return int(amount // self.quote_unit)

    def price_to_ticks(self, price: Decimal) -> int:
        """Exact ticks of ``price``; -1013 PRICE_FILTER if off the tick grid or out of range."""
        if price < self.min_price or price > self.max_price:
            raise filter_failure("PRICE_FILTER")
        ticks, rest = divmod(price, self.tick_size)
        if rest:
            raise filter_failure("PRICE_FILTER")
        return int(ticks)

    def qty_to_lots(self, qty: Decimal, *, market: bool = False) -> int:
        """Exact lots of ``qty``; -1013 LOT_SIZE (MARKET_LOT_SIZE for market orders)."""
        name = "MARKET_LOT_SIZE" if market else "LOT_SIZE"
        lo, hi = (self.market_min_qty, self.market_max_qty) if market else (self.min_qty, self.max_qty)
        if qty < lo or qty > hi:
            raise filter_failure(name)
        lots, rest = divmod(qty, self.step_size)
        if rest or lots <= 0:
            raise filter_failure(name)
        return int(lots)

    # ------------------------------------------------------------ wire format

    def exchange_info(self) -> dict:
        """The symbol's ``exchangeInfo`` entry with every field and filter of the contract."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": self.base_precision,
            "quoteAsset": self.quote,
            "quotePrecision": self.quote_precision,
            "quoteAssetPrecision": self.quote_precision,
            "baseCommissionPrecision": self.base_precision,
            "quoteCommissionPrecision": self.quote_precision,
            "orderTypes": list(ORDER_TYPES),
            "icebergAllowed": False,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": True,
            # One-pays-the-other lists and pegged orders: the standard's newer capabilities;
            # false until the paper exchange serves them.
            "opoAllowed": False,
            "pegInstructionsAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": fmt(self.min_price),
                 "maxPrice": fmt(self.max_price), "tickSize": fmt(self.tick_size)},
                {"filterType": "LOT_SIZE", "minQty": fmt(self.min_qty),
                 "maxQty": fmt(self.max_qty), "stepSize": fmt(self.step_size)},
                {"filterType": "MARKET_LOT_SIZE", "minQty": fmt(self.market_min_qty),
                 "maxQty": fmt(self.market_max_qty), "stepSize": fmt(self.step_size)},
                {"filterType": "NOTIONAL", "minNotional": fmt(self.min_notional),
                 "applyMinToMarket": True, "maxNotional": fmt(self.max_notional),
                 "applyMaxToMarket": False, "avgPriceMins": 5},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
                {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": TRAILING_DELTA_MIN,
                 "maxTrailingAboveDelta": TRAILING_DELTA_MAX,
                 "minTrailingBelowDelta": TRAILING_DELTA_MIN,
                 "maxTrailingBelowDelta": TRAILING_DELTA_MAX},
            ],
            "permissions": ["SPOT"],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "NONE",
            "allowedSelfTradePreventionModes": list(STP_MODES),
        }


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def places(value: Decimal) -> int:
    """Decimals ``value`` really uses (trailing zeros do not count: "1.50000000" has 1)."""
    return _places(value)


def _spec(symbol: str, base: str, quote: str, ref: str, tick: str, step: str,
          max_qty: str, market_max_qty: str, min_notional: str, vol: str,
          max_notional: str = "9000000") -> SymbolSpec:
    """A spec with Binance-like defaults: minPrice = tick, maxPrice ~ 1000x the reference."""
    t, s = Decimal(tick), Decimal(step)
    max_price = (Decimal(ref) * 1000 // t) * t
    return SymbolSpec(
        # Precision never below the grid: BTT's 10-decimal tick needs quotePrecision 10.
        base_precision=max(ASSET_PRECISION, _places(s)), quote_precision=max(ASSET_PRECISION, _places(t)),
        symbol=symbol, base=base, quote=quote, tick_size=t, step_size=s,
        min_price=t, max_price=max_price, min_qty=s, max_qty=Decimal(max_qty),
        market_min_qty=s, market_max_qty=Decimal(market_max_qty),
        min_notional=Decimal(min_notional), max_notional=Decimal(max_notional),
        max_num_orders=200, ref_price=Decimal(ref), daily_volatility=Decimal(vol),
    )


_TABLE: list[SymbolSpec] = [
    # USDT markets (min notional 5 USDT, like Binance)
    _spec("BTTUSDT", "BTT", "USDT", "0.0000006123", "0.0000000001", "1",
          "100000000000", "10000000000", "5", "0.06"),
    _spec("BTCUSDT", "BTC", "USDT", "95000.00", "0.01", "0.00001", "9000", "120", "5", "0.03"),
    _spec("ETHUSDT", "ETH", "USDT", "3400.00", "0.01", "0.0001", "9000", "2000", "5", "0.04"),
    _spec("BNBUSDT", "BNB", "USDT", "690.00", "0.01", "0.001", "9000", "1500", "5", "0.035"),
    _spec("SOLUSDT", "SOL", "USDT", "190.00", "0.01", "0.001", "9000", "5000", "5", "0.05"),
    _spec("XRPUSDT", "XRP", "USDT", "2.2000", "0.0001", "0.1", "9000000", "1000000", "5", "0.05"),
    _spec("ADAUSDT", "ADA", "USDT", "0.9500", "0.0001", "0.1", "9000000", "1000000", "5", "0.05"),
    _spec("DOGEUSDT", "DOGE", "USDT", "0.32000", "0.00001", "1", "90000000", "10000000", "5", "0.06"),
    _spec("TRXUSDT", "TRX", "USDT", "0.2500", "0.0001", "0.1", "90000000", "10000000", "5", "0.04"),
    _spec("LTCUSDT", "LTC", "USDT", "100.00", "0.01", "0.001", "90000", "10000", "5", "0.045"),
    _spec("DOTUSDT", "DOT", "USDT", "7.200", "0.001", "0.01", "900000", "100000", "5", "0.05"),
    _spec("LINKUSDT", "LINK", "USDT", "22.00", "0.01", "0.01", "900000", "100000", "5", "0.05"),
    _spec("AVAXUSDT", "AVAX", "USDT", "38.00", "0.01", "0.01", "900000", "100000", "5", "0.055"),
    _spec("MATICUSDT", "MATIC", "USDT", "0.5500", "0.0001", "0.1", "9000000", "1000000", "5", "0.055"),
    _spec("ATOMUSDT", "ATOM", "USDT", "6.800", "0.001", "0.01", "900000", "100000", "5", "0.05"),
    # BTC markets (min notional 0.0001 BTC)
    _spec("ETHBTC", "ETH", "BTC", "0.03580", "0.00001", "0.0001", "100000", "1000", "0.0001", "0.025", "1000"),
    _spec("BNBBTC", "BNB", "BTC", "0.007260", "0.000001", "0.001", "100000", "1000", "0.0001", "0.03", "1000"),
    _spec("TRXBTC", "TRX", "BTC", "0.00000263", "0.00000001", "1", "90000000", "10000000", "0.0001", "0.04", "1000"),
    _spec("SOLBTC", "SOL", "BTC", "0.002000", "0.000001", "0.001", "100000", "1000", "0.0001", "0.04", "1000"),
    _spec("LTCBTC", "LTC", "BTC", "0.001050", "0.000001", "0.001", "100000", "1000", "0.0001", "0.035", "1000"),
    _spec("LINKBTC", "LINK", "BTC", "0.0002320", "0.0000001", "0.01", "900000", "100000", "0.0001", "0.045", "1000"),
    _spec("XRPBTC", "XRP", "BTC", "0.00002320", "0.00000001", "1", "9000000", "1000000", "0.0001", "0.045", "1000"),
    # TRX and ETH markets
    _spec("BTTTRX", "BTT", "TRX", "0.0000024000", "0.0000000001", "1",
          "100000000000", "10000000000", "10", "0.05", "90000000"),
    _spec("BNBETH", "BNB", "ETH", "0.2029", "0.0001", "0.001", "100000", "1000", "0.001", "0.03", "10000"),
]

MARKETS: dict[str, SymbolSpec] = {s.symbol: s for s in _TABLE}
"""Every market, by symbol, in display order."""

ASSETS: list[str] = sorted({a for s in _TABLE for a in (s.base, s.quote)})
"""Every asset that trades somewhere."""


def spec_for(symbols: dict[str, SymbolSpec], symbol: str) -> SymbolSpec:
    """The listed symbol's spec; -1121 "Invalid symbol." if it is not listed."""
    spec = symbols.get(symbol)
    if spec is None:
        raise invalid_symbol()
    return spec
