"""Moving the last price of a paper market, so stop orders trigger (or stay untriggered) on cue.

The paper exchange in these tests has no synthetic market: a test sets the last price with a
self-trade of the account (self-trade prevention is NONE). Shared by the stop-order, order-list
and reconciliation tests of the service layer.
"""

from __future__ import annotations

from decimal import Decimal

from btx_tui.api import OrderRequest, Outcome
from btx_tui.api.models_trading import OrderStatus

SYMBOL = "BTCUSDT"
"""The market the stop-order tests trade."""


async def set_last_price(client, price: Decimal, qty: Decimal = Decimal("0.001")) -> None:
    """One self-trade at ``price`` (the account trades with itself: STP is NONE)."""
    sell = await client.place_order(OrderRequest(SYMBOL, "SELL", "LIMIT", quantity=qty, price=price))
    buy = await client.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=qty, price=price,
                                                time_in_force="IOC"))
    assert sell.outcome is Outcome.ACCEPTED and buy.outcome is Outcome.ACCEPTED
    assert buy.order is not None and buy.order.status is OrderStatus.FILLED
