"""Start the dashboard: logging, paper exchange (when no exchange is configured), the app."""

from __future__ import annotations

import sys

from btx_tui import paths
from btx_tui.config import LoadedConfig
from btx_tui.logging_setup import setup_logging


def run_dashboard(loaded: LoadedConfig, *, log_level: str = "INFO") -> int:
    exchange = loaded.settings.exchange
    secrets = [s.get_secret_value() for s in (exchange.api_key, exchange.api_secret) if s]
    setup_logging(log_level, paths.log_file(), secrets)
    print("btx-tui: the dashboard is being built; run `btx-tui exchange` for the paper exchange.",
          file=sys.stderr)
    return 1
