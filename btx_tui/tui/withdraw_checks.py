"""Withdrawal form logic without any UI: parsing, checks, the typed confirmation phrase.

Kept apart from the screen so the rules money depends on can be read and tested alone.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from btx_tui.api.errors import BtxError, NetworkError, OutcomeUnknown
from btx_tui.api.models_trading import CoinConfig, NetworkConfig
from btx_tui.tui.widgets.withdrawals import plain

AMOUNT_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
"""The contract's decimal format: digits, one optional dot; no sign, exponent or NaN."""

MAX_DECIMALS = 8
"""Amounts travel with at most 8 decimals (the exchange pads to 8)."""

HISTORY_INTERVAL_S = 3.0
"""How often the history (weight 1) is polled while the screen is open."""

CONFIG_EVERY = 5
"""Balances and networks (``capital/config/getall``, weight 10) are fetched every 5th poll,
and at once after a send or a manual refresh: they change far less often than a status."""


def show(value: Decimal) -> str:
    """A Decimal for reading: exact, grouped, no trailing zeros (``10000.50`` → ``10,000.5``)."""
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def new_withdraw_order_id() -> str:
    """A fresh client id for one withdrawal request (``btxw`` + 28 hex)."""
    return "btxw" + uuid.uuid4().hex[:28]


# -- the checks (pure, no widgets) --------------------------------------------------------


def parse_amount(text: str) -> tuple[Decimal | None, str | None]:
    """``(amount, problem)``: a positive Decimal in the contract's format, or why not."""
    text = text.strip()
    if not text:
        return None, None
    if not AMOUNT_RE.fullmatch(text):
        return None, "not a number: use digits and one dot, e.g. 12.5"
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None, "not a number"
    if amount <= 0:
        return None, "must be more than 0"
    if -amount.normalize().as_tuple().exponent > MAX_DECIMALS:  # type: ignore[operator]
        return None, f"at most {MAX_DECIMALS} decimals"
    return amount, None


def pattern_problem(regex: str | None, value: str) -> bool | None:
    """True if ``value`` fails ``regex``; None when there is no usable regex (the exchange decides)."""
    if not regex:
        return None
    try:
        return re.fullmatch(regex, value) is None
    except re.error:
        return None


def max_amount(coin: CoinConfig, network: NetworkConfig) -> Decimal:
    """What can leave: free minus the network fee, capped at the network's maximum, never negative."""
    most = min(coin.free - network.withdraw_fee, network.withdraw_max)
    return max(most, Decimal(0))


@dataclass(frozen=True)
class Draft:
    """The form's content, checked. ``problems`` maps a field to what is wrong with it."""

    coin: CoinConfig | None
    network: NetworkConfig | None
    address: str
    tag: str | None
    amount: Decimal | None
    problems: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing

    @property
    def fee(self) -> Decimal | None:
        return self.network.withdraw_fee if self.network else None

    @property
    def total(self) -> Decimal | None:
        """What is locked at once (and leaves the account): amount + network fee."""
        return self.amount + self.network.withdraw_fee if self.amount is not None and self.network else None

    @property
    def phrase(self) -> str:
        """What the trader types to confirm: ``<amount> <COIN>``."""
        return f"{plain(self.amount)} {self.coin.coin}" if self.amount is not None and self.coin else ""


def check(coin: CoinConfig | None, network: NetworkConfig | None, address: str, tag: str,
          amount_text: str) -> Draft:
    """Check everything that can be checked before sending; the exchange still has the last word."""
    problems: dict[str, str] = {}
    missing: list[str] = []
    address = address.strip()
    amount, amount_problem = parse_amount(amount_text)
    if coin is None:
        missing.append("coin")
    if network is None:
        missing.append("network")
    if not address:
        missing.append("address")
    elif re.search(r"\s", address):
        problems["address"] = "an address has no spaces"
    elif network is not None and pattern_problem(network.address_regex, address):
        problems["address"] = f"not a valid {network.network} address for {network.coin}"
    needs_tag = bool(network and network.memo_regex)
    if needs_tag and network is not None:
        if not tag.strip():
            missing.append("memo/tag")
        elif pattern_problem(network.memo_regex, tag.strip()):
            problems["tag"] = f"not a valid memo/tag for {network.network}"
    if amount_problem:
        problems["amount"] = amount_problem
    elif amount is None:
        missing.append("amount")
    elif coin is not None and network is not None:
        c = coin.coin
        if amount < network.withdraw_min:
            problems["amount"] = f"below the minimum of {show(network.withdraw_min)} {c} on {network.network}"
        elif amount > network.withdraw_max:
            problems["amount"] = f"above the maximum of {show(network.withdraw_max)} {c} on {network.network}"
        elif amount + network.withdraw_fee > coin.free:
            problems["amount"] = (f"amount + fee is {show(amount + network.withdraw_fee)} {c}, more than your "
                                  f"free {show(coin.free)} {c} (max {show(max_amount(coin, network))})")
    return Draft(coin, network, address, tag.strip() if needs_tag else None, amount, problems, tuple(missing))


def confirms(typed: str, draft: Draft) -> bool:
    """True if ``typed`` names the draft's amount and coin (``12.5 usdt`` confirms 12.50 USDT)."""
    parts = typed.split()
    if len(parts) != 2 or draft.amount is None or draft.coin is None:
        return False
    amount, _ = parse_amount(parts[0])
    return amount == draft.amount and parts[1].upper() == draft.coin.coin.upper()


# -- outcomes and messages -----------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    """How one withdrawal request ended: ``accepted``, ``rejected``, ``not sent`` or ``unknown``."""

    kind: str
    withdraw_order_id: str
    what: str
    detail: str = ""


def classify(exc: BaseException) -> tuple[str, str]:
    """``(kind, plain words)`` for a failed send. Only a proven refusal counts as not done."""
    if isinstance(exc, NetworkError) and not exc.maybe_sent:
        return "not sent", "the exchange could not be reached; nothing was sent"
    if isinstance(exc, (NetworkError, OutcomeUnknown)):
        return "unknown", "unknown — check the history before retrying"
    if isinstance(exc, BtxError):
        return "rejected", exc.msg
    return "unknown", "unknown — check the history before retrying"
