"""A placed order shows at once and is not erased by a slow open-orders poll (issue #14).

The exchange's answer to a placement already holds the order; the dashboard applies it to
its open orders straight away. An open-orders poll that *started* before the placement may
answer after it without the order: such a stale snapshot must not erase it. A poll started
after the placement is the exchange's newer word and does remove an order that is gone.

The open-orders fetch is slowed on the client side: the real answer is fetched from the
paper exchange, then held back until the test lets it go, so the snapshot is genuinely
older than the placement.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import SecretStr

from btx_tui.api.client import BtxClient
from btx_tui.config import Settings
from tests.paper_account import PaperAccount, Venue
from btx_tui.tui.app import BtxApp, default_client
from btx_tui.tui.connection_health import Connection

from .harness import FAST_UI, client_for, limit, ready, wait_for

SIZE = (120, 36)
UI = {"orders_interval_s": 0.5, "account_interval_s": 1.0, "tickers_interval_s": 2.0,
      "trades_interval_s": 2.0, "klines_interval_s": 5.0, "book_interval_s": 1.0}
SYMBOL = "BTTUSDT"
PRICE = "0.0000005000"
"""Below anything resting: the order stays open."""


class SlowOpenOrders:
    """The real client, except that open-orders answers are held back while ``holding``."""

    def __init__(self, client: BtxClient) -> None:
        self._client = client
        self.holding = False
        self.held = 0
        """Open-orders answers fetched and now waiting for :attr:`release`."""
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def open_orders(self, symbol: str | None = None) -> Any:
        orders = await self._client.open_orders(symbol)
        if self.holding:
            self.held += 1
            await self.release.wait()
        return orders


def slow_app(exchange: Venue) -> tuple[BtxApp, list[SlowOpenOrders]]:
    """The real app (polling like :func:`make_app`) on a :class:`SlowOpenOrders` client."""
    made: list[SlowOpenOrders] = []

    def factory(connection: Connection, settings: Settings) -> Any:
        made.append(SlowOpenOrders(default_client(connection, settings)))
        return made[0]

    api_key, secret = exchange.key("full")
    # The open-orders *poll* is under test: account events would settle the order first.
    settings = Settings.model_validate({"ui": {**FAST_UI, **UI}, "exchange": {"streams": False}})
    connection = Connection(exchange.base_url, api_key, SecretStr(secret), paper=True)
    return BtxApp(settings, connection, client_factory=factory), made


async def test_a_placed_order_stays_in_open_orders_through_a_poll_that_started_before_it(
        fresh_account: PaperAccount) -> None:
    app, made = slow_app(fresh_account)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        slow = made[0]
        table = app.dashboard.open_orders
        await wait_for(pilot, lambda: app.state.open_orders is not None and app.feeds.feeds["orders"].last_ok,
                       what="a first open-orders poll")
        slow.holding = True
        await wait_for(pilot, lambda: slow.held == 1, what="an open-orders poll to be slow")

        request = limit(SYMBOL, "BUY", "20000000", PRICE)
        cid = request.client_order_id
        app.trading.submit_order(request)
        await wait_for(pilot, lambda: cid in table.orders, what="the placed order in open orders")
        assert not app.state.pending_intents
        assert str(table.orders[cid].status) == "NEW"

        before = app.state.open_orders
        slow.holding = False
        slow.release.set()  # the poll that started before the placement answers now, without it
        await wait_for(pilot, lambda: app.state.open_orders is not before, what="the slow poll applied")
        assert cid in table.orders, "a snapshot older than the placement erased the order"

        before = app.state.open_orders
        await wait_for(pilot, lambda: app.state.open_orders is not before, what="a poll after the placement")
        assert cid in table.orders and cid in {o.client_order_id for o in app.state.open_orders}

        async with client_for(fresh_account) as client:
            await client.cancel_order(SYMBOL, orig_client_order_id=cid)
        await wait_for(pilot, lambda: cid not in table.orders,
                       what="a poll after the cancel to remove the order")
