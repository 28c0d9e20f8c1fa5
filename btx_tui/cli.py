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
    ex.add_argument("--order-limit", type=_positive_int, default=None, metavar="N",
                    help="ORDERS limit per 10 s window and account (default: 50, the contract's); "
                    "a higher one lets test and bench runs place orders without pacing")
    ex.add_argument("--tls-cert", type=Path, default=None, metavar="PEM",
                    help="serve HTTPS and WSS with this certificate (chain) file; needs --tls-key")
    ex.add_argument("--tls-key", type=Path, default=None, metavar="PEM",
                    help="the private key of --tls-cert (a PEM file readable by you alone)")
    # Used by the dashboard's paper mode: stop when the parent (holding our stdin) dies.
    ex.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)
    ex_sub = ex.add_subparsers(dest="exchange_command", metavar="ACTION")
    keys = ex_sub.add_parser("keys", help="manage the paper exchange's API keys",
                             description="Manage the paper exchange's API keys.")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    add = keys_sub.add_parser(
        "add", help="register an Ed25519 or RSA public key; prints the new API key id",
        description="Register an Ed25519 or RSA public key (PEM) for an account of the paper "
        "exchange (default: the demo account). Works whether or not an exchange runs on the data "
        "directory; a running one accepts the key at once. The new API key id is the last line "
        "printed.")
    add.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                     help=f"the exchange's data directory (default: {paths.paper_data_dir()})")
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument("--ed25519", type=Path, metavar="PUB.pem", help="an Ed25519 public key file")
    kind.add_argument("--rsa", type=Path, metavar="PUB.pem", help="an RSA public key file (2048 bits or more)")
    add.add_argument("--permissions", default="READ,TRADE", metavar="LIST",
                     help="comma-separated READ,TRADE,WITHDRAW (READ is always granted; default READ,TRADE)")
    add.add_argument("--account", type=int, default=None, metavar="ID", help="account id (default: the demo account)")
    add.add_argument("--name", default="", help="a label for the key")
    dep = ex_sub.add_parser(
        "deposit", help="credit a deposit (as if it arrived on chain)",
        description="Credit a deposit on the paper exchange: to --address (one the exchange generated "
        "for GET /sapi/v1/capital/deposit/address), or to --account's (default: the demo account's) "
        "address for --coin on --network. Works whether or not an exchange runs on the data "
        "directory. Prints the deposit-history entry as JSON.")
    dep.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                     help=f"the exchange's data directory (default: {paths.paper_data_dir()})")
    dep.add_argument("--amount", required=True, type=_positive_decimal, help="amount, e.g. 150.5")
    dep.add_argument("--coin", type=str.upper, default=None, help="coin, e.g. USDT")
    dep.add_argument("--network", type=str.upper, default=None, help="network (default: the coin's default)")
    dep.add_argument("--address", default=None, help="a deposit address the exchange generated")
    dep.add_argument("--account", type=int, default=None, metavar="ID", help="account id (default: demo)")

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
        "set-secret", help="store the API secret (or a private key's passphrase) in the OS keyring",
        description="Store the API secret for the configured API key in the OS keyring. The secret "
        "is read from a hidden prompt, or from standard input when it is not a terminal. With "
        "--passphrase, store the passphrase of the encrypted private_key_file instead.")
    setsec.add_argument("--passphrase", action="store_true",
                        help="store the passphrase of the Ed25519/RSA private key file")
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
        if getattr(args, "exchange_command", None) == "keys":
            return _exchange_keys_add(args)
        if getattr(args, "exchange_command", None) == "deposit":
            return _exchange_deposit(args)
        return _run_exchange(args)
    if args.command == "config":
        if args.config_command == "path":
            return _config_path(args)
        loaded = load_config(args.config, flags=flags_from(args))
        if args.config_command == "show":
            return _config_show(loaded)
        return _config_set_secret(loaded, passphrase=args.passphrase)
    if args.command == "serve":
        from btx_tui.serve import run_serve

        load_config(getattr(args, "config", None))  # a bad config fails here, not in each browser tab
        return run_serve(args.host, args.port, getattr(args, "config", None), args.public_url)
    if args.command == "export":
        from btx_tui.export_command import run_export

        return run_export(load_config(args.config, flags=flags_from(args)), args)
    loaded = load_config(args.config, flags=flags_from(args))
    from btx_tui.start_dashboard import run_dashboard

    return run_dashboard(loaded, log_level=args.log_level or "INFO")


def _run_exchange(args: argparse.Namespace) -> int:
    import logging

    from btx_tui.exchange.process.server import run

    logging.basicConfig(level=args.log_level or "WARNING", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_dir = args.data_dir or paths.paper_data_dir()
    if (args.tls_cert is None) != (args.tls_key is None):
        print("btx-tui exchange: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    for pem in (args.tls_cert, args.tls_key):
        if pem is not None and not pem.is_file():
            print(f"btx-tui exchange: no such file: {pem}", file=sys.stderr)
            return 2
    return run(host=args.host, port=args.port, data_dir=data_dir, seed=args.seed,
               market=not args.no_market, exit_with_parent=args.exit_with_parent,
               faults=args.fault, fault_seed=args.fault_seed, admin_token=args.admin_token or _env_admin_token(),
               weight_limit=args.weight_limit, weight_window_s=args.weight_window,
               orders_per_10s=args.order_limit,
               tls_cert=args.tls_cert, tls_key=args.tls_key)


def _positive_decimal(text: str) -> Any:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive amount like 150.5, got {text!r}")
    return value


def _exchange_deposit(args: argparse.Namespace) -> int:
    import json

    from btx_tui.exchange.deposit_admin import DepositError, deposit

    if args.address is None and args.coin is None:
        print("btx-tui exchange deposit: give --address, or --coin", file=sys.stderr)
        return 2
    try:
        entry = deposit(args.data_dir or paths.paper_data_dir(), args.amount, coin=args.coin,
                        network=args.network, address=args.address, account=args.account)
    except DepositError as exc:
        print(f"btx-tui exchange deposit: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(entry))
    return 0


def _exchange_keys_add(args: argparse.Namespace) -> int:
    from btx_tui.exchange.key_admin import add_public_key, parse_permissions
    from btx_tui.exchange.signatures import ED25519, RSA, PublicKeyError

    key_type, pem_path = (ED25519, args.ed25519) if args.ed25519 else (RSA, args.rsa)
    try:
        permissions = parse_permissions(args.permissions)
        pem = pem_path.read_bytes()
        api_key = add_public_key(args.data_dir or paths.paper_data_dir(), key_type, pem, permissions,
                                 args.account, args.name)
    except OSError as exc:
        print(f"btx-tui exchange keys add: cannot read {pem_path}: {exc.strerror}", file=sys.stderr)
        return 2
    except PublicKeyError as exc:
        print(f"btx-tui exchange keys add: {pem_path}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"btx-tui exchange keys add: {exc}", file=sys.stderr)
        return 2
    print(f"Registered {key_type} key with permissions {','.join(sorted(permissions))}. API key:")
    print(api_key)
    return 0


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


def _config_set_secret(loaded: LoadedConfig, *, passphrase: bool = False) -> int:
    api_key = loaded.settings.exchange.api_key
    if api_key is None:
        raise ConfigError(
            "No API key is configured: set [exchange] api_key in "
            f"{loaded.path} or BTX_API_KEY first; the secret is stored under that key."
        )
    what = "private key passphrase" if passphrase else "API secret"
    if sys.stdin.isatty():
        secret = getpass.getpass(f"{what[0].upper()}{what[1:]} (input hidden): ")
    else:
        secret = sys.stdin.readline()
    secret = secret.rstrip("\r\n") if passphrase else secret.strip()
    if not secret:
        raise ConfigError("No secret given; nothing stored.")
    store_secret_in_keyring(api_key.get_secret_value(), secret, passphrase=passphrase)
    print(f"Stored the {what} in the OS keyring for the configured API key.")
    return 0
