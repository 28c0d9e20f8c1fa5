"""The contract's endpoint table is the one both sides read (btx_tui/contract/endpoints.py).

Every route the paper exchange serves has its row, and every row is served; each route's
security type is its row's; and for every row, over parameters a client really sends, the
weight the client books equals the weight the exchange charges — the client's params going
through its own wire encoding and the exchange's own parser, as on a real request.
"""

from __future__ import annotations

import pytest

from btx_tui.api.ratebudget import request_weight
from btx_tui.api.signing import encode_params, encode_symbols, params
from btx_tui.contract.endpoints import (
    ENDPOINTS,
    UNKNOWN_ENDPOINT_WEIGHT,
    EndpointSpec,
    find_endpoint,
)
from btx_tui.exchange.http.endpoints import Endpoint
from btx_tui.exchange.http.params import parse
from btx_tui.exchange.http.route_table import all_endpoints
from btx_tui.exchange.ws.api_methods import METHODS

_SYMBOL_LISTS = [["BTCUSDT"], ["BTCUSDT", "ETHUSDT"], *(
    [f"S{i}USDT" for i in range(n)] for n in (20, 21, 100, 101, 300))]

#: Representative parameters: every weight rule of section 3 changes value somewhere in here.
SAMPLES: list[list[tuple[str, str]]] = [
    [],
    params(("symbol", "BTCUSDT")),
    *(params(("symbols", encode_symbols(names))) for names in _SYMBOL_LISTS),
    *(params(("symbol", "BTCUSDT"), ("limit", limit))
      for limit in (1, 5, 100, 101, 500, 501, 1000, 1001, 5000)),
    params(("limit", "")), params(("limit", "ten")), params(("limit", "99999999999999")),
    params(("symbol", "BTCUSDT"), ("orderId", 7)),
    params(("orderId", 7)),
    params(("symbol", "BTCUSDT"), ("origClientOrderId", "abc-1")),
    params(("coin", "USDT"), ("limit", 1000)),
    params(("symbol", "BTCUSDT"), ("computeCommissionRates", True)),
    params(("symbol", "BTCUSDT"), ("preventedMatchId", 3)),
]


def _exchange_routes() -> dict[tuple[str, str], Endpoint]:
    routes: dict[tuple[str, str], Endpoint] = {}
    for endpoint in all_endpoints():
        key = (endpoint.method, endpoint.path)
        assert key not in routes, f"the exchange declares {key} twice"
        routes[key] = endpoint
    return routes


def _row_id(row: EndpointSpec) -> str:
    return f"{row.method} {row.path}"


def test_every_exchange_route_has_its_row_and_every_row_is_served() -> None:
    routes = set(_exchange_routes())
    rows = {(row.method, row.path) for row in ENDPOINTS}
    assert sorted(routes - rows) == [], "exchange routes without a row in the contract's table"
    assert sorted(rows - routes) == [], "rows of the contract's table the exchange does not serve"


@pytest.mark.parametrize("row", ENDPOINTS, ids=_row_id)
def test_the_route_has_its_rows_security(row: EndpointSpec) -> None:
    endpoint = _exchange_routes()[(row.method, row.path)]
    assert endpoint.security == row.security


@pytest.mark.parametrize("row", ENDPOINTS, ids=_row_id)
def test_client_and_exchange_weigh_every_request_alike(row: EndpointSpec) -> None:
    endpoint = _exchange_routes()[(row.method, row.path)]
    seen: set[int] = set()
    for sample in SAMPLES:
        booked = request_weight(row.method, row.path, sample)
        charged = endpoint.weight(parse(encode_params(sample).encode("ascii"), b""))
        assert booked == charged, f"{row.method} {row.path} with {sample}: client {booked}, exchange {charged}"
        seen.add(booked)
    # A rule that depends on parameters must be seen to: the samples reach its every value.
    if not isinstance(row.weight, int):
        assert len(seen) > 1, f"{_row_id(row)}: the samples never change its weight"


@pytest.mark.parametrize(("method", "path", "sample", "weight"), [
    ("GET", "/sapi/v1/capital/config/getall", [], 10),  # the two sides once said 1 and 10
    ("GET", "/sapi/v1/margin/isolated/allPairs", [], 10),
    ("GET", "/api/v3/ticker/price", params(("symbols", encode_symbols(["BTCUSDT"]))), 2),
    ("GET", "/api/v3/ticker/24hr", params(("symbols", "")), 80),
    ("GET", "/api/v3/depth", params(("limit", "ten")), 5),
    ("GET", "/api/v3/noSuchThing", [], UNKNOWN_ENDPOINT_WEIGHT),
])
def test_weights_where_the_sides_once_differed(method: str, path: str, sample: list, weight: int) -> None:
    assert request_weight(method, path, sample) == weight
    row = find_endpoint(method, path)
    if row is not None:
        endpoint = _exchange_routes()[(method, path)]
        assert endpoint.weight(parse(encode_params(sample).encode("ascii"), b"")) == weight


def test_every_websocket_api_method_runs_an_endpoint_of_the_table() -> None:
    """The WebSocket API charges its REST endpoint's weight: each method must have a row."""
    assert {"depth", "order.place", "openOrders.status"} <= set(METHODS)
    missing = sorted(name for name, (method, path) in METHODS.items() if find_endpoint(method, path) is None)
    assert missing == [], "WebSocket API methods whose REST endpoint has no row"
