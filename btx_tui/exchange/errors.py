"""The one exception the HTTP layer turns into a JSON error response.

Everything the contract (``btx-v3-api.md`` section 4) names as a client error is raised as
:class:`ApiError` carrying the HTTP status, the negative code and the exact message text, so
``http/app.py`` never has to know why a request failed.  The small constructors below keep the
message texts in one place: clients (and ccxt) match on them.
"""

from __future__ import annotations

__all__ = [
    "ApiError", "invalid_symbol", "filter_failure", "insufficient_balance",
    "would_take", "duplicate_order", "market_closed", "unknown_order", "order_not_found",
    "withdraw_error", "would_trigger", "order_rejected",
]

MSG_INSUFFICIENT = "Account has insufficient balance for requested action."
MSG_WOULD_TAKE = "Order would immediately match and take."
MSG_DUPLICATE = "Duplicate order sent."
MSG_MARKET_CLOSED = "Market is closed."
MSG_UNKNOWN_ORDER = "Unknown order sent."
MSG_NO_ORDER = "Order does not exist."
MSG_INVALID_SYMBOL = "Invalid symbol."
MSG_WOULD_TRIGGER = "Order would trigger immediately."
MSG_OCO_PRICES = "The relationship of the prices for the orders is not correct."


class ApiError(Exception):
    """A documented API error: ``{"code": code, "msg": msg}`` with ``http_status``."""

    def __init__(self, http_status: int, code: int, msg: str,
                 headers: dict[str, str] | None = None, data: dict | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.http_status = http_status
        self.code = code
        self.msg = msg
        self.headers = headers or {}
        self.data = data
        """Extra payload of the error (cancelReplace's ``data``); None for most errors."""

    def body(self) -> dict:
        """The JSON error body (with ``data`` when the error carries one)."""
        if self.data is not None:
            return {"code": self.code, "msg": self.msg, "data": self.data}
        return {"code": self.code, "msg": self.msg}

    def __repr__(self) -> str:
        return f"ApiError({self.http_status}, {self.code}, {self.msg!r})"


def invalid_symbol() -> ApiError:
    return ApiError(400, -1121, MSG_INVALID_SYMBOL)


def filter_failure(name: str) -> ApiError:
    """-1013 for a symbol filter; ``name`` is e.g. PRICE_FILTER (no trailing period)."""
    return ApiError(400, -1013, f"Filter failure: {name}")


def insufficient_balance() -> ApiError:
    return ApiError(400, -2010, MSG_INSUFFICIENT)


def would_take() -> ApiError:
    return ApiError(400, -2010, MSG_WOULD_TAKE)


def duplicate_order() -> ApiError:
    return ApiError(400, -2010, MSG_DUPLICATE)


def market_closed() -> ApiError:
    return ApiError(400, -2010, MSG_MARKET_CLOSED)


def unknown_order() -> ApiError:
    """-2011: cancel of an unknown or already closed order."""
    return ApiError(400, -2011, MSG_UNKNOWN_ORDER)


def order_not_found() -> ApiError:
    """-2013: query of an order that does not exist."""
    return ApiError(400, -2013, MSG_NO_ORDER)


def withdraw_error(code: int, msg: str) -> ApiError:
    """A -4xxx withdrawal rejection (HTTP 400); see ``withdrawals.py`` for the codes."""
    return ApiError(400, code, msg)


def would_trigger() -> ApiError:
    """-2010: a stop price the last trade price already meets."""
    return ApiError(400, -2010, MSG_WOULD_TRIGGER)


def order_rejected(msg: str) -> ApiError:
    """-2010 with one of the standard's other NEW_ORDER_REJECTED messages."""
    return ApiError(400, -2010, msg)
