"""Every new trading call of the service layer against the real paper exchange over loopback:
stop / take-profit / trailing orders, OCO / OTO / OTOCO lists and their queries, amend
keepPriority and cancel-replace (both modes, the -2021/-2022 error shapes)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from btx_tui.api import OrderRequest, Outcome
from btx_tui.api.errors import AmendRejected, CancelReplaceFailed, UnknownOrder
from btx_tui.api.models_orderlists import ApiErrorBody, ListOrderStatus
from btx_tui.api.models_trading import OrderStatus, OrderType
from btx_tui.api.order_changes import AmendRequest, CancelReplaceMode, CancelReplaceRequest
from btx_tui.api.order_lists import ListLeg, OcoRequest, OtocoRequest, OtoRequest
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

from .stop_market import SYMBOL, set_last_price

D = Decimal


@pytest.fixture(scope="module")
def stops_exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    ex = start_paper_exchange(Path(tmp_path_factory.mktemp("live-stops")) / "paper", market=False, seed=1)
    try:
        yield ex
    finally:
        ex.stop()


async def cancel_all(client) -> None:
    if await client.open_orders(SYMBOL):
        await client.cancel_open_orders(SYMBOL)


async def test_stop_limit_is_untriggered_then_fires(make_client, stops_exchange) -> None:
    async with make_client("full", exchange=stops_exchange) as c:
        await set_last_price(c, D("95000"))
        req = OrderRequest(SYMBOL, "SELL", "STOP_LOSS_LIMIT", quantity=D("0.01"), price=D("93000"),
                           stop_price=D("94000"))
        assert ("stopPrice", "94000") in req.to_params() and ("timeInForce", "GTC") in req.to_params()
        res = await c.place_order(req)
        assert res.outcome is Outcome.ACCEPTED and res.order is not None
        assert res.order.stop_price == D("94000") and res.order.working_time == -1
        queried = await c.get_order(SYMBOL, orig_client_order_id=req.client_order_id)
        assert queried.is_stop and queried.is_untriggered and queried.is_working is False
        assert not queried.in_list and queried.order_list_id == -1
        assert (await c.account()).balance("BTC").locked == D("0.01")
        # A trade at 93,900 fires it; it sells into the 93,900 bid.
        await c.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.02"), price=D("93900")))
        await c.place_order(OrderRequest(SYMBOL, "SELL", "MARKET", quantity=D("0.001")))
        fired = await c.get_order(SYMBOL, orig_client_order_id=req.client_order_id)
        assert fired.status is OrderStatus.FILLED and fired.is_working is True and fired.working_time > 0
        assert not fired.is_untriggered
        await cancel_all(c)


async def test_trailing_stop_and_would_trigger_rejection(make_client, stops_exchange) -> None:
    async with make_client("full", exchange=stops_exchange) as c:
        await set_last_price(c, D("95000"))
        treq = OrderRequest(SYMBOL, "SELL", "STOP_LOSS", quantity=D("0.01"), trailing_delta=200)
        assert ("trailingDelta", "200") in treq.to_params()
        assert "timeInForce" not in dict(treq.to_params())  # a market stop takes none (-1114)
        trailing = await c.place_order(treq)
        assert trailing.outcome is Outcome.ACCEPTED
        [o] = [o for o in await c.open_orders(SYMBOL) if o.client_order_id == trailing.client_order_id]
        assert (o.trailing_delta, o.type, o.is_untriggered) == (200, OrderType.STOP_LOSS, True)
        bad = await c.place_order(OrderRequest(SYMBOL, "SELL", "STOP_LOSS", quantity=D("0.01"),
                                               stop_price=D("96000")))
        assert bad.outcome is Outcome.REJECTED and bad.error is not None and bad.error.code == -2010
        assert "trigger immediately" in bad.error.msg
        await cancel_all(c)


def _bracket(quantity: str = "0.02") -> OcoRequest:
    return OcoRequest(SYMBOL, "SELL", D(quantity), above=ListLeg("LIMIT_MAKER", price=D("99000")),
                      below=ListLeg("STOP_LOSS_LIMIT", price=D("89000"), stop_price=D("90000")))


async def test_oco_place_query_list_and_cancel(make_client, stops_exchange) -> None:
    async with make_client("full", exchange=stops_exchange) as c:
        await set_last_price(c, D("95000"))
        req = _bracket()
        res = await c.place_order_list(req)
        assert res.outcome is Outcome.ACCEPTED and res.order_list is not None, res.describe()
        lst = res.order_list
        assert lst.contingency_type == "OCO" and lst.is_open
        assert lst.list_client_order_id == req.list_client_order_id
        assert set(lst.client_order_ids) == {req.above.client_order_id, req.below.client_order_id}
        below = lst.report(req.below.client_order_id)
        assert below is not None and below.stop_price == D("90000") and below.order_list_id == lst.order_list_id
        by_cid = await c.get_order_list(orig_client_order_id=req.list_client_order_id)
        assert by_cid.order_list_id == lst.order_list_id and by_cid.order_reports == ()
        assert by_cid == await c.get_order_list(order_list_id=lst.order_list_id)
        assert [x.list_client_order_id for x in await c.open_order_lists()] == [req.list_client_order_id]
        legs = [o for o in await c.open_orders(SYMBOL) if o.in_list]
        assert {o.client_order_id for o in legs} == set(lst.client_order_ids)
        # One lock for both legs: 0.02 BTC, not 0.04.
        assert (await c.account()).balance("BTC").locked == D("0.02")
        done = await c.cancel_order_list(SYMBOL, list_client_order_id=req.list_client_order_id)
        assert done.list_order_status == ListOrderStatus.ALL_DONE and not done.is_open
        assert {r.status for r in done.order_reports} == {OrderStatus.CANCELED}
        assert await c.open_order_lists() == ()
        assert lst.order_list_id in {x.order_list_id for x in await c.all_order_lists(limit=50)}
        with pytest.raises(UnknownOrder):
            await c.get_order_list(orig_client_order_id="btx-no-such-list")
        with pytest.raises(UnknownOrder):
            await c.cancel_order_list(SYMBOL, order_list_id=lst.order_list_id)


async def test_oco_definite_rejection(make_client, stops_exchange) -> None:
    async with make_client("full", exchange=stops_exchange) as c:
        await set_last_price(c, D("95000"))
        bad = OcoRequest(SYMBOL, "SELL", D("0.01"), above=ListLeg("LIMIT_MAKER", price=D("91000")),
                         below=ListLeg("STOP_LOSS", stop_price=D("90000")))
        res = await c.place_order_list(bad)
        assert res.outcome is Outcome.REJECTED and not res.resolved and res.error is not None
        assert res.error.code == -2010 and "relationship of the prices" in res.error.msg
        assert await c.open_order_lists() == ()


async def test_oto_and_otoco(make_client, stops_exchange) -> None:
    async with make_client("full", exchange=stops_exchange) as c:
        await set_last_price(c, D("95000"))
        oto = OtoRequest(SYMBOL, "BUY", D("0.01"), ListLeg("LIMIT", price=D("80000")),
                         "SELL", D("0.01"), ListLeg("LIMIT", price=D("99000")))
        res = await c.place_order_list(oto)
        assert res.outcome is Outcome.ACCEPTED and res.order_list is not None
        assert [r.status for r in res.order_list.order_reports] == [OrderStatus.NEW, OrderStatus.PENDING_NEW]
        pending = await c.get_order(SYMBOL, orig_client_order_id=oto.pending.client_order_id)
        assert pending.status is OrderStatus.PENDING_NEW and pending.order_list_id == res.order_list.order_list_id
        otoco = OtocoRequest(SYMBOL, "BUY", D("0.01"), ListLeg("LIMIT_MAKER", price=D("80000")),
                             "SELL", D("0.01"), pending_above=ListLeg("LIMIT_MAKER", price=D("99000")),
                             pending_below=ListLeg("STOP_LOSS", stop_price=D("79000")))
        res2 = await c.place_order_list(otoco)
        assert res2.outcome is Outcome.ACCEPTED and res2.order_list is not None
        assert [r.type for r in res2.order_list.order_reports] == [
            OrderType.LIMIT_MAKER, OrderType.LIMIT_MAKER, OrderType.STOP_LOSS]
        assert {x.list_client_order_id for x in await c.open_order_lists()} == {
            oto.list_client_order_id, otoco.list_client_order_id}
        # Cancelling all open orders answers list objects for the lists: flattened to their legs.
        reports = await c.cancel_open_orders(SYMBOL)
        legs = {r.client_order_id for r in (*oto.leg_requests(), *otoco.leg_requests())}
        assert legs <= {r.order_client_id for r in reports}
        assert all(r.status is OrderStatus.CANCELED for r in reports if r.order_client_id in legs)
        assert await c.open_order_lists() == ()


async def test_amend_keep_priority(make_client, stops_exchange) -> None:
    async with make_client("full", exchange=stops_exchange) as c:
        placed = await c.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.03"), price=D("80000")))
        am = AmendRequest(SYMBOL, D("0.01"), orig_client_order_id=placed.client_order_id)
        out = await c.amend_order(am)
        assert out.outcome is Outcome.ACCEPTED and out.result is not None, out.describe()
        a = out.result.amended_order
        assert (a.client_order_id, a.orig_client_order_id, a.qty) == (
            am.new_client_order_id, placed.client_order_id, D("0.01"))
        now = await c.get_order(SYMBOL, orig_client_order_id=am.new_client_order_id)
        assert now.orig_qty == D("0.01") and now.order_id == placed.order.order_id  # type: ignore[union-attr]
        up = await c.amend_order(AmendRequest(SYMBOL, D("0.02"), orig_client_order_id=am.new_client_order_id))
        assert up.outcome is Outcome.REJECTED and isinstance(up.error, AmendRejected)
        assert "quantity increase" in up.error.msg
        await cancel_all(c)


async def test_cancel_replace_success_and_failures(make_client, stops_exchange) -> None:
    async with make_client("full", exchange=stops_exchange) as c:
        old = await c.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.01"), price=D("80000")))
        req = CancelReplaceRequest(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.01"), price=D("81000")),
                                   cancel_orig_client_order_id=old.client_order_id)
        out = await c.cancel_replace(req)
        assert out.outcome is Outcome.ACCEPTED and not out.partial, out.describe()
        assert out.canceled is not None and out.canceled.status is OrderStatus.CANCELED
        assert out.new_order is not None and out.new_order.price == D("81000")
        # STOP_ON_FAILURE: the cancel fails (already cancelled) → -2022, nothing placed.
        again = CancelReplaceRequest(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.01"), price=D("82000")),
                                     cancel_orig_client_order_id=old.client_order_id)
        out2 = await c.cancel_replace(again)
        assert out2.outcome is Outcome.REJECTED and isinstance(out2.error, CancelReplaceFailed)
        assert out2.error.code == -2022 and not out2.partial
        assert out2.result is not None and out2.result.new_order_result == "NOT_ATTEMPTED"
        assert out2.result.cancel_response == ApiErrorBody(code=-2011, msg="Unknown order sent.")
        with pytest.raises(UnknownOrder):
            await c.get_order(SYMBOL, orig_client_order_id=again.new_order.client_order_id)
        # ALLOW_FAILURE: the cancel fails, the new order is placed → -2021 (partial), ACCEPTED.
        allow = CancelReplaceRequest(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.01"), price=D("82000")),
                                     cancel_orig_client_order_id=old.client_order_id,
                                     mode=CancelReplaceMode.ALLOW_FAILURE)
        out3 = await c.cancel_replace(allow)
        assert out3.outcome is Outcome.ACCEPTED and out3.partial and out3.canceled is None
        assert out3.new_order is not None and out3.new_order.client_order_id == allow.new_order.client_order_id
        assert "NOT cancelled" in out3.describe()
        await cancel_all(c)
