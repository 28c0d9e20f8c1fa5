"""Launch rules: no plain http to a remote exchange; loopback is fine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from btx_tui.config import ConfigError
from btx_tui.start_dashboard import check_live_url, is_loopback


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.5:8080", "http://[2001:db8::1]:80"])
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_live_url(url)
    assert "https://" in str(info.value) and "unencrypted" in str(info.value)


@pytest.mark.parametrize("url", ["https://api.example.com", "http://127.0.0.1:8765", "http://localhost:9000",
                                 "http://[::1]:8765", "http://127.0.0.2:1"])
def test_https_and_loopback_are_allowed(url: str) -> None:
    check_live_url(url)  # no exception


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("example.com") and not is_loopback(None) and not is_loopback("192.168.1.1")


def test_dashboard_refuses_plain_http_before_anything_is_sent(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[exchange]\nbase_url = "http://exchange.example.com"\napi_key = "k"\n')
    cfg.chmod(0o600)
    proc = subprocess.run([sys.executable, "-m", "btx_tui", "--config", str(cfg)], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert "Refusing to trade over plain http://" in proc.stderr
    assert "Traceback" not in proc.stderr
