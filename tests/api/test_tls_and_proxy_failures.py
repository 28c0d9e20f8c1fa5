"""A real self-signed TLS paper exchange (trustme CA, ``btx-tui exchange --tls-cert/--tls-key``)
and a real forward proxy (proxy.py): the dashboard's client trades over HTTPS with ``ca_bundle``,
and every way TLS or a proxy can fail is reported as what it is (status bar text, log)."""

from __future__ import annotations

import datetime
import logging
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import trustme
from pydantic import SecretStr

from btx_tui.api import BtxClient, NetworkError, ProxyFailure, TlsError
from btx_tui.api.orders import OrderRequest, Outcome
from btx_tui.config import ExchangeSettings, Settings
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange
from btx_tui.tui.app import default_client
from btx_tui.tui.connection_health import Connection, short_error

from .conftest import FAST_RESOLVE, FAST_RETRY, run_forward_proxy

SYMBOL = "BTCUSDT"


def _tls_exchange(tmp: Path, ca: trustme.CA, **cert_kw) -> PaperExchange:  # type: ignore[no-untyped-def]
    cert = ca.issue_cert("127.0.0.1", **cert_kw)
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tmp / "key.pem"))
    (tmp / "key.pem").chmod(0o600)
    return start_paper_exchange(tmp / "data", market=False,
                                extra_args=["--tls-cert", str(tmp / "cert.pem"), "--tls-key", str(tmp / "key.pem")])


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


@pytest.fixture(scope="module")
def tls_exchange(tmp_path_factory: pytest.TempPathFactory, ca) -> Iterator[PaperExchange]:  # type: ignore[no-untyped-def]
    """HTTPS on 127.0.0.1 with a certificate for the IP 127.0.0.1 only (not "localhost")."""
    ex = _tls_exchange(tmp_path_factory.mktemp("tls"), ca[0])
    try:
        yield ex
    finally:
        ex.stop()


def _settings(ca_bundle: Path, **kw) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(exchange=ExchangeSettings(ca_bundle=ca_bundle, **kw))


async def test_dashboard_client_trades_over_https_with_ca_bundle(tls_exchange: PaperExchange, ca) -> None:  # type: ignore[no-untyped-def]
    assert tls_exchange.base_url.startswith("https://127.0.0.1:")
    key, secret = tls_exchange.key("full")
    client = default_client(Connection(tls_exchange.base_url, key, SecretStr(secret)), _settings(ca[1]))
    async with client:
        bid = (await client.depth(SYMBOL, 5)).bids
        price = ((bid[0].price if bid else Decimal("90000")) * Decimal("0.5")).quantize(Decimal("0.01"))
        placed = await client.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=Decimal("0.001"),
                                                       price=price), resolver=FAST_RESOLVE)
        assert placed.outcome is Outcome.ACCEPTED and placed.order is not None, placed.describe()
        assert (await client.cancel_order(SYMBOL, order_id=placed.order.order_id)).status == "CANCELED"


async def _failure(client: BtxClient) -> NetworkError:
    async with client:
        with pytest.raises(NetworkError) as exc:
            await client.server_time()
    return exc.value


async def test_untrusted_certificate_is_reported_as_tls(tls_exchange: PaperExchange, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    caplog.set_level(logging.WARNING, logger="btx_tui.api")
    error = await _failure(BtxClient(tls_exchange.base_url, ca_bundle=other, trust_env=False, retry=FAST_RETRY))
    assert isinstance(error, TlsError) and error.reason == "untrusted certificate"
    assert not error.maybe_sent
    assert short_error(error) == "TLS: untrusted certificate"
    assert "TLS problem: untrusted certificate" in str(error)
    assert "TLS problem: untrusted certificate" in caplog.text
    assert "Could not connect" not in str(error)


async def test_wrong_host_name_is_reported_as_tls(tls_exchange: PaperExchange, ca) -> None:  # type: ignore[no-untyped-def]
    url = tls_exchange.base_url.replace("127.0.0.1", "localhost")
    error = await _failure(BtxClient(url, ca_bundle=ca[1], trust_env=False, retry=FAST_RETRY))
    assert isinstance(error, TlsError) and error.reason == "wrong host name", str(error)
    assert short_error(error) == "TLS: wrong host name"


async def test_expired_certificate_is_reported_as_tls(tmp_path: Path, ca) -> None:  # type: ignore[no-untyped-def]
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
    ex = _tls_exchange(tmp_path, ca[0], not_before=past - datetime.timedelta(days=60), not_after=past)
    try:
        error = await _failure(BtxClient(ex.base_url, ca_bundle=ca[1], trust_env=False, retry=FAST_RETRY))
    finally:
        ex.stop()
    assert isinstance(error, TlsError) and error.reason == "certificate expired", str(error)
    assert short_error(error) == "TLS: certificate expired"


async def test_plain_http_client_against_https_server_is_not_a_crash(tls_exchange: PaperExchange) -> None:
    url = tls_exchange.base_url.replace("https://", "http://")
    async with BtxClient(url, trust_env=False, retry=FAST_RETRY) as client:
        with pytest.raises(Exception) as exc:
            await client.server_time()
    from btx_tui.api import BtxError

    assert isinstance(exc.value, BtxError)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_proxy_refusing_the_connection_is_reported(paper_exchange: PaperExchange,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="btx_tui.api")
    key, secret = paper_exchange.key("full")
    settings = Settings(exchange=ExchangeSettings(proxy=f"http://127.0.0.1:{_closed_port()}"))
    error = await _failure(default_client(Connection(paper_exchange.base_url, key, SecretStr(secret)), settings))
    assert isinstance(error, ProxyFailure) and not error.maybe_sent
    assert short_error(error) == "proxy refused connection"
    assert "The proxy refused the connection" in caplog.text


async def test_proxy_asking_for_authentication_is_reported(paper_exchange: PaperExchange, tmp_path: Path) -> None:
    with run_forward_proxy(tmp_path, "--basic-auth", "trader:s3cret") as proxy:
        async with BtxClient(paper_exchange.base_url, proxy=proxy.url, trust_env=False, retry=FAST_RETRY) as client:
            with pytest.raises(ProxyFailure) as exc:
                await client.server_time()
        assert exc.value.http_status == 407
        assert short_error(exc.value) == "proxy needs authentication (407)"
        # With the credentials in the proxy URL, the same proxy carries the request.
        authed = proxy.url.replace("http://", "http://trader:s3cret@")
        async with BtxClient(paper_exchange.base_url, proxy=authed, trust_env=False) as client:
            assert (await client.server_time()).server_time > 0


async def test_ed25519_trader_behind_a_proxy_on_a_private_ca_exchange(tls_exchange: PaperExchange, ca,  # type: ignore[no-untyped-def]
                                                                       tmp_path: Path) -> None:
    """The issue's "done": the dashboard's client, an Ed25519 key, a real proxy (CONNECT
    tunnel), an exchange whose certificate only ``ca_bundle`` trusts — and an order round trip."""
    from btx_tui.api.signing import load_private_key

    api_key, pem = tls_exchange.private_key_file("ed25519")
    with run_forward_proxy(tmp_path) as proxy:
        settings = Settings(exchange=ExchangeSettings(ca_bundle=ca[1], proxy=proxy.url))
        client = default_client(Connection(tls_exchange.base_url, api_key, load_private_key(pem)), settings)
        async with client:
            placed = await client.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=Decimal("0.010"),
                                                           price=Decimal("5000.00")), resolver=FAST_RESOLVE)
            assert placed.outcome is Outcome.ACCEPTED and placed.order is not None, placed.describe()
            assert (await client.cancel_order(SYMBOL, order_id=placed.order.order_id)).status == "CANCELED"
        # The proxy carried it: a CONNECT tunnel to the exchange's port.
        authority = tls_exchange.base_url.split("://", 1)[1]
        assert f"CONNECT {authority}" in proxy.wait_for(f"CONNECT {authority}")
