"""The command line: help everywhere, clean exit 2 on bad config, masked secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from btx_tui import __version__
from btx_tui.cli import main


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.parametrize("argv", [[], ["exchange"], ["config"], ["config", "show"],
                                  ["config", "path"], ["config", "set-secret"]])
def test_help_on_every_command(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run_main(capsys, *argv, "--help")
    assert code == 0
    assert out.startswith("usage: btx-tui")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "--version")
    assert code == 0 and out.strip() == f"btx-tui {__version__}"


def test_config_path_lists_every_location(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_main(capsys, "config", "path", "--config", str(tmp_path / "x.toml"))
    assert code == 0
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["config"] == str(tmp_path / "x.toml")
    assert lines["log"].endswith("btx-tui.log")
    assert set(lines) == {"config", "data", "paper", "log"}


def test_config_show_sources_and_masking(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch, canary: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[exchange]\napi_key = "{canary}"\nrecv_window_ms = 9000\n[keys]\nbuy = "f2"\n')
    cfg.chmod(0o600)
    monkeypatch.setenv("BTX_API_SECRET", canary + "S")
    code, out, err = run_main(capsys, "config", "show", "--config", str(cfg),
                              "--base-url", "https://flag.example.com")
    assert code == 0, err
    assert canary not in out + err
    rows = {line.split()[0]: line for line in out.splitlines() if not line.startswith("#")}
    assert rows["exchange.api_key"].split()[1] == "**********"
    assert rows["exchange.api_key"].endswith("[file]")
    assert rows["exchange.api_secret"].endswith("[env]")
    assert rows["exchange.base_url"].endswith("[flag]")
    assert rows["exchange.recv_window_ms"].split()[1] == "9000"
    assert rows["exchange.timeout_s"].endswith("[default]")
    assert rows["keys.buy"].split()[1] == "f2"


def test_bad_config_exits_2_without_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[exchange]\nrecv_window_ms = "x"\n')
    proc = subprocess.run([sys.executable, "-m", "btx_tui", "--config", str(cfg), "config", "show"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(cfg) in proc.stderr and "'exchange.recv_window_ms'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3


def test_unknown_time_zone_is_a_config_error_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "zone.toml"
    cfg.write_text('[ui]\ntimezone = "Mars/Olympus"\n')
    proc = subprocess.run([sys.executable, "-m", "btx_tui", "--config", str(cfg), "config", "show"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "'ui.timezone'" in proc.stderr and "Mars/Olympus" in proc.stderr and "Europe/Paris" in proc.stderr


def test_open_secret_file_refused_by_the_dashboard_command(tmp_path: Path) -> None:
    cfg = tmp_path / "open.toml"
    cfg.write_text('[exchange]\napi_secret = "s3cr3t-value"\napi_key = "k"\n')
    cfg.chmod(0o644)
    proc = subprocess.run([sys.executable, "-m", "btx_tui", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"chmod 600 '{cfg}'" in proc.stderr
    assert "s3cr3t-value" not in proc.stderr + proc.stdout


def test_set_secret_without_keyring_backend_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[exchange]\napi_key = "abc"\n')
    cfg.chmod(0o600)
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "btx_tui", "config", "set-secret", "--config", str(cfg)],
                          input="topsecretvalue\n", capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert "No OS keyring backend" in proc.stderr
    assert "topsecretvalue" not in proc.stderr + proc.stdout


def test_set_secret_stores_in_keyring_and_config_uses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import io

    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        cfg = tmp_path / "c.toml"
        cfg.write_text('[exchange]\napi_key = "mykey123"\nbase_url = "https://x.example.com"\n')
        cfg.chmod(0o600)
        monkeypatch.setattr("sys.stdin", io.StringIO("the-secret-value\n"))
        code, out, _ = run_main(capsys, "config", "set-secret", "--config", str(cfg))
        assert code == 0 and "Stored" in out
        assert MemoryKeyring.store[("btx-tui", "mykey123")] == "the-secret-value"
        code, out, _ = run_main(capsys, "config", "show", "--config", str(cfg))
        assert "the-secret-value" not in out
        secret_row = next(line for line in out.splitlines() if line.startswith("exchange.api_secret"))
        assert secret_row.endswith("[keyring]")
    finally:
        keyring.set_keyring(previous)


def test_set_secret_passphrase_and_dashboard_signer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``config set-secret --passphrase`` stores it under its own keyring name, and the
    dashboard's launcher decrypts the key file with it (or refuses an open key file)."""
    import io

    import keyring
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from keyring.backend import KeyringBackend

    from btx_tui.api.signing import Ed25519Signer
    from btx_tui.config import ConfigError, load_config
    from btx_tui.start_dashboard import signer_for

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    pem = tmp_path / "ed.pem"
    pem.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass phrase")))
    pem.chmod(0o600)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[exchange]\napi_key = "mykey123"\nbase_url = "https://x.example.com"\n'
                       f'private_key_file = "{pem}"\n')
        cfg.chmod(0o600)
        monkeypatch.setattr("sys.stdin", io.StringIO("pass phrase\n"))
        code, out, _ = run_main(capsys, "config", "set-secret", "--passphrase", "--config", str(cfg))
        assert code == 0 and "passphrase" in out
        assert ("btx-tui", "mykey123") not in MemoryKeyring.store
        code, out, _ = run_main(capsys, "config", "show", "--config", str(cfg))
        assert "pass phrase" not in out
        row = next(line for line in out.splitlines() if line.startswith("exchange.private_key_passphrase"))
        assert row.endswith("[keyring]")
        loaded = load_config(cfg)
        assert isinstance(signer_for(loaded.settings.exchange), Ed25519Signer)
        # Without the keyring's passphrase and without a terminal: a clear ConfigError.
        MemoryKeyring.store.clear()
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        with pytest.raises(ConfigError, match="encrypted"):
            signer_for(load_config(cfg).settings.exchange)
        # A prompt answers it.
        assert isinstance(signer_for(load_config(cfg).settings.exchange, prompt=lambda _: "pass phrase"),
                          Ed25519Signer)
        pem.chmod(0o644)
        with pytest.raises(ConfigError, match="too open"):
            signer_for(load_config(cfg).settings.exchange, prompt=lambda _: "pass phrase")
    finally:
        keyring.set_keyring(previous)
