"""Helpers for Pilot tests of the real app against a real paper exchange."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr
from textual.pilot import Pilot

from btx_tui.api.client import BtxClient
from btx_tui.api.orders import OrderRequest
from btx_tui.api.models_trading import OrderSide, OrderType, TimeInForce
from btx_tui.config import Settings
from btx_tui.tui.app import BtxApp
from btx_tui.tui.connection_health import Connection
from tests.paper_account import Venue

FAST_UI = {"tickers_interval_s": 0.3, "book_interval_s": 0.2, "trades_interval_s": 0.3,
           "klines_interval_s": 1.0, "account_interval_s": 0.3, "orders_interval_s": 0.3,
           "timezone": "UTC"}  # times on screen must not depend on the machine's zone


def make_app(exchange: Venue, key: str = "full", *, journal_path: Path | None = None,
             alerts_dir: Path | None = None, streams: bool | str = False, **ui: object) -> BtxApp:
    """The real app, connected like paper mode does, polling fast so tests are quick.

    ``journal_path``: keep an order journal there (reconciliation needs one).
    ``streams``: ``[exchange] streams`` — off unless a test turns it on, so the polling tests
    stay deterministic (tests/tui/test_streams.py turns it on).
    """
    api_key, secret = exchange.key(key)
    settings = Settings.model_validate({"ui": {**FAST_UI, **ui}, "exchange": {"streams": streams}})
    return BtxApp(settings, Connection(exchange.base_url, api_key, SecretStr(secret), paper=True),
                  journal_path=journal_path, alerts_dir=alerts_dir)


def free_port(avoid: int | None = None) -> int:
    """A loopback port free right now (other than ``avoid``), for an exchange restarted on it."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != avoid:
            return port


def client_for(exchange: Venue, key: str = "full") -> BtxClient:
    api_key, secret = exchange.key(key)
    return BtxClient(exchange.base_url, api_key, SecretStr(secret))


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 15.0,
                   what: str = "condition") -> None:
    """Let the app run until ``condition()`` is truthy (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def ready(pilot: Pilot) -> BtxApp:
    """Wait until markets, permissions, balances and the book have arrived."""
    app: BtxApp = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: app.state.rules.info is not None and app.state.permissions, what="session start")
    await wait_for(pilot, lambda: app.state.account is not None, what="first balances")
    await wait_for(pilot, lambda: app.state.depth is not None, what="first book")
    return app


def limit(symbol: str, side: str, qty: str, price: str, tif: str = "GTC") -> OrderRequest:
    return OrderRequest(symbol=symbol, side=OrderSide(side), type=OrderType.LIMIT,
                        quantity=Decimal(qty), price=Decimal(price), time_in_force=TimeInForce(tif))


def market(symbol: str, side: str, qty: str) -> OrderRequest:
    return OrderRequest(symbol=symbol, side=OrderSide(side), type=OrderType.MARKET, quantity=Decimal(qty))


def notifications(app: BtxApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)
