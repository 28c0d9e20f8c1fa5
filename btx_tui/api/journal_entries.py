"""What the order journal holds: entry states, the entry record, and where journals live.

Kept apart from :mod:`btx_tui.api.journal` (the SQLite store) because reconciliation and the
dashboard read these types without caring how they are stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from .models_trading import Order, OrderStatus

__all__ = [
    "FINAL_STATES",
    "AmendEntry",
    "JournalEntry",
    "JournalState",
    "ListEntry",
    "account_fingerprint",
    "journal_file",
    "state_of",
]


class JournalState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    ABSENT = "absent"
    DONE = "done"
    """Order lists only: every order of the list has finished (``listOrderStatus`` ALL_DONE)."""

    @property
    def is_final(self) -> bool:
        """The order can no longer change (absent is final unless the exchange contradicts it)."""
        return self not in (JournalState.PENDING, JournalState.ACCEPTED)


FINAL_STATES = tuple(s.value for s in JournalState if s.is_final)
"""The stored values of the states an order can no longer leave."""


_STATUS_STATE = {
    OrderStatus.NEW: JournalState.ACCEPTED,
    OrderStatus.PENDING_NEW: JournalState.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED: JournalState.ACCEPTED,
    OrderStatus.PENDING_CANCEL: JournalState.ACCEPTED,
    OrderStatus.FILLED: JournalState.FILLED,
    OrderStatus.CANCELED: JournalState.CANCELED,
    OrderStatus.EXPIRED: JournalState.EXPIRED,
    OrderStatus.EXPIRED_IN_MATCH: JournalState.EXPIRED,
    OrderStatus.REJECTED: JournalState.REJECTED,
}


def state_of(order: Order) -> JournalState:
    """The journal state an exchange order report implies (no status → accepted)."""
    return _STATUS_STATE.get(order.status, JournalState.ACCEPTED) if order.status else JournalState.ACCEPTED


def account_fingerprint(base_url: str, api_key: str | None) -> str:
    """A 16-hex-digit SHA-256 prefix naming one exchange account; reveals neither URL nor key."""
    material = f"{base_url.rstrip('/')}\n{api_key or ''}".encode()
    return hashlib.sha256(material).hexdigest()[:16]


def journal_file(data_dir: Path, base_url: str, api_key: str | None) -> Path:
    """``<data_dir>/journal/<fingerprint>.sqlite3`` — the journal of one exchange account."""
    return Path(data_dir) / "journal" / f"{account_fingerprint(base_url, api_key)}.sqlite3"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One named order as the journal knows it."""

    client_order_id: str
    symbol: str
    side: str
    type: str
    state: JournalState
    origin: str
    """``local`` (this app sent it) or ``adopted`` (found on the exchange with our prefix)."""
    quantity: Decimal | None = None
    price: Decimal | None = None
    quote_order_qty: Decimal | None = None
    time_in_force: str | None = None
    order_id: int | None = None
    exchange_status: str | None = None
    executed_qty: Decimal | None = None
    note: str = ""
    created_ms: int = 0
    """When the intent was written (or the adopted order created), client clock, ms."""
    updated_ms: int = 0
    """Last change of state or exchange fields, client clock, ms: for an ``absent`` entry, when
    it was proven absent (nothing else touches an absent entry). Drives pruning and rechecks."""

    stop_price: Decimal | None = None
    """Trigger price of a stop / take-profit order."""
    trailing_delta: int | None = None
    """Trailing distance (bps) of a trailing stop."""
    list_client_order_id: str | None = None
    """The ``listClientOrderId`` of the list this order was placed in (None: a single order)."""

    @property
    def description(self) -> str:
        """``symbol|side|type``: what the open-orders table shows for an unresolved intent."""
        return f"{self.symbol}|{self.side}|{self.type}"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One named order list (OCO / OTO / OTOCO) as the journal knows it; its legs are
    :class:`JournalEntry` rows carrying its ``list_client_order_id``.

    ``state``: ``pending`` (outcome unknown), ``accepted`` (some leg can still execute),
    ``done`` (the exchange says ALL_DONE; each leg's own entry tells how it ended),
    ``rejected`` / ``absent`` (it never existed).
    """

    list_client_order_id: str
    symbol: str
    contingency: str
    """``OCO``, ``OTO`` or ``OTOCO``."""
    state: JournalState
    origin: str
    order_list_id: int | None = None
    list_order_status: str | None = None
    note: str = ""
    created_ms: int = 0
    updated_ms: int = 0


@dataclass(frozen=True, slots=True)
class AmendEntry:
    """One amend keepPriority: the order called ``old_client_order_id`` becomes
    ``new_client_order_id`` with ``new_qty``. ``pending`` until known; ``accepted`` (done),
    ``rejected`` or ``absent`` (proven not to have happened)."""

    new_client_order_id: str
    old_client_order_id: str | None
    symbol: str
    new_qty: Decimal
    state: JournalState
    note: str = ""
    created_ms: int = 0
    updated_ms: int = 0
