"""``btx-tui exchange deposit``: credit a deposit on a paper exchange's data directory.

A running exchange holds the books and balances in memory, so the deposit must go through it:
``POST /admin/deposit`` on the URL it announced, with the token it wrote to ``admin-token``.
With none running, the exchange is opened in this process (under its lock) and credited
directly. Either way the answer is the ``deposit/hisrec`` entry of the new deposit.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from btx_tui.exchange.process import single_instance
from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.state.deposits import ADMIN_TOKEN_FILE

__all__ = ["DepositError", "deposit"]


class DepositError(RuntimeError):
    """The deposit was refused; the message says why."""


def deposit(data_dir: Path, amount: Decimal, *, coin: str | None = None, network: str | None = None,
            address: str | None = None, account: int | None = None) -> dict:
    """Credit ``amount`` to ``address``, or to ``account``'s (default: demo) address for ``coin``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = single_instance.acquire_lock(data_dir)
    except single_instance.DataDirBusy as busy:
        return _through_running_exchange(data_dir, busy.url, amount, coin, network, address, account)
    try:
        from btx_tui.exchange.state.exchange import Exchange

        exchange = Exchange.open(data_dir)
        try:
            if address is None:
                if coin is None:
                    raise DepositError("give --address, or --coin (and --network, --account)")
                acct = account if account is not None else exchange.accounts.demo_account_id
                if not exchange.accounts.exists(acct):
                    raise DepositError(f"unknown account {acct}")
                address = exchange.deposits.address(acct, coin, network)["address"]
            return exchange.deposits.credit(address, amount)
        except ApiError as exc:
            raise DepositError(exc.msg) from None
        finally:
            exchange.close()
    finally:
        lock.close()


def _through_running_exchange(data_dir: Path, url: str | None, amount: Decimal, coin: str | None,
                              network: str | None, address: str | None, account: int | None) -> dict:
    import httpx

    if not url:
        raise DepositError(f"a paper exchange holds {data_dir} but announced no URL")
    try:
        token = (data_dir / ADMIN_TOKEN_FILE).read_text().strip()
    except OSError as exc:
        raise DepositError(f"cannot read {data_dir / ADMIN_TOKEN_FILE}: {exc.strerror}") from None
    form = {k: v for k, v in (("amount", str(amount)), ("coin", coin), ("network", network),
                              ("address", address), ("account", None if account is None else str(account)))
            if v is not None}
    # Our own exchange on loopback: its certificate (if any) may be self-signed.
    loopback = urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
    try:
        response = httpx.post(url + "/admin/deposit", data=form, headers={"X-BTX-ADMIN-TOKEN": token},
                              timeout=10, verify=not loopback, trust_env=False)
    except httpx.HTTPError as exc:
        raise DepositError(f"the running exchange at {url} did not answer: {exc}") from None
    try:
        body = response.json()
    except json.JSONDecodeError:
        raise DepositError(f"unexpected answer from {url}: HTTP {response.status_code}") from None
    if response.status_code != 200:
        raise DepositError(body.get("msg", f"HTTP {response.status_code}") if isinstance(body, dict) else str(body))
    return body
