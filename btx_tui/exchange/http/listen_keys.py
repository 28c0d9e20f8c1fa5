"""listenKeys of the older user-data-stream flow: which account a key streams, and until when.

``POST /api/v3/userDataStream`` creates one (or returns the account's live one, extended, as
the standard does), ``PUT`` keeps it alive for another validity period (60 min), ``DELETE``
closes it.  The registry lives beside the HTTP endpoints that manage it; the WebSocket
surface (``ws/``) only asks it which account a key belongs to and whether it has expired.

Time is passed in by the caller (the app's injectable clock), so tests expire a key without
waiting an hour.  Keys live in memory: a restarted exchange forgets them, as a client that
reconnects after a restart creates a new one anyway.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from btx_tui.exchange.errors import ApiError

__all__ = ["ListenKeys", "VALIDITY_MS"]

VALIDITY_MS = 60 * 60 * 1000


def unknown_key() -> ApiError:
    return ApiError(400, -1125, "This listenKey does not exist.")


@dataclass(slots=True)
class _Entry:
    account_id: int
    expires_at: int


class ListenKeys:
    """listenKey -> (account, expiry)."""

    def __init__(self, validity_ms: int = VALIDITY_MS) -> None:
        self.validity_ms = validity_ms
        self._keys: dict[str, _Entry] = {}

    def create(self, account_id: int, now_ms: int) -> str:
        """The account's live key, extended, or a new one."""
        for key, entry in self._keys.items():
            if entry.account_id == account_id and entry.expires_at > now_ms:
                entry.expires_at = now_ms + self.validity_ms
                return key
        self._prune(now_ms)
        key = secrets.token_urlsafe(45)[:60]
        self._keys[key] = _Entry(account_id, now_ms + self.validity_ms)
        return key

    def keep_alive(self, key: str, account_id: int, now_ms: int) -> None:
        entry = self._live(key, account_id, now_ms)
        entry.expires_at = now_ms + self.validity_ms

    def close(self, key: str, account_id: int, now_ms: int) -> None:
        self._live(key, account_id, now_ms)
        del self._keys[key]

    def account_of(self, key: str, now_ms: int) -> int | None:
        """The account a live key streams (None: unknown, closed or expired)."""
        entry = self._keys.get(key)
        if entry is None or entry.expires_at <= now_ms:
            return None
        return entry.account_id

    def _live(self, key: str, account_id: int, now_ms: int) -> _Entry:
        entry = self._keys.get(key)
        if entry is None or entry.account_id != account_id or entry.expires_at <= now_ms:
            raise unknown_key()
        return entry

    def _prune(self, now_ms: int) -> None:
        for key in [k for k, e in self._keys.items() if e.expires_at <= now_ms]:
            del self._keys[key]
