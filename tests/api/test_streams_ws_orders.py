"""Orders over the WebSocket API (``btx_tui/api/streams/ws_orders.py``) against the real paper
exchange: the three outcomes of the REST path — accepted, rejected with the REST error type,
unknown when the connection drops after sending, resolved by query and never resent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from btx_tui.api import BtxClient, InsufficientBalance, OrderRequest, Outcome, UnknownOrder
from btx_tui.api.models_trading import OrderStatus
from btx_tui.api.signing import HmacSigner
from btx_tui.api.streams import WsOrderVenue
from tests.exchange.ws_support import ws_exchange

from .conftest import FAST_RESOLVE

D = Decimal


def _limit(price: str, qty: str = "0.001") -> OrderRequest:
    return OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D(qty), price=D(price))


async def test_place_and_cancel_accepted_and_rejected(tmp_path: Path) -> None:
    with ws_exchange(tmp_path) as wx:
        key, secret = wx.key()
        async with BtxClient(wx.base_url, key, SecretStr(secret)) as client, \
                WsOrderVenue(client, key, HmacSigner(SecretStr(secret))) as venue:
            placed = await venue.place_order(_limit("40000"))
            assert placed.outcome is Outcome.ACCEPTED and placed.order is not None
            rest_view = await client.get_order("BTCUSDT", orig_client_order_id=placed.request.client_order_id)
            assert rest_view.order_id == placed.order.order_id and rest_view.status is OrderStatus.NEW

            refused = await venue.place_order(_limit("40000", qty="1"))
            assert refused.outcome is Outcome.REJECTED and isinstance(refused.error, InsufficientBalance)
            assert refused.error.code == -2010

            cancelled = await venue.cancel_order("BTCUSDT", order_id=placed.order.order_id)
            assert cancelled.status is OrderStatus.CANCELED
            try:
                await venue.cancel_order("BTCUSDT", order_id=placed.order.order_id)
            except UnknownOrder as exc:
                assert exc.code == -2011
            else:
                raise AssertionError("a second cancel must be refused with -2011")


async def test_connection_lost_after_send_is_unknown_then_resolved_never_resent(tmp_path: Path) -> None:
    with ws_exchange(tmp_path) as wx:
        key, secret = wx.key()
        async with BtxClient(wx.base_url, key, SecretStr(secret)) as client:
            venue = WsOrderVenue(client, key, HmacSigner(SecretStr(secret)))
            await venue.connect()
            ws = venue._ws
            assert ws is not None
            original = ws.send

            async def send_then_drop(message: str) -> None:
                await original(message)
                ws.transport.close()  # the request is written; its answer will never be read

            ws.send = send_then_drop  # type: ignore[method-assign]
            result = await venue.place_order(_limit("41000"), resolver=FAST_RESOLVE)
            await venue.aclose()
            assert result.initial_outcome is Outcome.UNKNOWN and result.resolved
            same_id = [o for o in await client.all_orders("BTCUSDT")
                       if o.client_order_id == result.request.client_order_id]
            assert len(same_id) <= 1  # never resent
            if result.outcome is Outcome.ACCEPTED:
                assert result.order is not None and same_id and same_id[0].order_id == result.order.order_id
            else:
                assert result.outcome is Outcome.REJECTED and result.proven_absent and not same_id
