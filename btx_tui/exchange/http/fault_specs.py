"""The fault vocabulary of the paper exchange: which kinds exist and how a fault is written.

Why a module of its own: the CLI (``--fault KIND:ENDPOINT:PROBABILITY[:ARG]``), the admin
endpoint's JSON body and the tests all validate faults the same way, and none of them needs
the ASGI machinery that injects them (:mod:`btx_tui.exchange.http.faults`). Kinds, by stage:

* ``before`` (answer without executing): ``500``, ``502``, ``504``, ``-1006`` (HTTP 500),
  ``html`` (HTML page, 502), ``429`` (-1003, ``Retry-After: ARG`` s, default 1);
* ``after`` (execute, then replace the answer): ``execute_then_drop`` (close the
  connection, no response), ``execute_then_503`` (JSON -1000), ``html_503`` (HTML, 503),
  ``execute_then_500``/``_502``/``_504``, ``-1007`` (HTTP 503), ``truncated`` (200 whose
  JSON body is cut in half; Content-Length matches the cut body, so HTTP framing is fine
  and only the JSON is broken);
* ``modifier`` (the normal answer, altered): ``delay`` (sleep ARG s after the request was
  received and authenticated, then execute and answer — the order is placed even if the
  client gave up), ``order_not_found_for`` (``GET /api/v3/order`` answers -2013 while the
  order is younger than ARG s), ``clock_skew`` (ARG ms added to the clock used by the
  timestamp check and to every ``serverTime``; rate-limit windows keep the true clock);
* ``stream`` (market streams, endpoint ``WS /ws`` or ``*``; applied by ``ws/stream_faults.py``
  per connection to each depth-diff event): ``ws_drop_diff``, ``ws_duplicate_diff``,
  ``ws_reorder_diff`` (delivered after the next one), ``ws_close`` (the socket is closed
  mid-stream), ``ws_stall`` (the socket stays open and goes silent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

BEFORE, AFTER, MODIFIER, STREAM = "before", "after", "modifier", "stream"
_UNKNOWN = "An unknown error occurred while processing the request."


@dataclass(frozen=True, slots=True)
class Kind:
    """How one fault kind behaves; ``arg`` is "none", "seconds", "retry" or "ms"."""

    stage: str
    status: int = 0
    code: int = 0
    msg: str = ""
    html: str = ""
    arg: str = "none"


KINDS: dict[str, Kind] = {
    "500": Kind(BEFORE, 500, -1000, _UNKNOWN),
    "502": Kind(BEFORE, 502, -1000, "Bad gateway; execution status unknown."),
    "504": Kind(BEFORE, 504, -1000, "Gateway timeout; execution status unknown."),
    "-1006": Kind(BEFORE, 500, -1006, "An unexpected response was received from the message bus. "
                  "Execution status unknown."),
    "html": Kind(BEFORE, 502, html="Bad Gateway"),
    "429": Kind(BEFORE, 429, -1003, "", arg="retry"),
    "execute_then_drop": Kind(AFTER),
    "execute_then_503": Kind(AFTER, 503, -1000, "Service unavailable; execution status unknown."),
    "html_503": Kind(AFTER, 503, html="Service Temporarily Unavailable"),
    "execute_then_500": Kind(AFTER, 500, -1000, _UNKNOWN),
    "execute_then_502": Kind(AFTER, 502, -1000, "Bad gateway; execution status unknown."),
    "execute_then_504": Kind(AFTER, 504, -1000, "Gateway timeout; execution status unknown."),
    "-1007": Kind(AFTER, 503, -1007, "Timeout waiting for response from backend server. "
                  "Send status unknown; execution status unknown."),
    "truncated": Kind(AFTER, 200),
    "delay": Kind(MODIFIER, arg="seconds"),
    "order_not_found_for": Kind(MODIFIER, arg="seconds"),
    "clock_skew": Kind(MODIFIER, arg="ms"),
    "ws_drop_diff": Kind(STREAM),
    "ws_duplicate_diff": Kind(STREAM),
    "ws_reorder_diff": Kind(STREAM),
    "ws_close": Kind(STREAM),
    "ws_stall": Kind(STREAM),
}
STREAM_KINDS = frozenset(k for k, v in KINDS.items() if v.stage == STREAM)
#: The WebSocket surface's "endpoints", as a stream fault names them.
WS_ENDPOINTS = frozenset({"WS /ws"})

_MAX_SECONDS = 600.0
_MAX_SKEW_MS = 86_400_000


class FaultError(ValueError):
    """A fault specification is invalid; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One configured fault: ``kind`` on ``endpoint`` ("METHOD /path" or "*") with ``probability``."""

    kind: str
    endpoint: str
    probability: float
    arg: float | int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "endpoint": self.endpoint, "probability": self.probability,
                "arg": self.arg}

    def matches(self, key: str) -> bool:
        return self.endpoint == "*" or self.endpoint == key


def known_endpoints() -> set[str]:
    """Every "METHOD /path" the exchange serves (what a fault's endpoint may name)."""
    from btx_tui.exchange.http.route_table import all_endpoints  # lazy: the CLI parses --fault cheaply

    return {f"{e.method} {e.path}" for e in all_endpoints()} | WS_ENDPOINTS


def make_spec(kind: Any, endpoint: Any, probability: Any, arg: Any = None,
              known: Iterable[str] | None = None) -> FaultSpec:
    """Validate the parts of a fault and build it (raises FaultError)."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise FaultError(f"unknown fault kind {str(kind)[:40]!r}; known: {', '.join(KINDS)}")
    if not isinstance(endpoint, str):
        raise FaultError("endpoint must be a string like 'POST /api/v3/order' or '*'")
    endpoint = " ".join(endpoint.split())
    known_set = set(known) if known is not None else known_endpoints()
    if endpoint != "*" and endpoint not in known_set:
        raise FaultError(f"unknown endpoint {endpoint[:80]!r}; use 'METHOD /path' of a served endpoint or '*'")
    if (kind in STREAM_KINDS) != (endpoint in WS_ENDPOINTS) and endpoint != "*":
        raise FaultError(f"fault {kind} applies to {'WS /ws' if kind in STREAM_KINDS else 'HTTP endpoints'} only")
    prob = _number(probability, "probability")
    if not 0.0 <= prob <= 1.0:
        raise FaultError("probability must be between 0 and 1")
    return FaultSpec(kind, endpoint, prob, _arg(KINDS[kind].arg, kind, arg))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise FaultError(f"{what} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FaultError(f"{what} must be a number, got {str(value)[:20]!r}") from None
    if not math.isfinite(number):
        raise FaultError(f"{what} must be finite")
    return number


def _arg(arg_type: str, kind: str, value: Any) -> float | int | None:
    if value is None or value == "":
        if arg_type in ("none", "retry"):
            return 1 if arg_type == "retry" else None
        raise FaultError(f"fault {kind} needs an ARG ({'milliseconds' if arg_type == 'ms' else 'seconds'})")
    if arg_type == "none":
        raise FaultError(f"fault {kind} takes no ARG")
    number = _number(value, f"ARG of {kind}")
    if arg_type == "seconds":
        if not 0 <= number <= _MAX_SECONDS:
            raise FaultError(f"ARG of {kind} must be 0..{_MAX_SECONDS:g} seconds")
        return number
    if number != int(number):
        raise FaultError(f"ARG of {kind} must be an integer")
    if arg_type == "retry":
        if not 1 <= number <= 3600:
            raise FaultError("ARG of 429 (Retry-After) must be 1..3600 seconds")
        return int(number)
    if abs(number) > _MAX_SKEW_MS:
        raise FaultError(f"ARG of {kind} must be within ±{_MAX_SKEW_MS} ms")
    return int(number)


def parse_fault(text: str, known: Iterable[str] | None = None) -> FaultSpec:
    """Parse the CLI form ``KIND:ENDPOINT:PROBABILITY[:ARG]`` (the endpoint has no colon)."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise FaultError(f"expected KIND:ENDPOINT:PROBABILITY[:ARG], got {text[:80]!r}")
    return make_spec(parts[0].strip(), parts[1], parts[2].strip(),
                     parts[3].strip() if len(parts) == 4 else None, known)

