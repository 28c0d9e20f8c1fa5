"""SQLite persistence of the paper exchange (one file, ``<data_dir>/exchange.sqlite3``).

Durability: the database runs in WAL mode with ``synchronous=NORMAL``.  A ``COMMIT`` then
appends the transaction to the ``-wal`` file with a ``write()`` before returning, so once
``Exchange`` returns (and the HTTP layer acknowledges) the data is in the operating system's
page cache and survives ``kill -9`` of the process; only an OS crash or power cut can lose
the last transactions (that would need ``synchronous=FULL``, an fsync per commit, which a
paper exchange does not need).  ``transaction.py`` calls :meth:`Store.begin` / :meth:`Store.commit`
around every mutating call, so each call is all-or-nothing.

Decimals are stored as TEXT (exact); ids and times as INTEGER.  Klines are derived from
trades: the ``kline_1m`` table is a per-minute aggregate maintained in the same transaction
as the trades it summarises.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any, Iterator

__all__ = ["Store", "OrderRow", "OrderListRow", "TradeRow", "WithdrawalRow", "KlineRow", "DB_NAME"]

DB_NAME = "exchange.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, update_ms INTEGER NOT NULL,
    label TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS api_keys (
    api_key TEXT PRIMARY KEY, secret TEXT NOT NULL, account_id INTEGER NOT NULL,
    permissions TEXT NOT NULL, created_ms INTEGER NOT NULL, name TEXT NOT NULL DEFAULT '',
    key_type TEXT NOT NULL DEFAULT 'HMAC', public_key TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS balances (
    account_id INTEGER NOT NULL, asset TEXT NOT NULL, free TEXT NOT NULL, locked TEXT NOT NULL,
    PRIMARY KEY (account_id, asset));
CREATE TABLE IF NOT EXISTS assets (
    asset TEXT PRIMARY KEY, fees TEXT NOT NULL, deposits TEXT NOT NULL, withdrawn TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, symbol TEXT NOT NULL,
    client_order_id TEXT NOT NULL, side TEXT NOT NULL, type TEXT NOT NULL, tif TEXT,
    price TEXT NOT NULL, orig_qty TEXT NOT NULL, orig_quote_qty TEXT NOT NULL,
    executed_qty TEXT NOT NULL, cum_quote TEXT NOT NULL, status TEXT NOT NULL,
    time INTEGER NOT NULL, update_time INTEGER NOT NULL, working_time INTEGER NOT NULL,
    seq INTEGER NOT NULL, price_ticks INTEGER NOT NULL, qty_lots INTEGER NOT NULL,
    filled_lots INTEGER NOT NULL, quote_filled INTEGER NOT NULL, is_open INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS order_lists (
    list_id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, symbol TEXT NOT NULL,
    list_client_order_id TEXT NOT NULL, contingency_type TEXT NOT NULL,
    list_status_type TEXT NOT NULL, list_order_status TEXT NOT NULL,
    transaction_time INTEGER NOT NULL, order_ids TEXT NOT NULL, is_open INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS order_lists_acct ON order_lists (account_id, list_id);
CREATE INDEX IF NOT EXISTS order_lists_open ON order_lists (is_open) WHERE is_open = 1;
CREATE INDEX IF NOT EXISTS orders_acct ON orders (account_id, symbol, order_id);
CREATE INDEX IF NOT EXISTS orders_client ON orders (account_id, client_order_id);
CREATE INDEX IF NOT EXISTS orders_open ON orders (is_open) WHERE is_open = 1;
CREATE TABLE IF NOT EXISTS trades (
    id INTEGER NOT NULL, symbol TEXT NOT NULL, agg_id INTEGER NOT NULL,
    price TEXT NOT NULL, qty TEXT NOT NULL, quote_qty TEXT NOT NULL, time INTEGER NOT NULL,
    buyer_order_id INTEGER NOT NULL, seller_order_id INTEGER NOT NULL,
    buyer_account INTEGER NOT NULL, seller_account INTEGER NOT NULL, taker_side TEXT NOT NULL,
    buyer_fee TEXT NOT NULL, seller_fee TEXT NOT NULL, PRIMARY KEY (symbol, id));
CREATE INDEX IF NOT EXISTS trades_sym_time ON trades (symbol, time);
CREATE INDEX IF NOT EXISTS trades_sym_agg ON trades (symbol, agg_id);
CREATE INDEX IF NOT EXISTS trades_buyer ON trades (buyer_account, symbol, id);
CREATE INDEX IF NOT EXISTS trades_seller ON trades (seller_account, symbol, id);
CREATE INDEX IF NOT EXISTS trades_buyer_order ON trades (buyer_order_id);
CREATE INDEX IF NOT EXISTS trades_seller_order ON trades (seller_order_id);
CREATE TABLE IF NOT EXISTS withdrawals (
    id TEXT PRIMARY KEY, account_id INTEGER NOT NULL, coin TEXT NOT NULL, network TEXT NOT NULL,
    address TEXT NOT NULL, address_tag TEXT NOT NULL, amount TEXT NOT NULL, fee TEXT NOT NULL,
    status INTEGER NOT NULL, tx_id TEXT NOT NULL, apply_ms INTEGER NOT NULL,
    complete_ms INTEGER NOT NULL, withdraw_order_id TEXT NOT NULL, info TEXT NOT NULL,
    seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS withdrawals_acct ON withdrawals (account_id, apply_ms);
CREATE TABLE IF NOT EXISTS kline_1m (
    symbol TEXT NOT NULL, open_time INTEGER NOT NULL, open TEXT NOT NULL, high TEXT NOT NULL,
    low TEXT NOT NULL, close TEXT NOT NULL, volume TEXT NOT NULL, quote_volume TEXT NOT NULL,
    count INTEGER NOT NULL, taker_buy_base TEXT NOT NULL, taker_buy_quote TEXT NOT NULL,
    first_id INTEGER NOT NULL, last_id INTEGER NOT NULL, PRIMARY KEY (symbol, open_time))
    WITHOUT ROWID;
"""


def _dec_fields(cls: type) -> tuple[int, ...]:
    return tuple(i for i, f in enumerate(fields(cls)) if f.type in ("Decimal", Decimal))


@dataclass(slots=True)
class OrderRow:
    """An order as stored (and as trading tracks open ones)."""

    order_id: int
    account_id: int
    symbol: str
    client_order_id: str
    side: str
    type: str
    tif: str | None
    price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    executed_qty: Decimal
    cum_quote: Decimal
    status: str
    time: int
    update_time: int
    working_time: int
    seq: int
    price_ticks: int
    qty_lots: int
    filled_lots: int
    quote_filled: int
    is_open: int
    # Stop orders and order lists (added columns: see _MIGRATIONS).  ``working_time`` is -1
    # while an order is untriggered (or a list's pending order): it is then not in the book.
    stop_price: Decimal = Decimal(0)
    """``stopPrice`` (0 = none)."""
    trailing_delta: int = 0
    """``trailingDelta`` in basis points (0 = not a trailing stop)."""
    trailing_time: int = -1
    """When the trailing stop started tracking (-1 = not yet)."""
    extreme_ticks: int = 0
    """Trailing stop: best trade price (ticks) since tracking started (0 = not set)."""
    reserved: Decimal = Decimal(0)
    """What an untriggered order keeps locked (quote for a BUY, base for a SELL)."""
    order_list_id: int = -1
    """The order list this order belongs to (-1 = none)."""


@dataclass(slots=True)
class OrderListRow:
    """An order list (OCO) as stored."""

    list_id: int
    account_id: int
    symbol: str
    list_client_order_id: str
    contingency_type: str
    list_status_type: str
    list_order_status: str
    transaction_time: int
    order_ids: str
    """Comma-separated order ids, in the list's order."""
    is_open: int


@dataclass(slots=True)
class TradeRow:
    id: int
    symbol: str
    agg_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    buyer_order_id: int
    seller_order_id: int
    buyer_account: int
    seller_account: int
    taker_side: str
    buyer_fee: Decimal
    seller_fee: Decimal


@dataclass(slots=True)
class WithdrawalRow:
    id: str
    account_id: int
    coin: str
    network: str
    address: str
    address_tag: str
    amount: Decimal
    fee: Decimal
    status: int
    tx_id: str
    apply_ms: int
    complete_ms: int
    withdraw_order_id: str
    info: str
    seq: int


@dataclass(slots=True)
class KlineRow:
    symbol: str
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    count: int
    taker_buy_base: Decimal
    taker_buy_quote: Decimal
    first_id: int
    last_id: int


_DEC = {cls: _dec_fields(cls) for cls in (OrderRow, OrderListRow, TradeRow, WithdrawalRow, KlineRow)}

# Columns added after the first release: an existing data dir gains them (with these
# defaults) when it is opened, so an old database still opens and its orders read as
# plain orders outside any list.
_MIGRATIONS = {
    "orders": (
        ("stop_price", "TEXT NOT NULL DEFAULT '0'"),
        ("trailing_delta", "INTEGER NOT NULL DEFAULT 0"),
        ("trailing_time", "INTEGER NOT NULL DEFAULT -1"),
        ("extreme_ticks", "INTEGER NOT NULL DEFAULT 0"),
        ("reserved", "TEXT NOT NULL DEFAULT '0'"),
        ("order_list_id", "INTEGER NOT NULL DEFAULT -1"),
    ),
}
_COLS = {cls: [f.name for f in fields(cls)] for cls in _DEC}


_GET = {cls: attrgetter(*cols) for cls, cols in _COLS.items()}
"""Each row class's columns in table order (``astuple`` would deep-copy every value: rows are
flat, and writing them was most of the synthetic market's time)."""


def _to_db(obj: Any) -> tuple:
    return tuple(str(v) if isinstance(v, Decimal) else v for v in _GET[type(obj)](obj))


def _from_db(cls: type, row: tuple) -> Any:
    vals = list(row)
    for i in _DEC[cls]:
        vals[i] = Decimal(vals[i])
    return cls(*vals)


class Store:
    """Thin typed access to the SQLite file; each part decides what to write when."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (one transaction per call).
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._migrate()
        self._insert_sql = {
            cls: "INSERT OR REPLACE INTO {} ({}) VALUES ({})".format(
                table, ", ".join(_COLS[cls]), ", ".join("?" * len(_COLS[cls])))
            for cls, table in ((OrderRow, "orders"), (OrderListRow, "order_lists"), (TradeRow, "trades"),
                               (WithdrawalRow, "withdrawals"), (KlineRow, "kline_1m"))
        }

    def _migrate(self) -> None:
        """Bring a database written by an older version up to this schema (idempotent):
        trade ids per symbol, key types, and the columns of stop orders and order lists."""
        trade_pk = [row[1] for row in sorted(self.db.execute("PRAGMA table_info(trades)"), key=lambda r: r[5])
                    if row[5]]
        if trade_pk == ["id"]:
            self._migrate_trade_ids_per_symbol()
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(api_keys)")}
        if "key_type" not in columns:  # before Ed25519/RSA keys: every key was HMAC
            self.db.execute("ALTER TABLE api_keys ADD COLUMN key_type TEXT NOT NULL DEFAULT 'HMAC'")
        if "public_key" not in columns:
            self.db.execute("ALTER TABLE api_keys ADD COLUMN public_key TEXT NOT NULL DEFAULT ''")
        for table, added in _MIGRATIONS.items():
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            for name, decl in added:
                if name not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    def _migrate_trade_ids_per_symbol(self) -> None:
        """Trade (and aggregate-trade) ids were one counter for all symbols; renumber each
        symbol's trades 1, 2, 3… in their order, point the minute aggregates' first/last ids
        at the new numbers and seed the per-symbol counters — in one transaction."""
        db = self.db
        columns = ", ".join(c for c in _COLS[TradeRow] if c not in ("id", "agg_id"))
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TEMP TABLE trade_map AS SELECT id AS old_id, symbol,"
                       " ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY id) AS new_id,"
                       " DENSE_RANK() OVER (PARTITION BY symbol ORDER BY agg_id) AS new_agg FROM trades")
            db.execute("CREATE UNIQUE INDEX temp.trade_map_old ON trade_map (old_id)")
            db.execute("ALTER TABLE trades RENAME TO trades_global_ids")
            for name in ("trades_sym_time", "trades_sym_agg", "trades_buyer", "trades_seller",
                         "trades_buyer_order", "trades_seller_order"):
                db.execute(f"DROP INDEX IF EXISTS {name}")
            for stmt in _SCHEMA.split(";"):  # the new trades table and its indexes
                if "ON trades" in stmt or "TABLE IF NOT EXISTS trades " in stmt:
                    db.execute(stmt)  # (executescript would commit the transaction)
            db.execute(f"INSERT INTO trades (id, agg_id, {columns}) SELECT m.new_id, m.new_agg, "
                       + ", ".join(f"t.{c}" for c in columns.split(", "))
                       + " FROM trades_global_ids t JOIN trade_map m ON m.old_id = t.id")
            db.execute("UPDATE kline_1m SET"
                       " first_id = COALESCE((SELECT new_id FROM trade_map WHERE old_id = kline_1m.first_id), first_id),"
                       " last_id = COALESCE((SELECT new_id FROM trade_map WHERE old_id = kline_1m.last_id), last_id)")
            db.execute("INSERT OR REPLACE INTO counters (name, value)"
                       " SELECT 'trade_id:' || symbol, MAX(new_id) FROM trade_map GROUP BY symbol")
            db.execute("INSERT OR REPLACE INTO counters (name, value)"
                       " SELECT 'agg_id:' || symbol, MAX(new_agg) FROM trade_map GROUP BY symbol")
            db.execute("DELETE FROM counters WHERE name IN ('trade_id', 'agg_id')")
            db.execute("DROP TABLE trades_global_ids")
            db.execute("DROP TABLE trade_map")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @classmethod
    def open(cls, data_dir: Path) -> "Store":
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir / DB_NAME)

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------- transactions

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    # ---------------------------------------------------------------- writes

    def put(self, row: OrderRow | OrderListRow | TradeRow | WithdrawalRow | KlineRow) -> None:
        self.db.execute(self._insert_sql[type(row)], _to_db(row))

    def put_many(self, rows: list) -> None:
        if rows:
            self.db.executemany(self._insert_sql[type(rows[0])], [_to_db(r) for r in rows])

    def set_counter(self, name: str, value: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (name, value))

    def put_account(self, account_id: int, created_ms: int, update_ms: int, label: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
                        (account_id, created_ms, update_ms, label))

    def touch_account(self, account_id: int, update_ms: int) -> None:
        self.db.execute("UPDATE accounts SET update_ms = ? WHERE id = ?", (update_ms, account_id))

    def put_key(self, api_key: str, secret: str, account_id: int, permissions: str,
                created_ms: int, name: str, key_type: str = "HMAC", public_key: str = "") -> None:
        self.db.execute("INSERT INTO api_keys (api_key, secret, account_id, permissions, created_ms,"
                        " name, key_type, public_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (api_key, secret, account_id, permissions, created_ms, name, key_type,
                         public_key))

    def put_balances(self, rows: list[tuple[int, str, Decimal, Decimal]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO balances VALUES (?, ?, ?, ?)",
                            [(a, s, str(f), str(l)) for a, s, f, l in rows])

    def put_assets(self, rows: list[tuple[str, Decimal, Decimal, Decimal]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO assets VALUES (?, ?, ?, ?)",
                            [(a, str(f), str(d), str(w)) for a, f, d, w in rows])

    # ----------------------------------------------------------------- reads

    def counters(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT name, value FROM counters"))

    def accounts(self) -> list[tuple[int, int, int, str]]:
        return list(self.db.execute("SELECT id, created_ms, update_ms, label FROM accounts ORDER BY id"))

    _KEY_COLUMNS = "api_key, secret, account_id, permissions, created_ms, name, key_type, public_key"

    def keys(self) -> list[tuple[str, str, int, str, int, str, str, str]]:
        return list(self.db.execute(f"SELECT {self._KEY_COLUMNS} FROM api_keys ORDER BY rowid"))

    def key_row(self, api_key: str) -> tuple[str, str, int, str, int, str, str, str] | None:
        """One key's row, read now (a key another process registered since we loaded)."""
        return self.db.execute(f"SELECT {self._KEY_COLUMNS} FROM api_keys WHERE api_key = ?",
                               (api_key,)).fetchone()

    def balances(self) -> Iterator[tuple[int, str, Decimal, Decimal]]:
        for a, s, f, l in self.db.execute("SELECT account_id, asset, free, locked FROM balances"):
            yield a, s, Decimal(f), Decimal(l)

    def assets(self) -> Iterator[tuple[str, Decimal, Decimal, Decimal]]:
        for a, f, d, w in self.db.execute("SELECT asset, fees, deposits, withdrawn FROM assets"):
            yield a, Decimal(f), Decimal(d), Decimal(w)

    def orders(self, where: str = "1", args: tuple = (), tail: str = "ORDER BY order_id") -> list[OrderRow]:
        sql = f"SELECT {', '.join(_COLS[OrderRow])} FROM orders WHERE {where} {tail}"
        return [_from_db(OrderRow, r) for r in self.db.execute(sql, args)]

    def order_list_ids(self, order_ids: set[int]) -> dict[int, int]:
        """order id -> its order list id, for the given orders that belong to a list."""
        ids = sorted(order_ids)
        out: dict[int, int] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            sql = ("SELECT order_id, order_list_id FROM orders WHERE order_list_id != -1 AND "
                   f"order_id IN ({', '.join('?' * len(chunk))})")
            out.update(self.db.execute(sql, chunk))
        return out

    def max_seq_by_symbol(self) -> dict[str, int]:
        """The highest arrival sequence stored per symbol (every submission stores its seq)."""
        return dict(self.db.execute("SELECT symbol, MAX(seq) FROM orders GROUP BY symbol"))

    def order_lists(self, where: str = "1", args: tuple = (),
                    tail: str = "ORDER BY list_id") -> list[OrderListRow]:
        sql = f"SELECT {', '.join(_COLS[OrderListRow])} FROM order_lists WHERE {where} {tail}"
        return [_from_db(OrderListRow, r) for r in self.db.execute(sql, args)]

    def trades(self, where: str = "1", args: tuple = (), tail: str = "ORDER BY id") -> list[TradeRow]:
        sql = f"SELECT {', '.join(_COLS[TradeRow])} FROM trades WHERE {where} {tail}"
        return [_from_db(TradeRow, r) for r in self.db.execute(sql, args)]

    def withdrawals(self, where: str = "1", args: tuple = (), tail: str = "ORDER BY seq") -> list[WithdrawalRow]:
        sql = f"SELECT {', '.join(_COLS[WithdrawalRow])} FROM withdrawals WHERE {where} {tail}"
        return [_from_db(WithdrawalRow, r) for r in self.db.execute(sql, args)]

    def klines(self, where: str = "1", args: tuple = (), tail: str = "ORDER BY open_time") -> list[KlineRow]:
        sql = f"SELECT {', '.join(_COLS[KlineRow])} FROM kline_1m WHERE {where} {tail}"
        return [_from_db(KlineRow, r) for r in self.db.execute(sql, args)]

    def scalar(self, sql: str, args: tuple = ()) -> Any:
        row = self.db.execute(sql, args).fetchone()
        return row[0] if row else None
