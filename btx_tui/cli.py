"""The ``btx-tui`` command line.

``btx-tui`` runs the dashboard; ``btx-tui exchange`` runs the paper exchange;
``btx-tui config show|path|set-secret`` inspects and edits configuration. Every user
error (bad config, bad flag) exits with status 2 and one readable message, never a
traceback.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from btx_tui import __version__, paths
from btx_tui.config import (
    ConfigError,
    LoadedConfig,
    describe,
    load_config,
    store_secret_in_keyring,
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ADMIN_TOKEN_ENV = "BTX_ADMIN_TOKEN"
"""Environment variable holding the paper exchange's admin token (kept out of the process list)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="btx-tui",
        description=(
            "A terminal trading dashboard for bittorrent-exchange (BTX). With no exchange "
            "configured it starts the bundled paper exchange and trades against it."
        ),
    )
    parser.add_argument("--version", action="version", version=f"btx-tui {__version__}")
    _add_common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ex = sub.add_parser(
        "exchange",
        help="run the bundled paper exchange in the foreground",
        description="Run the bundled BTX v3 paper exchange (a real HTTP server) until Ctrl-C.",
    )
    ex.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    ex.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free port (default: 8765)")
    ex.add_argument("--data-dir", type=Path, default=None,
                    help=f"database and demo keys directory (default: {paths.paper_data_dir()})")
    ex.add_argument("--seed", type=int, default=42, help="seed of the synthetic market (default: 42)")
    ex.add_argument("--no-market", action="store_true", help="do not run the synthetic traders")
    ex.add_argument("--log-level", choices=LOG_LEVELS, type=str.upper, default=None,
                    help="log level on stderr (default: WARNING)")
    ex.add_argument("--fault", action="append", type=_fault_arg, default=None, metavar="KIND:ENDPOINT:P[:ARG]",
                    help="inject a fault (repeatable), e.g. 'execute_then_503:POST /api/v3/order:0.05' "
                    "or 'clock_skew:*:1:70000'; see docs/exchange-internals.md")
    ex.add_argument("--fault-seed", type=int, default=None, metavar="N",
                    help="seed of the fault RNG, so a chaos run is reproducible (default: random, logged)")
    ex.add_argument("--admin-token", type=_admin_token, default=None, metavar="TOKEN",
                    help="enable /admin/faults (loopback only) for callers sending this token "
                    f"in X-BTX-ADMIN-TOKEN; prefer the {ADMIN_TOKEN_ENV} environment variable, "
                    "which other users cannot read from the process list")
    ex.add_argument("--weight-limit", type=_positive_int, default=None, metavar="N",
                    help="REQUEST_WEIGHT limit per weight window (default: 6000, the contract's)")
    ex.add_argument("--weight-window", type=_positive_int, default=None, metavar="SECONDS",
                    help="length of the weight window (default: 60); a shorter one compresses "
                    "time for rate-limit soaks, and exchangeInfo and the used-weight header say so")
    # Used by the dashboard's paper mode: stop when the parent (holding our stdin) dies.
    ex.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)

    cfg = sub.add_parser("config", help="inspect or edit the configuration",
                         description="Inspect or edit btx-tui's configuration.")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = cfg_sub.add_parser("show", help="print the effective configuration and each value's source",
                              description="Print the effective configuration, each value with its "
                              "source (default / file / env / flag / keyring). Secrets are masked.")
    _add_common(show, suppress=True)
    path = cfg_sub.add_parser("path", help="print where the config, data and log files live",
                              description="Print where the config, data and log files live.")
    _add_common(path, suppress=True)
    setsec = cfg_sub.add_parser(
        "set-secret", help="store the API secret in the OS keyring",
        description="Store the API secret for the configured API key in the OS keyring. The secret "
        "is read from a hidden prompt, or from standard input when it is not a terminal.")
    _add_common(setsec, suppress=True)

    from btx_tui.export_command import add_export_parser

    add_export_parser(sub)
    srv = sub.add_parser("serve", help="serve the dashboard in a web page (textual-serve)",
                         description="Serve the dashboard in a web page. Loopback by default; bound "
                         "to another address, the printed URL carries a random token the page requires.")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    srv.add_argument("--port", type=_positive_int, default=8000, help="port to bind (default: 8000)")
    srv.add_argument("--public-url", default=None, metavar="URL",
                     help="the URL browsers reach this server at, when not http://HOST:PORT (e.g. behind a proxy)")
    srv.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                     help="config file of the served dashboards")
    return parser


def _fault_arg(text: str) -> Any:
    """argparse type of ``--fault``: a validated FaultSpec, or a usage error (exit 2)."""
    from btx_tui.exchange.http.fault_specs import FaultError, parse_fault

    try:
        return parse_fault(text)
    except FaultError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _env_admin_token() -> str | None:
    """The admin token from ``BTX_ADMIN_TOKEN`` (blank counts as unset)."""
    value = os.environ.get(ADMIN_TOKEN_ENV, "")
    return value if value.strip() else None


def _admin_token(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the admin token must not be empty")
    return text


def _add_common(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Options accepted both before and after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="config file (default: $BTX_CONFIG or the platform config dir)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, type=str.upper, default=default,
                        help="log file level (default: INFO)")
    parser.add_argument("--base-url", default=default,
                        help="exchange REST base URL (overrides [exchange] base_url and BTX_BASE_URL)")
    parser.add_argument("--symbol", default=default, help="market selected at start, e.g. BTCUSDT")
    parser.add_argument("--watchlist", default=default,
                        help="comma-separated watchlist, e.g. BTTUSDT,BTCUSDT")
    parser.add_argument("--theme", default=default, help="Textual theme name")


def flags_from(args: argparse.Namespace) -> dict[str, Any]:
    """Command-line overrides as dotted config keys."""
    watchlist = getattr(args, "watchlist", None)
    return {
        "exchange.base_url": getattr(args, "base_url", None),
        "ui.symbol": getattr(args, "symbol", None),
        "ui.watchlist": [s for s in watchlist.split(",") if s.strip()] if watchlist else None,
        "ui.theme": getattr(args, "theme", None),
    }


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = _dispatch(args)
    except ConfigError as exc:
        print(f"btx-tui: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "exchange":
        return _run_exchange(args)
    if args.command == "config":
        if args.config_command == "path":
            return _config_path(args)
        loaded = load_config(args.config, flags=flags_from(args))
        if args.config_command == "show":
            return _config_show(loaded)
        return _config_set_secret(loaded)
    if args.command == "serve":
        from btx_tui.serve import run_serve

        load_config(getattr(args, "config", None))  # a bad config fails here, not in each browser tab
        return run_serve(args.host, args.port, getattr(args, "config", None), args.public_url)
    if args.command == "export":
        from btx_tui.export_command import run_export

        return run_export(load_config(args.config, flags=flags_from(args)), args)
    loaded = load_config(args.config, flags=flags_from(args))
    from btx_tui.launch import run_dashboard

    return run_dashboard(loaded, log_level=args.log_level or "INFO")


def _run_exchange(args: argparse.Namespace) -> int:
    import logging

    from btx_tui.exchange.server import run

    logging.basicConfig(level=args.log_level or "WARNING", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_dir = args.data_dir or paths.paper_data_dir()
    return run(host=args.host, port=args.port, data_dir=data_dir, seed=args.seed,
               market=not args.no_market, exit_with_parent=args.exit_with_parent,
               faults=args.fault, fault_seed=args.fault_seed, admin_token=args.admin_token or _env_admin_token(),
               weight_limit=args.weight_limit, weight_window_s=args.weight_window)


def _config_path(args: argparse.Namespace) -> int:
    print(f"config  {paths.config_path(args.config)}")
    print(f"data    {paths.data_dir()}")
    print(f"paper   {paths.paper_data_dir()}")
    print(f"log     {paths.log_file()}")
    return 0


def _config_show(loaded: LoadedConfig) -> int:
    state = "" if loaded.file_exists else "  (not found: defaults apply)"
    print(f"# config file: {loaded.path}{state}")
    rows = describe(loaded)
    width = max(len(k) for k, _, _ in rows)
    vwidth = min(max(len(v) for _, v, _ in rows), 60)
    for key, value, source in rows:
        print(f"{key:<{width}}  {value:<{vwidth}}  [{source}]")
    return 0


def _config_set_secret(loaded: LoadedConfig) -> int:
    api_key = loaded.settings.exchange.api_key
    if api_key is None:
        raise ConfigError(
            "No API key is configured: set [exchange] api_key in "
            f"{loaded.path} or BTX_API_KEY first; the secret is stored under that key."
        )
    if sys.stdin.isatty():
        secret = getpass.getpass("API secret (input hidden): ")
    else:
        secret = sys.stdin.readline()
    secret = secret.strip()
    if not secret:
        raise ConfigError("No secret given; nothing stored.")
    store_secret_in_keyring(api_key.get_secret_value(), secret)
    print("Stored the API secret in the OS keyring for the configured API key.")
    return 0
