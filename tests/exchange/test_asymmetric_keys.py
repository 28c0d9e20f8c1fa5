"""Ed25519 and RSA API keys, both sides: our client, ccxt's binance, the CLI that registers them."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pydantic import SecretStr

from btx_tui.api import BtxClient
from btx_tui.api.errors import AuthError
from btx_tui.api.signing import (
    Ed25519Signer,
    PassphraseNeeded,
    PrivateKeyError,
    RsaSigner,
    load_private_key,
)
from btx_tui.exchange.key_admin import DEMO_ED25519_FILE
from btx_tui.exchange.signatures import ED25519, HMAC, RSA, verify_signature
from btx_tui.exchange.process.launcher import PaperExchange


def _write_private(path: Path, key, passphrase: bytes | None = None) -> Path:  # type: ignore[no-untyped-def]
    algo = (serialization.BestAvailableEncryption(passphrase) if passphrase
            else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, algo))
    path.chmod(0o600)
    return path


def _write_public(path: Path, key) -> Path:  # type: ignore[no-untyped-def]
    path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def _keys_add(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "btx_tui", "exchange", "keys", "add",
                           "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60)


class _Key:
    def __init__(self, key_type: str, secret: str = "", public_key: str = "") -> None:
        self.key_type, self.secret, self.public_key = key_type, secret, public_key


def test_verify_signature_per_key_type() -> None:
    payload = b"symbol=BTCUSDT&timestamp=1"
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_pub = ed.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    sig = base64.b64encode(ed.sign(payload)).decode()
    assert verify_signature(_Key(ED25519, public_key=ed_pub), payload, sig)
    assert not verify_signature(_Key(ED25519, public_key=ed_pub), payload + b"0", sig)
    assert not verify_signature(_Key(ED25519, public_key=ed_pub), payload, "not base64!")
    # An Ed25519 signature checked as RSA (or with no key) is simply invalid, never an exception.
    assert not verify_signature(_Key(RSA, public_key=ed_pub), payload, sig)
    assert not verify_signature(_Key(ED25519), payload, sig)
    # A '+' that arrived unescaped (decoded as a space) still verifies.
    if "+" in sig:
        assert verify_signature(_Key(ED25519, public_key=ed_pub), payload, sig.replace("+", " "))
    assert verify_signature(_Key(HMAC, secret="s"), b"x",
                            "d4b4f5a0b2b1cd1b2e1bd3b1e14f1fbab0f2b8e7f5b0ac80a86c21ff19e7a1cf") is False


async def test_client_signs_with_ed25519_and_rsa_against_the_paper_exchange(
        fresh_exchange: PaperExchange, tmp_path: Path) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    rs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for flag, key, name in (("--ed25519", ed, "ed"), ("--rsa", rs, "rsa")):
        done = _keys_add(fresh_exchange.data_dir, flag, str(_write_public(tmp_path / f"{name}.pub", key)),
                         "--permissions", "READ,TRADE")
        assert done.returncode == 0, done.stderr
        api_key = done.stdout.strip().splitlines()[-1]
        signer = load_private_key(_write_private(tmp_path / f"{name}.pem", key))
        assert isinstance(signer, Ed25519Signer if name == "ed" else RsaSigner)
        assert "PRIVATE" not in repr(signer)
        # The running exchange accepts a key registered by another process after it started.
        async with BtxClient(fresh_exchange.base_url, api_key, signer) as client:
            account = await client.account()
            assert any(b.asset == "USDT" for b in account.balances)
            restrictions = await client.api_restrictions()
            assert restrictions.enable_spot_and_margin_trading and not restrictions.enable_withdrawals
    # A key the exchange knows, signing with another private key: -1022.
    done = _keys_add(fresh_exchange.data_dir, "--ed25519", str(tmp_path / "ed.pub"))
    api_key = done.stdout.strip().splitlines()[-1]
    other = load_private_key(_write_private(tmp_path / "other.pem", ed25519.Ed25519PrivateKey.generate()))
    async with BtxClient(fresh_exchange.base_url, api_key, other) as client:
        with pytest.raises(AuthError) as exc:
            await client.account()
    assert exc.value.code == -1022


async def test_demo_ed25519_pair_beside_demo_keys(fresh_exchange: PaperExchange) -> None:
    api_key, pem = fresh_exchange.private_key_file("ed25519")
    assert pem == fresh_exchange.data_dir / DEMO_ED25519_FILE
    assert oct(os.stat(pem).st_mode & 0o777) == "0o600"
    assert oct(os.stat(fresh_exchange.data_dir / "demo-keys.json").st_mode & 0o777) == "0o600"
    async with BtxClient(fresh_exchange.base_url, api_key, load_private_key(pem)) as client:
        assert (await client.api_restrictions()).enable_withdrawals


async def test_ccxt_binance_signs_with_an_ed25519_pem(fresh_exchange: PaperExchange) -> None:
    api_key, pem = fresh_exchange.private_key_file("ed25519")
    exchange = ccxt_async.binance({"apiKey": api_key, "secret": pem.read_text(),
                                   "options": {"defaultType": "spot", "fetchMarkets": ["spot"]}})
    for name, url in list(exchange.urls["api"].items()):
        exchange.urls["api"][name] = fresh_exchange.base_url + urlsplit(url).path
    try:
        await exchange.load_markets()
        balance = await exchange.fetch_balance()
        assert balance["USDT"]["free"] == 10000
        order = await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 5000)
        assert order["status"] == "open"
        canceled = await exchange.cancel_order(order["id"], "BTC/USDT")
        assert canceled["status"] == "canceled"
    finally:
        await exchange.close()


def test_keys_add_refuses_bad_input_and_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "dd"
    rs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = _keys_add(data_dir, "--ed25519", str(_write_public(tmp_path / "rsa.pub", rs)))
    assert wrong.returncode == 2 and "not an Ed25519 public key" in wrong.stderr
    perms = _keys_add(data_dir, "--rsa", str(tmp_path / "rsa.pub"), "--permissions", "READ,ADMIN")
    assert perms.returncode == 2 and "ADMIN" in perms.stderr
    missing = _keys_add(data_dir, "--rsa", str(tmp_path / "nope.pub"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    ok = _keys_add(data_dir, "--rsa", str(tmp_path / "rsa.pub"))
    assert ok.returncode == 0, ok.stderr
    assert len(ok.stdout.strip().splitlines()[-1]) == 64


def test_private_key_file_rules(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    plain = _write_private(tmp_path / "plain.pem", key)
    plain.chmod(0o644)
    with pytest.raises(PrivateKeyError, match="too open"):
        load_private_key(plain)
    locked = _write_private(tmp_path / "locked.pem", key, b"correct horse")
    with pytest.raises(PassphraseNeeded):
        load_private_key(locked)
    with pytest.raises(PrivateKeyError, match="wrong passphrase"):
        load_private_key(locked, SecretStr("nope"))
    signer = load_private_key(locked, SecretStr("correct horse"))
    assert isinstance(signer, Ed25519Signer)
    (tmp_path / "junk.pem").write_text("hello")
    (tmp_path / "junk.pem").chmod(0o600)
    with pytest.raises(PrivateKeyError, match="not a PEM private key"):
        load_private_key(tmp_path / "junk.pem")


async def test_unescaped_ed25519_signature_in_a_raw_request(fresh_exchange: PaperExchange) -> None:
    """The signature travels percent-encoded; the exchange decodes it before verifying."""
    api_key, pem = fresh_exchange.private_key_file("ed25519")
    key = serialization.load_pem_private_key(pem.read_bytes(), None)
    async with httpx.AsyncClient(base_url=fresh_exchange.base_url) as http:
        now = (await http.get("/api/v3/time")).json()["serverTime"]
        query = f"timestamp={now}"
        sig = base64.b64encode(key.sign(query.encode())).decode()  # type: ignore[union-attr]
        from urllib.parse import quote

        ok = await http.get(f"/api/v3/account?{query}&signature={quote(sig, safe='')}",
                            headers={"X-MBX-APIKEY": api_key})
        assert ok.status_code == 200, ok.text
        bad = await http.get(f"/api/v3/account?{query}&signature={quote(sig[::-1], safe='')}",
                             headers={"X-MBX-APIKEY": api_key})
        assert bad.status_code == 400 and bad.json()["code"] == -1022
