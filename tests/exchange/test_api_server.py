"""``btx-tui exchange`` process behaviour: first line, demo keys, clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import httpx
import pytest

from btx_tui.exchange.process.server import is_loopback, url_for
from btx_tui.exchange.process.launcher import LISTENING_PREFIX, start_paper_exchange


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_start_keys_file_and_clean_shutdown(tmp_path: Path, sig: signal.Signals) -> None:
    data = tmp_path / "paper"
    stderr_path = tmp_path / "stderr.log"
    ex = start_paper_exchange(data, market=False, stderr_path=stderr_path)
    try:
        assert ex.base_url.startswith("http://127.0.0.1:")
        assert int(ex.base_url.rsplit(":", 1)[1]) > 0  # port 0 -> a real port
        keys_file = data / "demo-keys.json"
        assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
        doc = json.loads(keys_file.read_text())
        assert [k["name"] for k in doc["keys"]] == ["full", "trade", "read", "ed25519"]
        ed = doc["keys"][3]  # the demo Ed25519 key: public half in the DB, private key beside (0600)
        assert ed["key_type"] == "ED25519" and "api_secret" not in ed
        assert stat.S_IMODE(os.stat(ed["private_key_file"]).st_mode) == 0o600
        assert set(doc["keys"][0]) == {"name", "api_key", "api_secret", "permissions"}
        assert doc["keys"][0]["permissions"] == ["READ", "TRADE", "WITHDRAW"]
        assert doc["keys"][2]["permissions"] == ["READ"]
        assert httpx.get(ex.base_url + "/api/v3/ping").json() == {}
    finally:
        ex.proc.send_signal(sig)
        code = ex.proc.wait(15)
    assert code == 0
    rest = ex.proc.stdout.read().decode()
    assert rest == ""  # nothing after the first line: no access log on stdout
    err = stderr_path.read_text()
    assert "Traceback" not in err
    for key in doc["keys"][:3]:
        assert key["api_secret"] not in err

    # A restart on the same data dir keeps the keys.
    again = start_paper_exchange(data, market=False)
    try:
        assert again.keys["full"]["api_key"] == doc["keys"][0]["api_key"]
        assert again.keys["ed25519"]["api_key"] == doc["keys"][3]["api_key"]  # the same pair, reused
    finally:
        again.stop()


def test_listening_line_format() -> None:
    assert LISTENING_PREFIX == "BTX paper exchange listening on "
    assert url_for("127.0.0.1", 8765) == "http://127.0.0.1:8765"
    assert url_for("::1", 80) == "http://[::1]:80"


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert is_loopback("127.0.0.5")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.org")
