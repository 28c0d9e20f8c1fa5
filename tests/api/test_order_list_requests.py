"""Request objects of the new calls: the standard's wire names, bad input refused with a clear
error, and the -2021/-2022 error bodies turned into typed errors carrying their ``data``."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from btx_tui.api.errors import AmendRejected, CancelReplaceFailed, error_from_response
from btx_tui.api.models_orderlists import ApiErrorBody, CancelReplaceResult
from btx_tui.api.order_changes import AmendRequest, CancelReplaceRequest
from btx_tui.api.order_lists import ListLeg, OcoRequest, OtocoRequest
from btx_tui.api.orders import OrderRequest

D = Decimal


def test_otoco_wire_names() -> None:
    req = OtocoRequest("BTCUSDT", "BUY", D("0.01"), ListLeg("LIMIT", price=D("80000"), client_order_id="w"),
                       "SELL", D("0.01"),
                       pending_above=ListLeg("TAKE_PROFIT_LIMIT", price=D("99000"), stop_price=D("98000"),
                                             client_order_id="a"),
                       pending_below=ListLeg("STOP_LOSS", trailing_delta=150, client_order_id="b"),
                       list_client_order_id="L1")
    wire = req.to_params()
    assert wire[:2] == [("symbol", "BTCUSDT"), ("listClientOrderId", "L1")]
    d = dict(wire)
    assert (d["workingType"], d["workingPrice"], d["workingTimeInForce"], d["workingClientOrderId"]) == (
        "LIMIT", "80000", "GTC", "w")
    assert (d["pendingAboveType"], d["pendingAbovePrice"], d["pendingAboveStopPrice"],
            d["pendingAboveTimeInForce"]) == ("TAKE_PROFIT_LIMIT", "99000", "98000", "GTC")
    assert (d["pendingBelowType"], d["pendingBelowTrailingDelta"]) == ("STOP_LOSS", "150")
    assert "pendingBelowPrice" not in d and "pendingBelowTimeInForce" not in d
    assert [leg.client_order_id for leg in req.leg_requests()] == ["w", "a", "b"]
    assert req.leg_requests()[2].trailing_delta == 150


def test_bad_input_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(TypeError, match="price must be a Decimal"):
        ListLeg("LIMIT_MAKER", price=99000.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="client_order_id"):
        ListLeg("LIMIT_MAKER", price=D("1"), client_order_id="bad id!")
    with pytest.raises(ValueError, match="list_client_order_id"):
        OcoRequest("BTCUSDT", "SELL", D("1"), ListLeg("LIMIT_MAKER", price=D("2")),
                   ListLeg("STOP_LOSS", stop_price=D("1")), list_client_order_id="x" * 37)
    with pytest.raises(TypeError, match="trailing_delta must be an int"):
        OrderRequest("BTCUSDT", "SELL", "STOP_LOSS", quantity=D("1"), trailing_delta=D("1.5"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="order_id or orig_client_order_id"):
        AmendRequest("BTCUSDT", D("1"))
    with pytest.raises(ValueError, match="above zero"):
        AmendRequest("BTCUSDT", D("0"), order_id=1)
    with pytest.raises(ValueError, match="cancel_order_id or cancel_orig_client_order_id"):
        CancelReplaceRequest(OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("1"), price=D("1")))


def test_cancel_replace_errors_carry_their_data() -> None:
    body = (b'{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{"cancelResult":"FAILURE",'
            b'"newOrderResult":"SUCCESS","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},'
            b'"newOrderResponse":{"symbol":"BTCUSDT","orderId":9,"orderListId":-1,"clientOrderId":"n",'
            b'"transactTime":1,"price":"1.00","origQty":"1","status":"NEW"}}}')
    err = error_from_response(409, body, httpx.Headers())
    assert isinstance(err, CancelReplaceFailed) and err.partial and err.http_status == 409
    result = CancelReplaceResult.model_validate(err.data)
    assert result.cancel_response == ApiErrorBody(code=-2011, msg="Unknown order sent.")
    assert result.new_order is not None and result.new_order.order_id == 9 and result.canceled is None
    err = error_from_response(400, b'{"code":-2022,"msg":"Order cancel-replace failed.","data":null}',
                              httpx.Headers())
    assert isinstance(err, CancelReplaceFailed) and not err.partial and err.data is None
    err = error_from_response(400, b'{"code":-2038,"msg":"Order amend (quantity increase) is not supported."}',
                              httpx.Headers())
    assert isinstance(err, AmendRejected) and err.data is None
