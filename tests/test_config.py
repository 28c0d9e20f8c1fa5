"""Configuration: precedence, the example file, refusals and clean errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from btx_tui import config
from btx_tui.config import SECRET_MASK, ConfigError, describe, load_config

REPO = Path(__file__).resolve().parents[1]


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    loaded = load_config(tmp_path / "missing.toml", env={})
    s = loaded.settings
    assert not loaded.file_exists
    assert s.exchange.is_paper
    assert s.ui.watchlist[0] == "BTTUSDT"
    assert s.selected_symbol == "BTTUSDT"
    assert loaded.source_of("exchange.base_url") == "default"


def test_precedence_default_file_env_flag(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", """
[exchange]
base_url = "https://file.example.com"
recv_window_ms = 7000
[ui]
symbol = "ethusdt"
""")
    only_file = load_config(cfg, env={})
    assert str(only_file.settings.exchange.base_url) == "https://file.example.com/"
    assert only_file.source_of("exchange.base_url") == "file"
    assert only_file.settings.exchange.recv_window_ms == 7000
    assert only_file.settings.ui.symbol == "ETHUSDT"
    assert only_file.source_of("exchange.timeout_s") == "default"

    env = {"BTX_BASE_URL": "https://env.example.com"}
    with_env = load_config(cfg, env=env)
    assert str(with_env.settings.exchange.base_url) == "https://env.example.com/"
    assert with_env.source_of("exchange.base_url") == "env"
    assert with_env.source_of("exchange.recv_window_ms") == "file"

    with_flag = load_config(cfg, env=env, flags={"exchange.base_url": "https://flag.example.com"})
    assert str(with_flag.settings.exchange.base_url) == "https://flag.example.com/"
    assert with_flag.source_of("exchange.base_url") == "flag"


def test_config_env_var_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "via-env.toml", '[ui]\ntheme = "nord"\n')
    monkeypatch.setenv("BTX_CONFIG", str(cfg))
    loaded = load_config()
    assert loaded.path == cfg
    assert loaded.settings.ui.theme == "nord"


def test_example_config_loads_and_documents_every_key(tmp_path: Path) -> None:
    example = REPO / "config.example.toml"
    text = example.read_text()
    loaded = load_config(write(tmp_path / "ex.toml", text), env={})
    assert loaded.file_exists
    # Every setting is documented in the example (as a key, possibly commented out).
    for key, _, _ in describe(loaded):
        if key.startswith("keys."):
            continue
        leaf = key.split(".", 1)[1]
        assert f"{leaf} =" in text, f"config.example.toml does not document {key}"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_group_or_world_readable_secret_file_is_refused(tmp_path: Path, mode: int) -> None:
    cfg = write(tmp_path / "open.toml", '[exchange]\napi_key = "k"\napi_secret = "s"\n', mode)
    with pytest.raises(ConfigError) as info:
        load_config(cfg, env={})
    msg = str(info.value)
    assert str(cfg) in msg
    assert f"chmod 600 '{cfg}'" in msg
    assert "too open" in msg


def test_open_file_without_secrets_is_fine(tmp_path: Path) -> None:
    cfg = write(tmp_path / "open.toml", '[ui]\ntheme = "nord"\n', 0o644)
    assert load_config(cfg, env={}).settings.ui.theme == "nord"


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ("[exchange\nbase_url = 1", None, "invalid TOML"),
        ('[exchange]\nbase_urll = "https://x.example.com"\n', "exchange.base_urll", "unknown key"),
        ('[nonsense]\na = 1\n', "nonsense", "unknown key"),
        ('[exchange]\nrecv_window_ms = "soon"\n', "exchange.recv_window_ms", "expected an integer"),
        ('[exchange]\nrecv_window_ms = 600000\n', "exchange.recv_window_ms", "less than or equal to 60000"),
        ('[exchange]\nbase_url = "not a url"\n', "exchange.base_url", "http(s) URL"),
        ('[exchange]\nbase_url = "ftp://x.example.com"\n', "exchange.base_url", "http(s) URL"),
        ('[ui]\nwatchlist = "BTCUSDT"\n', "ui.watchlist", "list of strings"),
        ('[ui]\nbell_on_fill = "loud"\n', "ui.bell_on_fill", "true or false"),
        ('[ui]\nchart_interval = "7m"\n', "ui.chart_interval", "expected"),
        ('exchange = 5\n', "exchange", "table"),
    ],
)
def test_malformed_config_is_one_clear_message(tmp_path: Path, body: str, key: str | None,
                                               expected: str) -> None:
    cfg = write(tmp_path / "bad.toml", body)
    with pytest.raises(ConfigError) as info:
        load_config(cfg, env={})
    msg = str(info.value)
    assert str(cfg) in msg
    if key:
        assert f"'{key}'" in msg
    assert expected in msg
    assert "Traceback" not in msg


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "none.toml", env={"BTX_BASE_URL": "nope"})
    assert "environment variable BTX_BASE_URL" in str(info.value)


def test_describe_masks_secrets(tmp_path: Path, canary: str) -> None:
    cfg = write(tmp_path / "c.toml", f'[exchange]\napi_key = "{canary}K"\n')
    loaded = load_config(cfg, env={"BTX_API_SECRET": canary}, use_keyring=False)
    rows = {k: (v, s) for k, v, s in describe(loaded)}
    assert rows["exchange.api_secret"] == (SECRET_MASK, "env")
    assert rows["exchange.api_key"] == (SECRET_MASK, "file")
    assert all(canary not in v for v, _ in rows.values())
    assert canary not in repr(loaded.settings)


def test_any_key_from_the_environment_in_its_long_form(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[ui]\ntheme = "nord"\n[exchange]\ntimeout_s = 3\n')
    env = {"BTX_UI__THEME": "gruvbox", "BTX_EXCHANGE__PROXY": "http://proxy.example:3128",
           "BTX_UI__WATCHLIST": '["ethusdt", "BTCUSDT"]'}
    loaded = load_config(cfg, env=env)
    s = loaded.settings
    assert (s.ui.theme, s.ui.watchlist) == ("gruvbox", ("ETHUSDT", "BTCUSDT"))
    assert str(s.exchange.proxy) == "http://proxy.example:3128/"
    assert s.exchange.timeout_s == 3
    assert [loaded.source_of(k) for k in ("ui.theme", "exchange.proxy", "exchange.timeout_s", "ui.symbol")] == [
        "env", "env", "file", "default"]
    # The short documented name wins over the long form of the same key.
    both = load_config(cfg, env={"BTX_BASE_URL": "https://short.example.com",
                                 "BTX_EXCHANGE__BASE_URL": "https://long.example.com"})
    assert str(both.settings.exchange.base_url) == "https://short.example.com/"


def test_bad_long_env_value_names_that_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "none.toml", env={"BTX_EXCHANGE__TIMEOUT_S": "soon"})
    assert "environment variable BTX_EXCHANGE__TIMEOUT_S" in str(info.value)
    assert "'exchange.timeout_s'" in str(info.value) and "expected a number" in str(info.value)


@pytest.mark.parametrize(("body", "key", "expected"), [
    ('[exchange]\nca_bundle = "/nonexistent/ca.pem"\n', "exchange.ca_bundle", "expected"),
    ('[exchange]\nproxy = "not a url"\n', "exchange.proxy", "http(s) URL"),
])
def test_network_keys_are_checked_at_load(tmp_path: Path, body: str, key: str, expected: str) -> None:
    cfg = write(tmp_path / "bad.toml", body)
    with pytest.raises(ConfigError) as info:
        load_config(cfg, env={})
    assert str(cfg) in str(info.value) and f"'{key}'" in str(info.value) and expected in str(info.value)


def test_network_keys_load(tmp_path: Path) -> None:
    bundle = write(tmp_path / "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    cfg = write(tmp_path / "c.toml", f'[exchange]\nproxy = "http://127.0.0.1:3128"\nca_bundle = "{bundle}"\n')
    loaded = load_config(cfg, env={})
    assert loaded.settings.exchange.ca_bundle == bundle
    assert loaded.source_of("exchange.ca_bundle") == loaded.source_of("exchange.proxy") == "file"


def test_keyring_is_a_source_below_everything_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pass

    stored = {"KEY1": "from-keyring"}
    monkeypatch.setattr(config, "keyring_secret", lambda api_key: stored.get(api_key))
    loaded = load_config(tmp_path / "none.toml", env={"BTX_API_KEY": "KEY1"})
    assert loaded.settings.exchange.api_secret.get_secret_value() == "from-keyring"
    assert loaded.source_of("exchange.api_secret") == "keyring"
    env_wins = load_config(tmp_path / "none.toml", env={"BTX_API_KEY": "KEY1", "BTX_API_SECRET": "from-env"})
    assert env_wins.settings.exchange.api_secret.get_secret_value() == "from-env"
    assert env_wins.source_of("exchange.api_secret") == "env"
    off = load_config(tmp_path / "none.toml", env={"BTX_API_KEY": "KEY1"}, use_keyring=False)
    assert off.settings.exchange.api_secret is None and off.source_of("exchange.api_secret") == "default"


def test_private_key_file_and_passphrase_never_shown(tmp_path: Path, canary: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pem = write(tmp_path / "k.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    cfg = write(tmp_path / "c.toml", f'[exchange]\napi_key = "KEY1"\nprivate_key_file = "{pem}"\n'
                f'private_key_passphrase = "{canary}"\nproxy = "http://u:{canary}P@proxy.test:3128"\n')
    cfg.chmod(0o600)
    loaded = load_config(cfg, env={}, use_keyring=False)
    rows = {k: (v, s) for k, v, s in describe(loaded)}
    assert rows["exchange.private_key_passphrase"] == (SECRET_MASK, "file")
    assert rows["exchange.private_key_file"] == (str(pem), "file")
    assert rows["exchange.proxy"][0].startswith(f"http://u:{SECRET_MASK}@proxy.test:3128")
    assert all(canary not in v for v, _ in rows.values())
    assert canary not in repr(loaded.settings)
    # A passphrase in a group-readable file is refused like a secret.
    cfg.chmod(0o640)
    with pytest.raises(ConfigError, match="too open"):
        load_config(cfg, env={}, use_keyring=False)


def test_passphrase_comes_from_the_keyring_for_a_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = write(tmp_path / "k.pem", "x")
    stored = {"KEY1": "hmac-secret", "KEY1" + config.PASSPHRASE_SUFFIX: "pass-from-keyring"}
    monkeypatch.setattr(config, "keyring_secret", lambda name: stored.get(name))
    loaded = load_config(tmp_path / "none.toml", env={"BTX_API_KEY": "KEY1", "BTX_PRIVATE_KEY_FILE": str(pem)})
    assert loaded.settings.exchange.private_key_passphrase.get_secret_value() == "pass-from-keyring"
    assert loaded.source_of("exchange.private_key_passphrase") == "keyring"
    assert loaded.settings.exchange.api_secret is None  # an Ed25519/RSA key has no HMAC secret
