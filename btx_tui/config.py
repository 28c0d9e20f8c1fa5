"""Settings: pydantic-settings sources (TOML file, environment, flags, OS keyring), SecretStr secrets.

Precedence, lowest to highest: built-in default < OS keyring (the secret only) < config file
< environment < command-line flag. pydantic-settings reads and merges the sources
(``TomlConfigSettingsSource``, ``EnvSettingsSource``, ``InitSettingsSource`` for the flags, and
:class:`KeyringSecretSource`); each source's own answer is also kept, so every value remembers
where it came from and ``btx-tui config show`` can say so.

Environment: ``BTX_<SECTION>__<KEY>`` for any key (``BTX_UI__THEME=nord``), plus the short
names of :data:`ENV_VARS` (``BTX_BASE_URL``, ``BTX_API_KEY``, ``BTX_API_SECRET``).

Bad configuration is a user error, not a crash: :class:`ConfigError` carries one readable
message naming the file, the key and what was expected, and the CLI exits with status 2.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from typing import Any, ClassVar, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    FilePath,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from btx_tui import paths

SECRET_MASK = "**********"
"""What ``config show`` prints instead of a secret."""

DEFAULT_WATCHLIST = ("BTTUSDT", "BTCUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX")

Source = Literal["default", "file", "env", "flag", "keyring"]


class ConfigError(Exception):
    """A configuration problem the user must fix; the message is shown as is."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ExchangeSettings(_Section):
    """``[exchange]``: which exchange to talk to and with which key."""

    base_url: AnyHttpUrl | None = None
    """The exchange's REST base URL. Unset means paper mode: the bundled paper exchange."""
    api_key: SecretStr | None = None
    """The API key (header ``X-MBX-APIKEY``). Unset in paper mode: the demo key is used."""
    api_secret: SecretStr | None = None
    """The API secret of an HMAC key, used to sign requests. Prefer the OS keyring or
    ``BTX_API_SECRET``. Leave unset for an Ed25519/RSA key (``private_key_file``)."""
    private_key_file: FilePath | None = None
    """The PEM private key of an Ed25519 or RSA API key (instead of ``api_secret``). Refused if
    group/world-readable (``chmod 600``). An encrypted PEM's passphrase comes from the OS keyring
    (``btx-tui config set-secret --passphrase``), ``BTX_PRIVATE_KEY_PASSPHRASE`` or a prompt."""
    private_key_passphrase: SecretStr | None = None
    """The passphrase of an encrypted ``private_key_file``. Prefer the OS keyring."""
    recv_window_ms: int = Field(default=5000, ge=1, le=60000)
    """How long after its timestamp a signed request stays valid, in milliseconds (max 60000)."""
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    """HTTP timeout for one request, in seconds."""
    proxy: AnyHttpUrl | None = Field(default=None, repr=False)  # may hold user:password
    """Forward proxy for every request, e.g. ``http://proxy.example:3128``. Unset: the
    ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` environment variables decide (paper mode
    ignores them: the bundled exchange is on loopback)."""
    ca_bundle: FilePath | None = None
    """A PEM file of extra certificate authorities to trust, on top of the system trust store
    (e.g. a company CA that re-signs TLS at a proxy)."""
    streams: bool | Literal["auto"] = "auto"
    """WebSocket streams for the book, trades, candles, watchlist and account events.
    ``auto``/``true``: stream where the exchange serves streams and poll, per kind of data,
    where it does not or while a stream is down or stale. ``false``: poll everything."""

    @property
    def is_paper(self) -> bool:
        """True when no exchange is configured and the bundled paper exchange is used."""
        return self.base_url is None


class UiSettings(_Section):
    """``[ui]``: what the dashboard shows and how often it polls."""

    watchlist: tuple[str, ...] = DEFAULT_WATCHLIST
    """Symbols shown in the watchlist, in order."""
    symbol: str | None = None
    """The market selected at start (default: the first of the watchlist)."""
    theme: str = "textual-dark"
    """Textual theme name; ``t`` cycles themes at run time."""
    tickers_interval_s: float = Field(default=1.0, ge=0.1, le=3600)
    """Poll interval of the 24h tickers of the whole watchlist (one request)."""
    book_interval_s: float = Field(default=0.5, ge=0.1, le=3600)
    """Poll interval of the selected market's order book."""
    trades_interval_s: float = Field(default=1.0, ge=0.1, le=3600)
    """Poll interval of the selected market's recent trades (aggregate trades, weight 2–4)."""
    klines_interval_s: float = Field(default=5.0, ge=0.5, le=3600)
    """Poll interval of the chart's klines."""
    account_interval_s: float = Field(default=2.0, ge=0.2, le=3600)
    """Poll interval of balances (weight 20). A balance change also refreshes open orders at once."""
    orders_interval_s: float = Field(default=5.0, ge=0.2, le=3600)
    """Poll interval of open orders across all markets (weight 80, so not too often)."""
    history_interval_s: float = Field(default=10.0, ge=1, le=3600)
    """Poll interval of the selected market's order history and fills (weight 40)."""
    prices_interval_s: float = Field(default=15.0, ge=1, le=3600)
    """Poll interval of every market's last price, used to value balances (weight 4)."""
    chart_interval: Literal["1s", "1m", "5m", "15m", "1h", "4h", "1d"] = "1m"
    """Kline interval the chart starts with (``i`` cycles it)."""
    bell_on_fill: bool = True
    """Ring the terminal bell when a resting order fills."""
    timezone: str | None = None
    """IANA zone in which times are shown (chart axis, fills, order history), e.g.
    ``Europe/Paris`` or ``UTC``. Unset: the system's zone. The zone's name is shown with the times."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name like Europe/Paris or UTC") from None
        return value.strip()

    @property
    def zone(self) -> tzinfo | None:
        """The zone times are shown in (None: the system's)."""
        return ZoneInfo(self.timezone) if self.timezone else None

    @field_validator("watchlist")
    @classmethod
    def _upper_symbols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(s.strip().upper() for s in value)
        if not cleaned:
            raise ValueError("the watchlist needs at least one symbol")
        for sym in cleaned:
            if not sym.isalnum():
                raise ValueError(f"{sym!r} is not a symbol like BTCUSDT")
        return cleaned

    @field_validator("symbol")
    @classmethod
    def _upper_symbol(cls, value: str | None) -> str | None:
        return value.strip().upper() if value else value


class Settings(_Section):
    """The whole effective configuration (a plain value: building one reads no source)."""

    exchange: ExchangeSettings = ExchangeSettings()
    """``[exchange]``: which exchange, which key, and how to reach it."""
    ui: UiSettings = UiSettings()
    """``[ui]``: what the dashboard shows and how often it polls."""
    keys: dict[str, str] = Field(default_factory=dict)
    """Key remapping: binding id -> comma-separated keys, e.g. ``buy = "b,f2"``."""

    @property
    def selected_symbol(self) -> str:
        return self.ui.symbol or self.ui.watchlist[0]


@dataclass(frozen=True)
class LoadedConfig:
    """Settings plus where each value came from."""

    settings: Settings
    path: Path
    file_exists: bool
    sources: dict[str, Source] = field(default_factory=dict)

    def source_of(self, dotted: str) -> Source:
        return self.sources.get(dotted, "default")


ENV_VARS: dict[str, tuple[str, str]] = {
    "BTX_BASE_URL": ("exchange", "base_url"),
    "BTX_API_KEY": ("exchange", "api_key"),
    "BTX_API_SECRET": ("exchange", "api_secret"),
    "BTX_PRIVATE_KEY_FILE": ("exchange", "private_key_file"),
    "BTX_PRIVATE_KEY_PASSPHRASE": ("exchange", "private_key_passphrase"),
}
"""Environment variables that override the file."""

SECRET_KEYS = frozenset({"exchange.api_key", "exchange.api_secret", "exchange.private_key_passphrase"})

PASSPHRASE_SUFFIX = ":private-key-passphrase"
"""The keyring stores a private key's passphrase under ``<api_key>`` + this suffix."""


class _FromSources(BaseSettings):
    """The fields of :class:`Settings`, filled by pydantic-settings from the sources of one load."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, env_prefix="BTX_",
                                      env_nested_delimiter="__", env_ignore_empty=True)

    exchange: ExchangeSettings = ExchangeSettings()
    """See :attr:`Settings.exchange`."""
    ui: UiSettings = UiSettings()
    """See :attr:`Settings.ui`."""
    keys: dict[str, str] = Field(default_factory=dict)
    """See :attr:`Settings.keys`."""

    #: The sources of the load under way, highest precedence first (set by :func:`load_config`).
    sources: ClassVar[tuple[PydanticBaseSettingsSource, ...]] = ()

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   *_default_sources: PydanticBaseSettingsSource,
                                   **_named: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        return cls.sources


class _EnvSource(EnvSettingsSource):
    """``BTX_<SECTION>__<KEY>`` from a given environment, the short :data:`ENV_VARS` names included."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        found = {name.lower(): value for name, value in self._given.items() if value}
        for var, (section, key) in ENV_VARS.items():
            if self._given.get(var):
                found[f"btx_{section}__{key}"] = self._given[var]
        return found


class KeyringSecretSource(PydanticBaseSettingsSource):
    """``exchange.api_secret`` (HMAC key) or ``exchange.private_key_passphrase`` (Ed25519/RSA
    key in an encrypted PEM) from the OS keyring, stored under the effective API key."""

    def __init__(self, settings_cls: type[BaseSettings], api_key: str | None,
                 field: str = "api_secret") -> None:
        super().__init__(settings_cls)
        self._api_key = api_key
        self._field = field

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is done in __call__

    def __call__(self) -> dict[str, Any]:
        if not self._api_key:
            return {}
        name = self._api_key + (PASSPHRASE_SUFFIX if self._field == "private_key_passphrase" else "")
        secret = keyring_secret(name)
        return {"exchange": {self._field: secret}} if secret else {}


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    use_keyring: bool = True,
) -> LoadedConfig:
    """Load the effective configuration.

    Args:
        path: explicit ``--config`` path (else ``BTX_CONFIG``, else the platform default).
        env: the environment to read overrides from (default ``os.environ``).
        flags: command-line overrides as dotted keys, e.g. ``{"exchange.base_url": "…"}``.
        use_keyring: look the secret up in the OS keyring when nothing else provides it.

    Raises:
        ConfigError: the file is unreadable, malformed, too open, or a value is invalid.
    """
    env = os.environ if env is None else env
    cfg_path = paths.config_path(path)
    nested_flags: dict[str, Any] = {}
    for dotted, value in (flags or {}).items():
        if value is not None:
            section, key = dotted.split(".", 1)
            nested_flags.setdefault(section, {})[key] = value
    flag_source = InitSettingsSource(_FromSources, nested_flags)
    env_source = _EnvSource(_FromSources, env)
    file_source = _file_source(cfg_path)
    answers: list[tuple[Source, dict[str, Any]]] = [
        ("flag", flag_source()), ("env", env_source()), ("file", file_source())]
    api_key = next((_leaf(data, "exchange", "api_key") for _, data in answers
                    if _leaf(data, "exchange", "api_key")), None)
    has_key_file = any(_leaf(data, "exchange", "private_key_file") for _, data in answers)
    wanted = "private_key_passphrase" if has_key_file else "api_secret"
    has_secret = any(_leaf(data, "exchange", wanted) for _, data in answers)
    keyring_source = KeyringSecretSource(_FromSources, str(api_key) if api_key else None, wanted)
    if use_keyring and api_key and not has_secret:
        answers.append(("keyring", keyring_source()))
    sources: dict[str, Source] = {}
    for origin, data in reversed(answers):  # lowest precedence first; higher ones overwrite
        for section, values in data.items():
            if isinstance(values, dict):
                for key in values:
                    sources[f"{section}.{key}"] = origin
    _FromSources.sources = (flag_source, env_source, file_source) + (
        (keyring_source,) if use_keyring and api_key and not has_secret else ())
    try:
        merged = _FromSources()
    except ValidationError as exc:
        raise ConfigError(_describe(exc, cfg_path, sources, env)) from None
    finally:
        _FromSources.sources = ()
    settings = Settings(exchange=merged.exchange, ui=merged.ui, keys=merged.keys)
    return LoadedConfig(settings, cfg_path, cfg_path.exists(), sources)


def _leaf(data: Mapping[str, Any], section: str, key: str) -> Any:
    values = data.get(section)
    return values.get(key) if isinstance(values, Mapping) else None


def _file_source(cfg_path: Path) -> TomlConfigSettingsSource:
    """The TOML file as a pydantic-settings source; unreadable or malformed is a ConfigError."""
    try:
        source = TomlConfigSettingsSource(_FromSources, toml_file=cfg_path)
    except OSError as exc:
        raise ConfigError(f"{cfg_path}: cannot read the config file ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{cfg_path}: the config file is not valid UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: invalid TOML: {exc}.") from None
    exchange = source.toml_data.get("exchange")
    if isinstance(exchange, dict) and (exchange.get("api_secret") or exchange.get("api_key")
                                       or exchange.get("private_key_passphrase")):
        _refuse_open_permissions(cfg_path)
    return source


def _refuse_open_permissions(cfg_path: Path) -> None:
    """Refuse a secret-holding file that others can read, as ssh does with private keys."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(cfg_path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"Permissions {mode:04o} for '{cfg_path}' are too open.\n"
            "It is required that a config file holding API keys is NOT accessible by others.\n"
            f"This config file is refused. Fix it with:  chmod 600 '{cfg_path}'"
        )


def _describe(exc: ValidationError, cfg_path: Path, sources: dict[str, Source], env: Mapping[str, str]) -> str:
    """One readable line per problem: where it came from, which key, what was expected."""
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        dotted = ".".join(loc[:2]) if loc else "(top level)"
        origin = sources.get(dotted, "file")
        where = {
            "env": f"environment variable {_env_name(dotted, env)}",
            "flag": "command-line flag",
        }.get(origin, str(cfg_path))
        if err["type"] == "extra_forbidden":
            expected = "an unknown key: " + _known_keys_hint(loc)
        elif err["type"] == "model_type":
            expected = "expected a table, e.g. [" + dotted + "]"
        else:
            expected = _expected(err)
        lines.append(f"{where}: key '{dotted}': {expected}")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


def _env_name(dotted: str, env: Mapping[str, str]) -> str:
    """The variable that set ``dotted``: a short :data:`ENV_VARS` name wins over the long form."""
    for var, (section, key) in ENV_VARS.items():
        if f"{section}.{key}" == dotted and env.get(var):
            return var
    return "BTX_" + dotted.replace(".", "__").upper()


def _known_keys_hint(loc: list[str]) -> str:
    model: type[BaseModel] = Settings
    if len(loc) >= 2 and loc[0] in Settings.model_fields:
        annotation = Settings.model_fields[loc[0]].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return "expected one of " + ", ".join(sorted(model.model_fields))


def _expected(err: Any) -> str:
    msg = err["msg"]
    kind = err["type"]
    friendly = {
        "int_parsing": "expected an integer",
        "int_type": "expected an integer",
        "float_parsing": "expected a number",
        "float_type": "expected a number",
        "bool_type": "expected true or false",
        "bool_parsing": "expected true or false",
        "string_type": "expected a string",
        "tuple_type": "expected a list of strings, e.g. [\"BTCUSDT\", \"ETHUSDT\"]",
        "url_parsing": "expected an http(s) URL like https://api.example.com",
        "url_scheme": "expected an http(s) URL like https://api.example.com",
        "literal_error": msg.replace("Input should be", "expected"),
    }
    if kind in friendly:
        return friendly[kind]
    return "expected " + msg[0].lower() + msg[1:] if msg else "invalid value"


def keyring_secret(api_key: str) -> str | None:
    """The secret stored in the OS keyring for ``api_key``, if a usable backend holds one."""
    try:
        import keyring
        from keyring.errors import KeyringError

        return keyring.get_password(paths.APP_NAME, api_key)
    except (ImportError, KeyringError, RuntimeError):
        return None


def store_secret_in_keyring(api_key: str, secret: str, *, passphrase: bool = False) -> None:
    """Store ``secret`` under ``api_key`` in the OS keyring (``passphrase``: a private key's
    passphrase, kept under its own name beside an HMAC secret).

    Raises:
        ConfigError: no usable keyring backend exists on this machine.
    """
    try:
        import keyring
        from keyring.backends.fail import Keyring as FailKeyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        raise ConfigError("The keyring package is not installed.") from None
    backend = keyring.get_keyring()
    if isinstance(backend, FailKeyring):
        raise ConfigError(
            "No OS keyring backend is available on this machine. "
            "Set BTX_API_SECRET, or put api_secret in a config file readable only by you (chmod 600)."
        )
    try:
        keyring.set_password(paths.APP_NAME, api_key + (PASSPHRASE_SUFFIX if passphrase else ""), secret)
    except KeyringError as exc:
        raise ConfigError(f"The OS keyring refused to store the secret: {exc}") from None


def describe(loaded: LoadedConfig) -> list[tuple[str, str, Source]]:
    """Rows ``(dotted key, display value, source)`` for ``config show``; secrets masked."""
    rows: list[tuple[str, str, Source]] = []
    data = loaded.settings.model_dump(mode="python")
    for section in ("exchange", "ui"):
        for key, value in data[section].items():
            dotted = f"{section}.{key}"
            rows.append((dotted, _display(dotted, value), loaded.source_of(dotted)))
    for binding, keys in sorted(loaded.settings.keys.items()):
        rows.append((f"keys.{binding}", keys, loaded.source_of(f"keys.{binding}")))
    return rows


def mask_url_password(url: str) -> str:
    """``http://user:pass@host`` -> ``http://user:**********@host`` (proxy credentials)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:{SECRET_MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _display(dotted: str, value: Any) -> str:
    if dotted in SECRET_KEYS:
        return SECRET_MASK if value is not None else "(unset)"
    if dotted == "exchange.proxy" and value is not None:
        return mask_url_password(str(value))
    if dotted == "exchange.base_url" and value is None:
        return "(unset: paper mode, the bundled paper exchange)"
    if value is None:
        return "(unset)"
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
