"""Every endpoint the paper exchange serves, in one list (the app routes from it, and a
fault's ``METHOD /path`` is validated against it).

A module of its own so the fault vocabulary can list the endpoints without importing the
ASGI app (which imports the fault injector: that would be a circle).
"""

from __future__ import annotations

from btx_tui.exchange.http import (
    account_routes,
    admin_account_routes,
    deposit_routes,
    market_routes,
    ticker_window_routes,
    trade_routes,
    user_stream_routes,
    wallet_routes,
)
from btx_tui.exchange.http.endpoints import Endpoint

__all__ = ["all_endpoints"]


def all_endpoints() -> list[Endpoint]:
    return [*market_routes.ENDPOINTS, *trade_routes.ENDPOINTS, *wallet_routes.ENDPOINTS,
            *ticker_window_routes.ENDPOINTS, *account_routes.ENDPOINTS, *deposit_routes.ENDPOINTS,
            *user_stream_routes.ENDPOINTS, *admin_account_routes.ENDPOINTS]
