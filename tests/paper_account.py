"""A fresh account of a test's own on a paper exchange it shares with the other tests of its
worker (the ``fresh_account`` fixture in ``tests/conftest.py``; no tests here).

Starting a paper exchange costs a process (about half a second to start and stop, more under
load); most tests only need an account with known balances and an empty book. The shared
exchange runs without a synthetic market, so the only orders in it are the tests' own: a new
account is made through the exchange's ``POST /admin/accounts`` (funded and keyed like the
demo account), and :meth:`PaperAccount.cancel_everything` cancels every order and order list
it left, so the next test on the worker finds the book empty again.

A :class:`PaperAccount` answers what tests use on a :class:`PaperExchange` (``base_url``,
``keys``, ``key(name)``), so converting a test is a fixture swap. It has no ``data_dir``,
``stop`` or ``kill`` on purpose: a test that needs those needs an exchange of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from btx_tui.exchange.process.launcher import PaperExchange

__all__ = ["PaperAccount", "SESSION_WEIGHT_LIMIT", "SESSION_WEIGHT_WINDOW_S", "Venue", "new_account"]

SESSION_WEIGHT_LIMIT = 1_000_000
SESSION_WEIGHT_WINDOW_S = 59
"""The shared exchange's request-weight limit and window. Weight is counted per client IP, and
every test of a worker calls from 127.0.0.1, so on the contract's 6000 per minute the tests
would spend one budget together, and a client that saw another test's weight in
``X-MBX-USED-WEIGHT-1M`` would rightly wait for the window to pass. An exchange of its own gave
each test a budget of its own; here the limit is out of reach instead, and the window is
59 s, so the header is ``x-mbx-used-weight-59s``: a client that has not read exchangeInfo
(the service-layer tests' clients) keeps to its own count and is not held back by weight
other tests spent, and one that has (the dashboard) adopts the window and the limit. Tests of
the limits themselves keep an exchange of their own."""


@dataclass
class PaperAccount:
    """An account on a shared paper exchange, with the demo account's funding and key names."""

    exchange: PaperExchange
    """The shared exchange (do not stop it: the worker's other tests use it)."""
    account_id: int
    keys: dict[str, dict] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.exchange.base_url

    def key(self, name: str = "full") -> tuple[str, str]:
        """``(api_key, api_secret)`` of one of the account's keys: ``full``, ``trade`` or ``read``."""
        entry = self.keys[name]
        return entry["api_key"], entry["api_secret"]

    def cancel_everything(self) -> None:
        """Cancel every open order and order list of the account on every symbol, then check
        that none is left (AssertionError otherwise: the next test would find them)."""
        with httpx.Client(base_url=self.base_url, timeout=30.0, trust_env=False) as http:
            symbols = {o["symbol"] for o in self._signed(http, "GET", "/api/v3/openOrders")}
            symbols |= {o["symbol"] for o in self._signed(http, "GET", "/api/v3/openOrderList")}
            for symbol in sorted(symbols):
                self._signed(http, "DELETE", "/api/v3/openOrders", symbol=symbol)
            left = self._signed(http, "GET", "/api/v3/openOrders")
            lists = self._signed(http, "GET", "/api/v3/openOrderList")
        assert not left and not lists, f"account {self.account_id} still has open orders: {left} {lists}"

    def _signed(self, http: httpx.Client, method: str, path: str, **params: str) -> list[dict]:
        api_key, secret = self.key("full")
        query = urlencode({**params, "timestamp": str(time.time_ns() // 1_000_000)})
        signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        response = http.request(method, f"{path}?{query}&signature={signature}",
                                headers={"X-MBX-APIKEY": api_key})
        response.raise_for_status()
        return response.json()


Venue = PaperExchange | PaperAccount
"""What a test trades on: an exchange of its own or an account on the shared one (helpers use
only ``base_url`` and ``key(name)``)."""


def new_account(exchange: PaperExchange, label: str = "test") -> PaperAccount:
    """A new account on the running ``exchange`` (``POST /admin/accounts`` with its admin token)."""
    token = (exchange.data_dir / "admin-token").read_text().strip()
    response = httpx.post(exchange.base_url + "/admin/accounts", data={"label": label},
                          headers={"X-BTX-ADMIN-TOKEN": token}, timeout=30.0, trust_env=False)
    response.raise_for_status()
    body = response.json()
    return PaperAccount(exchange, body["account"], {k["name"]: k for k in body["keys"]})
