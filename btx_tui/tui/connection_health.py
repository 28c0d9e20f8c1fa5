"""The connection: which exchange, as whom, and how healthy it is judged from the feeds.

Kept apart from the App so connection health can be computed (and tested) from plain
feed state, without a running UI.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import SecretStr

from btx_tui.api.errors import BtxError, NetworkError
from btx_tui.api.signing import Signer
from btx_tui.tui.feeds import Feed


@dataclass(frozen=True)
class Connection:
    """Where to connect and as whom."""

    base_url: str
    api_key: str | None
    api_secret: SecretStr | Signer | None = field(repr=False, default=None)
    """The HMAC secret, or the Signer of an Ed25519/RSA private key."""
    paper: bool = False

    @property
    def label(self) -> str:
        """``PAPER`` for the bundled exchange, else the exchange's host."""
        return "PAPER" if self.paper else (urlsplit(self.base_url).hostname or self.base_url)


def short_error(exc: BaseException) -> str:
    """A few words for the status bar."""
    if isinstance(exc, NetworkError):
        return exc.short
    if isinstance(exc, BtxError):
        code = f" {exc.code}" if exc.code is not None else ""
        status = f"HTTP {exc.http_status}" if exc.http_status is not None else exc.title
        return f"{status}{code}"
    return type(exc).__name__


NO_ANSWER = "no answer"
"""The status bar's reason while feeds wait on an exchange that neither answers nor fails."""


def overdue_feeds(feeds: Iterable[Feed], now: float | None = None) -> list[Feed]:
    """Enabled feeds without an answer for longer than their interval plus their timeout."""
    now = time.monotonic() if now is None else now
    return [f for f in feeds if f.enabled() and f.last_error is None and f.overdue(now)]


def connection_state(feeds: Iterable[Feed], paused: bool, started: bool,
                     now: float | None = None) -> tuple[str, str]:
    """``(state, last error)`` from the feeds: live, degraded, down, paused or connecting.

    A feed failing, or silent for longer than its interval plus its timeout (a hung exchange
    fails nothing until the client gives up), makes the connection degraded; down when
    nothing at all has answered since, or a feed has been silent for another timeout while
    no other feed answered either.
    """
    now = time.monotonic() if now is None else now
    active = [f for f in feeds if f.enabled()]
    failing = [f for f in active if f.last_error is not None]
    error = short_error(failing[0].last_error) if failing else ""  # type: ignore[arg-type]
    if paused:
        return "paused", error
    if not started or not active:
        return ("down", error) if failing else ("connecting", "")
    silent = overdue_feeds(active, now)
    if silent and not failing:
        hung = [f for f in silent if f.overdue(now, timeouts=2)]
        latest_ok = max((f.last_ok for f in active if f.last_ok is not None), default=None)
        if hung and (latest_ok is None or now - latest_ok > min(f.interval_s + 2 * f.timeout_s for f in hung)):
            return "down", NO_ANSWER
        return "degraded", NO_ANSWER
    if failing:
        # Down: nothing at all has succeeded since the current failures began (feeds with
        # long intervals may not have tried yet, so "every feed failed" would be too slow).
        since = min(f.failing_since or 0.0 for f in failing)
        latest_ok = max((f.last_ok for f in active if f.last_ok is not None), default=None)
        if len(failing) == len(active) or latest_ok is None or latest_ok < since:
            return "down", error
        return "degraded", error
    if all(f.last_ok is None for f in active):
        return "connecting", ""
    return "live", ""


def freshest_age_s(feeds: Iterable[Feed]) -> float | None:
    """Seconds since the most recent successful fetch of any feed."""
    stamps = [f.last_ok for f in feeds if f.last_ok is not None]
    return time.monotonic() - max(stamps) if stamps else None
