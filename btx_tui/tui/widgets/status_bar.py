"""The status bar: mode, connection, latency, data age, rate budget, clock offset, permissions.

Everything a trader needs to trust (or distrust) what the rest of the screen shows, on one
line. ``PAPER`` has its own colour so nobody mistakes the paper exchange for a real one.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

PERMISSIONS = ("READ", "TRADE", "WITHDRAW")


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

    def on_mount(self) -> None:
        self.show(self.info)

    def show(self, info: StatusInfo) -> None:
        self.info = info
        self.update(self.render_info(info))

    def _style(self, name: str) -> object:
        return self.get_component_rich_style(f"status-bar--{name}")

    def render_info(self, info: StatusInfo) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {info.exchange} ", self._style("paper" if info.paper else "live"))
        text.append(" ")
        state_style = {"live": "ok", "degraded": "warn", "paused": "warn"}.get(info.connection, "bad")
        if info.connection == "connecting":
            state_style = "dim"
        text.append(f"● {info.connection}", self._style(state_style))
        if info.last_error and info.connection in ("degraded", "down"):
            text.append(f" ({info.last_error})", self._style(state_style))
        sep = (" │ ", self._style("dim"))
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
        text.append(*sep)
        frac = info.weight_used / info.weight_limit if info.weight_limit else 0
        weight_style = "ok" if frac < 0.5 else ("warn" if frac < 0.85 else "bad")
        text.append("weight ")
        text.append(f"{info.weight_used}/{info.weight_limit}", self._style(weight_style))
        if info.paused_for_s > 0:
            text.append(f" held {info.paused_for_s:.0f}s", self._style("bad"))
        text.append(*sep)
        offset = f"{info.clock_offset_ms:+d} ms" if info.clock_offset_ms is not None else "—"
        text.append(f"clock {offset}")
        text.append(*sep)
        for perm in PERMISSIONS:
            if perm in info.permissions:
                text.append(perm, self._style("ok"))
            else:
                text.append(perm.lower(), self._style("dim"))
            text.append(" ")
        return text
