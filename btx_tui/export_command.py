"""``btx-tui export fills|orders``: the account's history as CSV, from the command line.

Connects like the dashboard does (the configured exchange, or the bundled paper exchange -
attaching to the one a running dashboard started, else starting it for the export), walks
``myTrades`` / ``allOrders`` of the chosen markets page by page (``api/history.py``) and
writes them with ``api/export.py``.  The file is written to a temporary name and renamed,
so an interrupted export never leaves half a CSV under the requested name.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr

from btx_tui import paths
from btx_tui.config import ConfigError, LoadedConfig

__all__ = ["add_export_parser", "parse_since", "run_export"]


def _zone(text: str) -> tzinfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {text!r} (an IANA name like Europe/Berlin or UTC)") from None


def parse_since(text: str, tz: tzinfo) -> int:
    """``2026-12-01`` or ``2026-12-01T09:30[+01:00]`` (no zone: ``tz``) as epoch ms."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--since {text!r}: expected a date like 2026-12-01 or 2026-12-01T09:30") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return int(when.timestamp() * 1000)


def add_export_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    exp = sub.add_parser("export", help="write fills or order history as CSV",
                         description="Write the account's fills or order history as CSV (exact decimals, "
                         "a header, times in ISO 8601 with the zone's offset).")
    what = exp.add_subparsers(dest="export_what", metavar="WHAT", required=True)
    for name, text in (("fills", "the account's trades (myTrades)"), ("orders", "the account's orders (allOrders)")):
        p = what.add_parser(name, help=f"export {text}", description=f"Export {text} as CSV.")
        p.add_argument("--since", default=None, metavar="DATE",
                       help="only rows from this date/time on (e.g. 2026-12-01; zone: --tz)")
        p.add_argument("--until", default=None, metavar="DATE", help="only rows up to this date/time")
        p.add_argument("--symbol", dest="markets", action="append", default=None, metavar="SYMBOL",
                       help="market(s) to export (repeat or comma-separate; default: every listed market)")
        p.add_argument("--out", type=Path, default=None, metavar="FILE", help="write here (default: standard output)")
        p.add_argument("--tz", type=_zone, default=None, metavar="ZONE",
                       help="time zone of the times written and of --since (default: the system's)")
        p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                       help="config file (default: $BTX_CONFIG or the platform config dir)")
        p.add_argument("--base-url", default=argparse.SUPPRESS,
                       help="exchange REST base URL (overrides [exchange] base_url and BTX_BASE_URL)")


def run_export(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    tz = args.tz or datetime.now().astimezone().tzinfo
    since = parse_since(args.since, tz) if args.since else None
    until = parse_since(args.until, tz) if args.until else None
    symbols = sorted({s.strip().upper() for part in (args.markets or []) for s in part.split(",") if s.strip()}) or None
    settings = loaded.settings
    exchange = settings.exchange
    paper = None
    if exchange.is_paper:
        from btx_tui.start_dashboard import PAPER_SEED
        from btx_tui.exchange.process.launcher import start_paper_exchange

        paper = start_paper_exchange(paths.paper_data_dir(), seed=PAPER_SEED, attach=True)
        base_url = paper.base_url
        key, secret = paper.key("full")
        api_key, api_secret = key, SecretStr(secret)
    else:
        from btx_tui.start_dashboard import check_live_url

        base_url = str(exchange.base_url).rstrip("/")
        check_live_url(base_url)
        if exchange.api_key is None or exchange.api_secret is None:
            raise ConfigError("export needs an API key and secret: set [exchange] api_key and the secret first")
        api_key, api_secret = exchange.api_key.get_secret_value(), exchange.api_secret
    try:
        rows = asyncio.run(_export(args.export_what, base_url, api_key, api_secret, settings, paper is not None,
                                   symbols, since, until, args.out, tz))
    finally:
        if paper is not None:
            paper.stop()
    print(f"btx-tui: wrote {rows} {args.export_what} to {args.out or 'standard output'}", file=sys.stderr)
    return 0


async def _export(what: str, base_url: str, api_key: str, api_secret: SecretStr, settings, paper: bool,  # type: ignore[no-untyped-def]
                  symbols: list[str] | None, since: int | None, until: int | None, out: Path | None,
                  tz: tzinfo) -> int:
    from btx_tui.api.client import BtxClient
    from btx_tui.api.errors import BtxError
    from btx_tui.api.export import write_fills_csv, write_orders_csv
    from btx_tui.api.history import fetch_fills, fetch_markets, fetch_orders

    async with BtxClient(base_url, api_key, api_secret, recv_window_ms=settings.exchange.recv_window_ms,
                         timeout_s=settings.exchange.timeout_s, trust_env=not paper,
                         proxy=str(settings.exchange.proxy) if settings.exchange.proxy else None,
                         ca_bundle=settings.exchange.ca_bundle) as client:
        markets = await fetch_markets(client)
        unknown = [s for s in symbols or () if s not in markets]
        if unknown:
            raise ConfigError(f"unknown market(s): {', '.join(unknown)}")
        chosen = symbols or sorted(markets)
        try:
            if what == "fills":
                fills = await fetch_fills(client, chosen, since_ms=since, until_ms=until)
                fills.sort(key=lambda t: (t.time, t.symbol, t.id))  # one timeline over the markets
                return _write(out, lambda f: write_fills_csv(fills, f, tz))
            orders = await fetch_orders(client, chosen, since_ms=since, until_ms=until)
            orders.sort(key=lambda o: (o.time or 0, o.symbol, o.order_id))
            return _write(out, lambda f: write_orders_csv(orders, f, tz))
        except BtxError as exc:
            raise ConfigError(f"the exchange refused the export: {exc}") from None


def _write(out: Path | None, write) -> int:  # type: ignore[no-untyped-def]
    if out is None:
        return write(sys.stdout)
    out = out.expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent if str(out.parent) else ".")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            rows = write(f)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows
