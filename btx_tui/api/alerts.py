"""Price alerts: above / below / crossing a price, or a % move from the price when set.

Pure model and its file (no Textual): :class:`AlertBook` keeps the alerts in a JSON file in
the data dir, written atomically (temporary file, fsync, rename) after every change, so a
crash leaves the old list or the new one, never half a file.  A file that cannot be read or
parsed raises :class:`AlertsFileError` naming the file and the reason - the app shows it and
carries on without alerts; the file is left as it is for the user to inspect.

:meth:`AlertBook.evaluate` is fed ticker updates (last prices); each alert fires **once**:
it is then marked fired (with the time and price) and never fires again until removed.
Prices are Decimal end to end, stored as strings.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

__all__ = ["Alert", "AlertBook", "AlertError", "AlertKind", "AlertsFileError", "ALERTS_FILE"]

ALERTS_FILE = "alerts.json"
_VERSION = 1


class AlertError(ValueError):
    """An alert that cannot be set (bad symbol, price or percentage) or an unknown id."""


class AlertsFileError(Exception):
    """The alerts file exists but cannot be read or understood."""


class AlertKind(StrEnum):
    ABOVE = "above"        # last >= price
    BELOW = "below"        # last <= price
    CROSS = "cross"        # the price passes the level from the side it was on when set
    MOVE = "move"          # last moved by pct % from the price when set (signed: +5 up, -5 down)


@dataclass(frozen=True)
class Alert:
    id: str
    symbol: str
    kind: AlertKind
    level: Decimal
    """The price that fires it (for MOVE: the price when set × (1 + pct/100))."""
    ref_price: Decimal
    """The last price when the alert was set."""
    created_ms: int
    pct: Decimal | None = None
    fired_ms: int | None = None
    fired_price: Decimal | None = None

    @property
    def fired(self) -> bool:
        return self.fired_ms is not None

    def triggered_by(self, last: Decimal) -> bool:
        """Whether ``last`` fires this alert (ignoring whether it already fired)."""
        if self.kind is AlertKind.ABOVE:
            return last >= self.level
        if self.kind is AlertKind.BELOW:
            return last <= self.level
        up = self.level > self.ref_price  # CROSS and MOVE: towards the level, from where it was
        return last >= self.level if up else last <= self.level

    def describe(self) -> str:
        if self.kind is AlertKind.MOVE:
            return f"{self.symbol} moves {self.pct:+}% from {self.ref_price} (to {self.level})"
        return f"{self.symbol} {self.kind.value} {self.level}"


def _dec(value: object, what: str) -> Decimal:
    try:
        d = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise AlertError(f"{what}: {value!r} is not a number") from None
    if not d.is_finite():
        raise AlertError(f"{what}: {value!r} is not a number")
    return d


class AlertBook:
    """The alerts of one data dir; every change is saved before the call returns."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._alerts: dict[str, Alert] = {}

    @classmethod
    def open(cls, data_dir: Path) -> AlertBook:
        """Load ``data_dir/alerts.json`` (an empty book when it does not exist yet)."""
        book = cls(Path(data_dir) / ALERTS_FILE)
        book.load()
        return book

    # ---------------------------------------------------------------- file

    def load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._alerts = {}
            return
        except OSError as exc:
            raise AlertsFileError(f"cannot read the alerts file {self.path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != _VERSION:
                raise ValueError(f"expected a version {_VERSION} alerts file")
            alerts = {}
            for raw in data["alerts"]:
                a = Alert(id=str(raw["id"]), symbol=str(raw["symbol"]), kind=AlertKind(raw["kind"]),
                          level=Decimal(raw["level"]), ref_price=Decimal(raw["ref_price"]),
                          created_ms=int(raw["created_ms"]),
                          pct=Decimal(raw["pct"]) if raw.get("pct") is not None else None,
                          fired_ms=int(raw["fired_ms"]) if raw.get("fired_ms") is not None else None,
                          fired_price=Decimal(raw["fired_price"]) if raw.get("fired_price") is not None else None)
                alerts[a.id] = a
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise AlertsFileError(f"the alerts file {self.path} is damaged ({exc or type(exc).__name__}); "
                                  "fix or remove it to set alerts again") from None
        self._alerts = alerts

    def _save(self, alerts: dict[str, Alert]) -> None:
        data = {"version": _VERSION, "alerts": [
            {k: (format(v, "f") if isinstance(v, Decimal) else v.value if isinstance(v, AlertKind) else v)
             for k, v in asdict(a).items()} for a in alerts.values()]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".alerts.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._alerts = alerts  # memory follows the file only once the file is written

    # ------------------------------------------------------------- changes

    def add(self, symbol: str, kind: AlertKind | str, last_price: Decimal, now_ms: int, *,
            price: Decimal | str | None = None, pct: Decimal | str | None = None) -> Alert:
        """Set an alert on ``symbol`` whose last price is ``last_price``; AlertError when invalid."""
        symbol = symbol.strip().upper()
        if not symbol.isalnum():
            raise AlertError(f"symbol {symbol!r} is not a market name")
        try:
            kind = AlertKind(kind)
        except ValueError:
            raise AlertError(f"unknown alert kind {kind!r} (above, below, cross, move)") from None
        ref = _dec(last_price, "last price")
        if ref <= 0:
            raise AlertError(f"{symbol} has no price yet: an alert needs one")
        if kind is AlertKind.MOVE:
            if pct is None or price is not None:
                raise AlertError("a move alert takes a percentage, not a price")
            p = _dec(pct, "percentage")
            if p == 0 or p <= -100:
                raise AlertError(f"a move of {p}% never happens: use a non-zero percentage above -100")
            level = ref * (1 + p / 100)
        else:
            if price is None or pct is not None:
                raise AlertError(f"an {kind.value} alert takes a price, not a percentage")
            p = None
            level = _dec(price, "price")
            if level <= 0:
                raise AlertError(f"price {level} must be above zero")
            if kind is AlertKind.CROSS and level == ref:
                raise AlertError(f"{symbol} is at {level} now: a crossing needs a price on either side")
        alert = Alert(secrets.token_hex(4), symbol, kind, level, ref, now_ms, pct=p)
        while alert.id in self._alerts:  # pragma: no cover - 1 in 4 billion
            alert = replace(alert, id=secrets.token_hex(4))
        self._save({**self._alerts, alert.id: alert})
        return alert

    def remove(self, alert_id: str) -> Alert:
        if alert_id not in self._alerts:
            raise AlertError(f"no alert {alert_id!r}")
        alerts = dict(self._alerts)
        gone = alerts.pop(alert_id)
        self._save(alerts)
        return gone

    def list(self, symbol: str | None = None) -> list[Alert]:
        """The alerts (of ``symbol``), oldest first; fired ones included (see :attr:`Alert.fired`)."""
        return sorted((a for a in self._alerts.values() if symbol is None or a.symbol == symbol),
                      key=lambda a: (a.created_ms, a.id))

    def evaluate(self, last_prices: Mapping[str, Decimal], now_ms: int) -> list[Alert]:
        """Fire every alert the ``last_prices`` trigger (once each); returns the ones just fired."""
        fired = []
        for a in self.list():
            last = last_prices.get(a.symbol)
            if not a.fired and last is not None and last > 0 and a.triggered_by(last):
                fired.append(replace(a, fired_ms=now_ms, fired_price=last))
        if fired:
            self._save({**self._alerts, **{a.id: a for a in fired}})
        return fired
