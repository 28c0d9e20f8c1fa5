"""The BTX v3 contract as code, shared by both sides of the wire.

The service layer (``btx_tui.api``) and the paper exchange (``btx_tui.exchange``) must agree
on what each endpoint is (method, path, security type) and what it costs (request weight),
yet neither may import the other. So the agreement lives here, below both, importing nothing
of either (``pyproject.toml``'s import-linter contracts hold that):

* :mod:`btx_tui.contract.endpoints` — the one table of endpoints and their weights;
* :mod:`btx_tui.contract.rate_limits` — how the weight window is declared and named.

The names below are re-exported so ``from btx_tui.contract import …`` keeps working.
"""

from __future__ import annotations

from btx_tui.contract.endpoints import (
    ENDPOINTS,
    UNKNOWN_ENDPOINT_WEIGHT,
    PERMISSION,
    EndpointSpec,
    Security,
    depth_weight,
    find_endpoint,
    per_symbol_ticker_weight,
    prevented_matches_weight,
    request_weight,
    ticker_24hr_weight,
)
from btx_tui.contract.rate_limits import interval_seconds, used_weight_header, weight_interval

__all__ = [
    "ENDPOINTS",
    "UNKNOWN_ENDPOINT_WEIGHT",
    "PERMISSION",
    "EndpointSpec",
    "Security",
    "depth_weight",
    "find_endpoint",
    "interval_seconds",
    "per_symbol_ticker_weight",
    "prevented_matches_weight",
    "request_weight",
    "ticker_24hr_weight",
    "used_weight_header",
    "weight_interval",
]
