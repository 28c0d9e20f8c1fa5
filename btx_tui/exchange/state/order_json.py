"""JSON rendering of stored rows (orders, trades) in the contract's field spelling.

Kept apart from the logic so every endpoint spells fields the same way
(``cummulativeQuoteQty``, never ``strategyId``).
"""

from __future__ import annotations

from ..numbers import fmt
from .store import OrderRow, TradeRow
from .symbols import STOP_TYPES, SymbolSpec

__all__ = ["order_json", "trade_json"]


def order_json(row: OrderRow, *, result: bool = False) -> dict:
    """``result=True``: the RESULT fields a new-order/cancel response adds to its head;
    otherwise the full ``GET /api/v3/order`` object."""
    tif = row.tif or "GTC"
    if result:
        out = {
            "price": fmt(row.price), "origQty": fmt(row.orig_qty),
            "executedQty": fmt(row.executed_qty), "origQuoteOrderQty": fmt(row.orig_quote_qty),
            "cummulativeQuoteQty": fmt(row.cum_quote), "status": row.status,
            "timeInForce": tif, "type": row.type, "side": row.side,
            "workingTime": row.working_time, "selfTradePreventionMode": "NONE",
        }
        if row.type in STOP_TYPES:
            out["stopPrice"] = fmt(row.stop_price)
        _trailing(row, out)
        return out
    out = {
        "symbol": row.symbol, "orderId": row.order_id, "orderListId": row.order_list_id,
        "clientOrderId": row.client_order_id, "price": fmt(row.price),
        "origQty": fmt(row.orig_qty), "executedQty": fmt(row.executed_qty),
        "cummulativeQuoteQty": fmt(row.cum_quote), "status": row.status, "timeInForce": tif,
        "type": row.type, "side": row.side, "stopPrice": fmt(row.stop_price),
        "icebergQty": "0.00000000", "time": row.time, "updateTime": row.update_time,
        "isWorking": row.working_time != -1, "workingTime": row.working_time,
        "origQuoteOrderQty": fmt(row.orig_quote_qty), "selfTradePreventionMode": "NONE",
    }
    _trailing(row, out)
    return out


def _trailing(row: OrderRow, out: dict) -> None:
    """The standard's conditional fields of a trailing stop."""
    if row.trailing_delta:
        out["trailingDelta"] = row.trailing_delta
        out["trailingTime"] = row.trailing_time


def trade_json(spec: SymbolSpec, t: TradeRow, is_buyer: bool, order_list_id: int = -1) -> dict:
    """One ``myTrades`` entry seen from the buyer's or the seller's side (``order_list_id``:
    the list of that side's order, -1 outside lists)."""
    is_maker = (t.taker_side == "SELL") if is_buyer else (t.taker_side == "BUY")
    return {
        "symbol": t.symbol, "id": t.id,
        "orderId": t.buyer_order_id if is_buyer else t.seller_order_id, "orderListId": order_list_id,
        "price": fmt(t.price), "qty": fmt(t.qty), "quoteQty": fmt(t.quote_qty),
        "commission": fmt(t.buyer_fee if is_buyer else t.seller_fee),
        "commissionAsset": spec.base if is_buyer else spec.quote,
        "time": t.time, "isBuyer": is_buyer, "isMaker": is_maker, "isBestMatch": True,
    }
