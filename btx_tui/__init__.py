"""btx-tui: a terminal trading dashboard for bittorrent-exchange (BTX)."""

__version__ = "0.1.0"
