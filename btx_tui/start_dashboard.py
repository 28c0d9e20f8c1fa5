"""Start the dashboard: logging, the paper exchange when no exchange is configured, the app.

Paper mode starts the bundled exchange as a child process with its data in the user data
dir (so paper balances and orders persist across runs), connects with its demo key, and
stops it when the dashboard exits — also when the dashboard crashes.
"""

from __future__ import annotations

import getpass
import ipaddress
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from btx_tui import paths
from btx_tui.config import ConfigError, ExchangeSettings, LoadedConfig
from btx_tui.logging_setup import redactor, setup_logging

if TYPE_CHECKING:
    from btx_tui.tui.connection_health import Connection

log = logging.getLogger(__name__)

PAPER_SEED = 42


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_live_url(base_url: str) -> None:
    """Refuse plain http:// to anything but this machine: keys and orders would travel in clear."""
    parts = urlsplit(base_url)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"Refusing to trade over plain http:// with {parts.hostname}: the API key and every order "
            "would cross the network unencrypted. Use an https:// base_url."
        )


def journal_path(connection: Connection) -> Path | None:
    """Where this account's order intent journal lives (None without a key: no orders).

    The paper exchange listens on a new port every run, so paper mode names its journal after
    the paper data dir instead of the URL; orders must be found again after a restart.
    """
    from btx_tui.api.journal import journal_file

    if not connection.api_key:
        return None
    where = f"paper:{paths.paper_data_dir()}" if connection.paper else connection.base_url
    return journal_file(paths.data_dir(), where, connection.api_key)


def signer_for(exchange: ExchangeSettings, prompt: Callable[[str], str] | None = None) -> Any:
    """What signs requests: the Ed25519/RSA private key file, else the HMAC secret (or None).

    An encrypted key file without a configured passphrase (keyring, environment) asks for it
    on the terminal (``prompt``, default ``getpass``); without a terminal that is a ConfigError.
    """
    if exchange.private_key_file is None:
        return exchange.api_secret
    if exchange.api_secret is not None:
        raise ConfigError("Both api_secret and private_key_file are set: an API key is either "
                          "HMAC (api_secret) or Ed25519/RSA (private_key_file); remove one.")
    from btx_tui.api.signing import PassphraseNeeded, PrivateKeyError, load_private_key

    try:
        return load_private_key(exchange.private_key_file, exchange.private_key_passphrase)
    except PassphraseNeeded:
        if prompt is None:
            if not sys.stdin.isatty():
                raise ConfigError(
                    f"The private key {exchange.private_key_file} is encrypted and no passphrase is "
                    "configured: store it with `btx-tui config set-secret --passphrase` or set "
                    "BTX_PRIVATE_KEY_PASSPHRASE.") from None
            prompt = getpass.getpass
        passphrase = SecretStr(prompt(f"Passphrase of {exchange.private_key_file} (input hidden): "))
        redactor().add_secret(passphrase.get_secret_value())
        try:
            return load_private_key(exchange.private_key_file, passphrase)
        except PrivateKeyError as exc:
            raise ConfigError(str(exc)) from None
    except PrivateKeyError as exc:
        raise ConfigError(str(exc)) from None


def run_dashboard(loaded: LoadedConfig, *, log_level: str = "INFO") -> int:
    from btx_tui.tui.app import BtxApp
    from btx_tui.tui.connection_health import Connection

    settings = loaded.settings
    exchange = settings.exchange
    secrets = [s.get_secret_value() for s in (exchange.api_key, exchange.api_secret,
                                              exchange.private_key_passphrase) if s]
    setup_logging(log_level, paths.log_file(), secrets)
    paper = None
    if exchange.is_paper:
        from btx_tui.exchange.process.launcher import start_paper_exchange

        paper = start_paper_exchange(paths.paper_data_dir(), seed=PAPER_SEED, attach=True)
        api_key, api_secret = paper.key("full")
        redactor().add_secret(api_key)
        redactor().add_secret(api_secret)
        connection = Connection(paper.base_url, api_key, SecretStr(api_secret), paper=True)
        log.info("paper mode: bundled exchange at %s", paper.base_url)
    else:
        base_url = str(exchange.base_url).rstrip("/")
        check_live_url(base_url)
        connection = Connection(
            base_url,
            exchange.api_key.get_secret_value() if exchange.api_key else None,
            signer_for(exchange),
        )
    try:
        from btx_tui.tui.session_memory import FILE_NAME

        explicit = {key for key, source in loaded.sources.items() if source != "default"}
        BtxApp(settings, connection, journal_path=journal_path(connection),
               memory_path=paths.data_dir() / FILE_NAME, explicit=explicit, alerts_dir=paths.data_dir()).run()
    finally:
        if paper is not None:
            paper.stop()
    return 0
