"""A two-sided BTTUSDT book for the order-form tests (test_order_form*.py; no tests here).

The paper exchange of these tests has no synthetic market, so each test first rests a SELL
above and a BUY below the reference price with its own account's key (an account of its own on
the worker's shared exchange, ``fresh_account``; or the demo account of an exchange of its
own): the form then has a best ask to prefill a buy with and a best bid for a sell.
"""

from __future__ import annotations

from tests.paper_account import Venue

from .harness import client_for, limit

SIZE = (120, 36)
CALM = {"tickers_interval_s": 2.0, "trades_interval_s": 2.0, "klines_interval_s": 5.0, "book_interval_s": 0.5,
        "account_interval_s": 0.5, "orders_interval_s": 1.0}
"""Polling slow enough to stay far below the exchange's weight limit (a test that hits it
waits a minute for the window to reset) and to leave the CPU to the form."""
SYMBOL = "BTTUSDT"
BEST_ASK = "0.0000006200"
BEST_BID = "0.0000006000"
RESTING = "10000000"


async def rest_both_sides(exchange: Venue) -> None:
    """One resting level on each side of BTTUSDT, placed by the test's account itself."""
    async with client_for(exchange) as client:
        for side, price in (("SELL", BEST_ASK), ("BUY", BEST_BID)):
            result = await client.place_order(limit(SYMBOL, side, RESTING, price))
            assert result.order is not None, result.describe()
