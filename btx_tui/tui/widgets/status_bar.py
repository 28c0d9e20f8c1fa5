"""The status bar: mode, connection, latency, data age, session P&L, rate budget, clock offset, permissions.

Everything a trader needs to trust (or distrust) what the rest of the screen shows, on one
line. ``PAPER`` has its own colour so nobody mistakes the paper exchange for a real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from btx_tui.tui.formatting import fmt_fixed

PERMISSIONS = ("READ", "TRADE", "WITHDRAW")
"""Shown in full where they fit, as their initials (``R T W``) where they would not."""


@dataclass(frozen=True)
class StreamStatus:
    """How one kind of data arrives: by a live stream, or by polling (and why)."""

    label: str
    """``book``, ``tape``, ``chart``, ``tick``, ``acct``."""
    live: bool
    lag_ms: int | None = None
    reconnects: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class StatusInfo:
    """A snapshot of the session's health, rendered by :class:`StatusBar`."""

    exchange: str
    """``PAPER`` for the bundled exchange, else the exchange's host."""
    paper: bool
    connection: str = "connecting"
    """``connecting`` | ``live`` | ``degraded`` | ``down`` | ``paused``."""
    last_error: str = ""
    latency_ms: float | None = None
    data_age_s: float | None = None
    weight_used: int = 0
    weight_limit: int = 6000
    paused_for_s: float = 0.0
    """Seconds every request is still held back after a 429/418."""
    clock_offset_ms: int | None = None
    permissions: frozenset[str] = frozenset()
    session_pnl: Decimal | None = None
    """P&L since launch in USDT (None until the fill history is loaded)."""
    streams: tuple[StreamStatus, ...] | None = None
    """Each kind's delivery (None: streams are off, everything polls)."""


class StatusBar(Static):
    """One line at the top of the dashboard."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
    }
    StatusBar > .status-bar--paper { background: $warning; color: $background; text-style: bold; }
    StatusBar > .status-bar--live { background: $error; color: $text; text-style: bold; }
    StatusBar > .status-bar--ok { color: $success; text-style: bold; }
    StatusBar > .status-bar--warn { color: $warning; text-style: bold; }
    StatusBar > .status-bar--bad { color: $error; text-style: bold; }
    StatusBar > .status-bar--dim { color: $text-muted; }
    """

    COMPONENT_CLASSES = {
        "status-bar--paper", "status-bar--live", "status-bar--ok",
        "status-bar--warn", "status-bar--bad", "status-bar--dim",
    }

    def __init__(self, info: StatusInfo, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.info = info
        self._painted: tuple[int, Text] | None = None
        """The bar's width and the line last drawn for it."""

    def show(self, info: StatusInfo) -> None:
        """Show ``info`` (drawn for the bar's width at the next refresh).

        The store reports health on every fetched or streamed message, several times a second
        on streams; most reports read the same once rounded for the line, and a line that reads
        the same is not repainted (each repaint is a frame of its own).
        """
        width = self.size.width
        self.info = info
        if not (width and self._painted == (width, self.render_info(info, width))):
            self.refresh()

    def render(self) -> Text:
        width = self.size.width or None
        text = self.render_info(self.info, width)
        self._painted = (width, text) if width else None
        return text

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"status-bar--{name}")

    def render_info(self, info: StatusInfo, width: int | None = None) -> Text:
        """The line for ``info``, fitted to ``width`` cells (None: everything, in full).

        Narrow terminals lose the least important parts first: the session P&L goes (the
        positions tab has it), the permissions shrink to their initials (``R T W``), then the
        clock offset, the round trip, the streams' lags, the rate weight and the per-kind stream
        words (``⚡4/5`` instead) go, in that order; the exchange, the connection state and the
        data's age always stay.
        """
        variants = [(False, ()), (False, ("pnl",)), (True, ("pnl",)), (True, ("pnl", "clock")),
                    (True, ("pnl", "clock", "rtt")), (True, ("pnl", "clock", "rtt", "lag")),
                    (True, ("pnl", "clock", "rtt", "lag", "weight")),
                    (True, ("pnl", "clock", "rtt", "lag", "weight", "kinds"))]
        text = Text()
        for short, dropped in variants:
            text = self._line(info, short_permissions=short, dropped=dropped)
            if width is None or text.cell_len <= width:
                break
        text.no_wrap, text.overflow = True, "ellipsis"
        return text

    def _streams(self, text: Text, info: StatusInfo, dropped: tuple[str, ...]) -> None:
        """``book ⚡12ms tape ⚡ … │ 2 reconnects``; narrower: ``book⚡ tape⟳``; narrowest ``⚡3/5``.

        A kind is shown live (⚡) only while its stream is: a stalled stream polls (⟳), and
        the pane's own stale marking covers a poll that fails too.
        """
        sep = (" │ ", self._style("dim"))
        text.append(*sep)
        if info.streams is None:
            text.append("⟳" if "kinds" in dropped else "⟳ polling", self._style("dim"))
            return
        if "kinds" in dropped:
            live = sum(s.live for s in info.streams)
            text.append(f"⚡{live}/{len(info.streams)}", self._style("ok" if live == len(info.streams) else "warn"))
        else:
            for i, s in enumerate(info.streams):
                if i:
                    text.append(" ")
                text.append(s.label if "lag" in dropped else f"{s.label} ")
                if s.live:
                    lag = f"{max(s.lag_ms, 0)}ms" if s.lag_ms is not None and "lag" not in dropped else ""
                    text.append(f"⚡{lag}", self._style("ok"))
                else:
                    text.append("⟳" if "lag" in dropped else "⟳poll", self._style("warn"))
        # The market kinds share one connection, the account has its own.
        reconnects = (max((s.reconnects for s in info.streams if s.label != "acct"), default=0)
                      + sum(s.reconnects for s in info.streams if s.label == "acct"))
        if reconnects:
            if "lag" in dropped:
                text.append(f" {reconnects}↻", self._style("warn"))
            else:
                text.append(*sep)
                text.append(f"{reconnects} reconnect{'s' if reconnects != 1 else ''}", self._style("warn"))

    def _line(self, info: StatusInfo, *, short_permissions: bool, dropped: tuple[str, ...]) -> Text:
        text = Text()
        text.append(f" {info.exchange} ", self._style("paper" if info.paper else "live"))
        text.append(" ")
        state_style = {"live": "ok", "degraded": "warn", "paused": "warn"}.get(info.connection, "bad")
        if info.connection == "connecting":
            state_style = "dim"
        text.append(f"● {info.connection}", self._style(state_style))
        if info.last_error and info.connection in ("degraded", "down"):
            text.append(f" ({info.last_error})", self._style(state_style))
        sep = (" │ ", self._style("dim"))
        if "rtt" not in dropped:
            text.append(*sep)
            # While down, the last round trip is history, not the link's state.
            latency = "—" if info.latency_ms is None or info.connection == "down" else f"{info.latency_ms:.0f} ms"
            text.append(f"rtt {latency}")
        text.append(*sep)
        if info.data_age_s is None:
            text.append("data —")
        else:
            age_style = "ok" if info.data_age_s < 5 else ("warn" if info.data_age_s < 30 else "bad")
            text.append("data ")
            text.append(f"{info.data_age_s:.0f}s old", self._style(age_style))
        if "pnl" not in dropped and info.session_pnl is not None:
            text.append(*sep)
            pnl = info.session_pnl.quantize(Decimal("0.01")) + 0  # + 0: no "-0.00"
            text.append("P&L ")
            text.append(f"{'+' if pnl > 0 else ''}{fmt_fixed(pnl, 2)}",
                        self._style("ok" if pnl > 0 else "bad" if pnl < 0 else "dim"))
        self._streams(text, info, dropped)
        if "weight" not in dropped:
            text.append(*sep)
            frac = info.weight_used / info.weight_limit if info.weight_limit else 0
            weight_style = "ok" if frac < 0.5 else ("warn" if frac < 0.85 else "bad")
            text.append("weight ")
            text.append(f"{info.weight_used}/{info.weight_limit}", self._style(weight_style))
        if info.paused_for_s > 0:
            text.append(f" held {info.paused_for_s:.0f}s", self._style("bad"))
        if "clock" not in dropped:
            text.append(*sep)
            offset = f"{info.clock_offset_ms:+d} ms" if info.clock_offset_ms is not None else "—"
            text.append(f"clock {offset}")
        text.append(*sep)
        words = []
        for perm in PERMISSIONS:
            word = perm[0] if short_permissions else perm
            granted = perm in info.permissions
            words.append((word if granted else word.lower(), self._style("ok" if granted else "dim")))
        for i, (word, style) in enumerate(words):
            if i:
                text.append(" ")
            text.append(word, style)
        if not short_permissions:
            text.append(" ")
        return text
