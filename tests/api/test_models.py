"""Model parsing: Decimal money, frozen, garbage refused."""

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from btx_tui.api.models import Depth, ExchangeInfo, Kline, PriceLevel, Ticker24h
from btx_tui.api.models_trading import Account, Order, OrderStatus, Withdrawal


def _load(text: str):
    return json.loads(text, parse_float=Decimal)


EXCHANGE_INFO = """{"timezone":"UTC","serverTime":1700000000000,
 "rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000}],
 "exchangeFilters":[],
 "symbols":[{"symbol":"BTTUSDT","status":"TRADING","baseAsset":"BTT","baseAssetPrecision":8,
   "quoteAsset":"USDT","quotePrecision":8,"quoteAssetPrecision":8,"orderTypes":["LIMIT","LIMIT_MAKER","MARKET"],
   "quoteOrderQtyMarketAllowed":true,"isSpotTradingAllowed":true,"permissions":["SPOT"],
   "permissionSets":[["SPOT"]],"defaultSelfTradePreventionMode":"NONE","allowedSelfTradePreventionModes":["NONE"],
   "filters":[
    {"filterType":"PRICE_FILTER","minPrice":"0.0000000001","maxPrice":"1000.00000000","tickSize":"0.0000000001"},
    {"filterType":"LOT_SIZE","minQty":"1.00000000","maxQty":"90000000000.00000000","stepSize":"1.00000000"},
    {"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"1000000000.00000000","stepSize":"0.00000000"},
    {"filterType":"NOTIONAL","minNotional":"1.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000",
     "applyMaxToMarket":false,"avgPriceMins":5},
    {"filterType":"MAX_NUM_ORDERS","maxNumOrders":200},
    {"filterType":"SOMETHING_NEW","x":"1"}]}]}"""


def test_exchange_info_filters_are_typed_decimals() -> None:
    info = ExchangeInfo.model_validate(_load(EXCHANGE_INFO))
    btt = info.symbol("BTTUSDT")
    assert btt.price_filter is not None and btt.price_filter.tick_size == Decimal("0.0000000001")
    assert btt.lot_size is not None and btt.lot_size.step_size == Decimal(1)
    assert btt.market_lot_size is not None and btt.market_lot_size.step_size == 0
    assert btt.notional is not None and btt.notional.min_notional == Decimal(1)
    assert btt.max_num_orders is not None and btt.max_num_orders.max_num_orders == 200
    assert btt.filters[-1].filter_type == "SOMETHING_NEW"
    assert info.request_weight_window == (6000, 60)
    with pytest.raises(KeyError):
        info.symbol("NOPE")


def test_models_are_frozen() -> None:
    depth = Depth.model_validate(_load('{"lastUpdateId":5,"bids":[["1.5","2"]],"asks":[]}'))
    with pytest.raises(ValidationError):
        depth.last_update_id = 6  # type: ignore[misc]
    assert depth.bids[0].price == Decimal("1.5") and isinstance(depth.bids[0].qty, Decimal)


def test_kline_from_positional_array() -> None:
    k = Kline.model_validate(_load('[1,"0.1","0.2","0.05","0.15","100",60000,"15",7,"40","6","0"]'))
    assert (k.open_time, k.high, k.close_time, k.trades) == (1, Decimal("0.2"), 60000, 7)


def test_full_order_response_with_fills() -> None:
    order = Order.model_validate(_load("""{"symbol":"BTCUSDT","orderId":7,"orderListId":-1,
      "clientOrderId":"btx-abc","transactTime":1,"price":"0.00000000","origQty":"0.00200000",
      "executedQty":"0.00200000","origQuoteOrderQty":"0.00000000","cummulativeQuoteQty":"100.00000000",
      "status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"BUY","workingTime":1,
      "selfTradePreventionMode":"NONE","fills":[{"price":"50000.00000000","qty":"0.00200000",
      "commission":"0.00000200","commissionAsset":"BTC","tradeId":3}]}"""))
    assert order.status is OrderStatus.FILLED
    assert order.fills[0].commission == Decimal("0.000002")
    assert order.avg_price == Decimal(50000)


def test_ack_response_parses_with_missing_fields() -> None:
    order = Order.model_validate({"symbol": "X", "orderId": 1, "orderListId": -1, "clientOrderId": "c",
                                  "transactTime": 5})
    assert order.status is None and order.fills == ()


def test_float_money_is_refused() -> None:
    with pytest.raises(ValidationError):
        Ticker24h.model_validate(json.loads('{"symbol":"X","priceChange":0.1}'))


@pytest.mark.parametrize("garbage", [
    '{"lastUpdateId":"x","bids":[],"asks":[]}',
    '{"lastUpdateId":1,"bids":[["1"]],"asks":[]}',
    '{"lastUpdateId":1,"bids":[["NaN","1"]],"asks":[]}',
    '{"lastUpdateId":1,"bids":[["abc","1"]],"asks":[]}',
    '[]',
])
def test_garbage_is_a_validation_error(garbage: str) -> None:
    with pytest.raises(ValidationError):
        Depth.model_validate(_load(garbage))


def test_account_balance_lookup() -> None:
    acc = Account.model_validate(_load("""{"makerCommission":10,"takerCommission":10,
      "commissionRates":{"maker":"0.00100000","taker":"0.00100000","buyer":"0","seller":"0"},
      "canTrade":true,"canWithdraw":true,"canDeposit":true,"updateTime":0,"accountType":"SPOT",
      "balances":[{"asset":"USDT","free":"100.5","locked":"1"}],"permissions":["SPOT"],"uid":1}"""))
    assert acc.balance("USDT").total == Decimal("101.5")
    assert acc.balance("BTC").free == 0
    assert acc.commission_rates is not None and acc.commission_rates.taker == Decimal("0.001")


def test_withdrawal_times_are_utc_datetimes() -> None:
    w = Withdrawal.model_validate({"id": "ab", "amount": "10", "transactionFee": "1", "coin": "BTT",
                                   "status": 6, "address": "T1", "applyTime": "2024-05-01 12:00:00",
                                   "completeTime": ""})
    assert w.apply_time is not None and w.apply_time.tzinfo is not None and w.complete_time is None
    assert w.status_name == "completed"


@pytest.mark.parametrize("garbage", [
    '{"lastUpdateId":1,"bids":[[1.5,"1"]],"asks":[]}',  # a float (json.loads without Decimal)
    '{"lastUpdateId":1,"bids":[["-1","1"]],"asks":[]}',
    '{"lastUpdateId":1,"bids":[["Infinity","1"]],"asks":[]}',
    '{"lastUpdateId":1,"bids":[["1,5","1"]],"asks":[]}',
    '{"lastUpdateId":1,"bids":[["","1"]],"asks":[]}',
    '{"lastUpdateId":1,"bids":[["1.2.3","1"]],"asks":[]}',
    '{"lastUpdateId":1,"bids":["12","34"],"asks":[]}',  # levels that are strings, not pairs
    '{"lastUpdateId":1,"bids":[[null,"1"]],"asks":[]}',
    '{"lastUpdateId":1,"bids":{},"asks":[]}',
])
def test_depth_level_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(ValidationError):
        Depth.model_validate(json.loads(garbage))


def test_depth_levels_fast_and_careful_paths_agree() -> None:
    wire = Depth.model_validate(_load('{"lastUpdateId":1,"bids":[["2.50","0.1"],["2.4","3"]],"asks":[]}'))
    careful = Depth.model_validate({"lastUpdateId": 1, "bids": [(Decimal("2.50"), "0.1"), ["2.4", 3, "extra"]],
                                    "asks": ()})
    assert wire == careful
    level = wire.bids[0]
    assert isinstance(level, PriceLevel) and (level.price, level.qty) == (Decimal("2.50"), Decimal("0.1"))
    assert all(isinstance(x, Decimal) for lvl in wire.bids for x in lvl)
    assert json.loads(wire.model_dump_json())["bids"] == [["2.50", "0.1"], ["2.4", "3"]]
    assert Depth.model_validate({"lastUpdateId": 1, "bids": [["1e3", "1"]], "asks": []}).bids[0].price == 1000
