"""``POST /admin/accounts``: a new account on a running paper exchange, funded and keyed like
the demo account, answered as its keys in the ``demo-keys.json`` shape.

Why: a test (or a script) that needs an account of its own with known balances need not start
an exchange of its own; the test suite gives each test a fresh account on one exchange per
worker (``tests/conftest.py``). Guarded like ``/admin/deposit`` (``admin_access.py``).

Parameters (form or query): ``label`` (optional, ``[a-zA-Z0-9-_]{1,36}``; default
``paper-account``): stored with the account, for whoever reads the database. The demo
account's label and the synthetic market's traders' are refused, since those labels are how
the exchange finds them again after a restart.
"""

from __future__ import annotations

import re
from typing import Any

from btx_tui.exchange.http.admin_access import require_admin
from btx_tui.exchange.http.endpoints import Context, route
from btx_tui.exchange.http.params import CLIENT_ID_PATTERN, illegal
from btx_tui.exchange.state.accounts import DEMO_LABEL

__all__ = ["ADMIN_ACCOUNTS_PATH", "DEFAULT_LABEL", "ENDPOINTS"]

ADMIN_ACCOUNTS_PATH = "/admin/accounts"
DEFAULT_LABEL = "paper-account"
_LABEL_RE = re.compile(CLIENT_ID_PATTERN)
_RESERVED = re.compile(rf"^(?:{DEMO_LABEL}|synthetic-.*)$", re.IGNORECASE)
_LEGAL = f"{CLIENT_ID_PATTERN}, not {DEMO_LABEL} nor synthetic-*"


def create_account(ctx: Context) -> Any:
    """Validate, then create the account and its keys in one transaction."""
    require_admin(ctx)
    label = ctx.params.get("label")
    if label is None:
        label = DEFAULT_LABEL
    elif not _LABEL_RE.match(label) or _RESERVED.match(label):
        raise illegal("label", _LEGAL)
    accounts = ctx.exchange.accounts
    account_id = accounts.create_like_demo(label)
    return {"account": account_id, "label": label, "keys": accounts.keys_of(account_id)}


# Security type and weight: the route's row in the contract's table (btx_tui/contract/endpoints.py).
ENDPOINTS = [route("POST", ADMIN_ACCOUNTS_PATH, create_account)]
