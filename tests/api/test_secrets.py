"""The API secret never appears in logs, reprs, exception text or tracebacks."""

from __future__ import annotations

import logging
import traceback
from decimal import Decimal

from pydantic import SecretStr

from btx_tui.api import BtxClient, BtxError, OrderRequest

from .conftest import RESET_AFTER, STATUS_503_BEFORE, FaultTransport


def _plan(request):
    if request.url.path == "/api/v3/openOrders":
        return RESET_AFTER
    if request.url.path == "/api/v3/allOrders":
        return STATUS_503_BEFORE
    return "pass"


async def test_canary_secret_never_leaks(make_client, paper_exchange, canary, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    key, _ = paper_exchange.key("full")
    client = BtxClient(paper_exchange.base_url, key, SecretStr(canary), transport=FaultTransport(plan=_plan))
    texts += [repr(client), str(client), repr(client.rest)]
    async with client:
        for call in (client.account(), client.open_orders(), client.all_orders("BTCUSDT"),
                     client.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=Decimal("1"),
                                                     price=Decimal("1")))):
            try:
                result = await call
                texts.append(repr(result))
                if hasattr(result, "describe"):
                    texts.append(result.describe())
                    if result.error is not None:
                        texts += ["".join(traceback.format_exception(result.error)), repr(result.error)]
            except BtxError as exc:
                texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    assert len(texts) > 6
    assert any("-1022" in t for t in texts)  # the wrong secret really was used and refused
    assert caplog.records, "expected DEBUG logging to be captured"
    blob = "\n".join(texts) + caplog.text
    assert canary not in blob


async def test_real_secret_not_logged_on_success(make_client, paper_exchange, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _, secret = paper_exchange.key("full")
    async with make_client("full") as c:
        await c.account()
        text = repr(c)
    assert "account" in caplog.text and secret not in caplog.text and secret not in text
