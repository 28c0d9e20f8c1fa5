"""Who may call the paper exchange's own admin endpoints (``/admin/deposit``, ``/admin/accounts``).

Loopback callers only, with the token the running exchange wrote to ``DATA_DIR/admin-token``
(0600) in ``X-BTX-ADMIN-TOKEN``: whoever can read the data directory can mint paper money and
paper accounts, nobody else. (``/admin/faults`` has a token of its own: ``faults.py``.)
"""

from __future__ import annotations

import hmac
import ipaddress

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.endpoints import Context
from btx_tui.exchange.state.deposits import ADMIN_TOKEN_FILE

__all__ = ["ADMIN_TOKEN_HEADER", "require_admin"]

ADMIN_TOKEN_HEADER = "X-BTX-ADMIN-TOKEN"


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def require_admin(ctx: Context) -> None:
    """Raise the contract's error unless the caller is on loopback and sent the admin token."""
    if not _is_loopback(ctx.client_ip):
        raise ApiError(403, -1000, "The admin endpoint is reachable from loopback only.")
    expected = ctx.exchange.deposits.admin_token()
    given = ctx.headers.get(ADMIN_TOKEN_HEADER.lower(), "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise ApiError(401, -2015, f"Missing or invalid admin token (see {ADMIN_TOKEN_FILE} in the data directory).")
