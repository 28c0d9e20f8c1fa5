"""Trading through a REAL forward proxy (proxy.py) against the real paper exchange on loopback.

httpx reads ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY`` (``trust_env``) and does not exempt
loopback by itself, so a proxy named in the environment carries even the local exchange's
traffic; the proxy's own access log (through a small recording plugin) proves which requests went through it.
"""

from __future__ import annotations

import socket
from decimal import Decimal

import certifi
import pytest
from pydantic import SecretStr

from btx_tui.api import BtxClient, NetworkError
from btx_tui.api.http import ssl_context
from btx_tui.api.orders import OrderRequest, Outcome
from btx_tui.config import ExchangeSettings, Settings
from btx_tui.tui.app import default_client
from btx_tui.tui.connection_health import Connection

from .conftest import FAST_RESOLVE, FAST_RETRY

SYMBOL = "BTCUSDT"


def _authority(base_url: str) -> str:
    return base_url.split("://", 1)[1].rstrip("/")


async def _far_below(client: BtxClient) -> OrderRequest:
    best_bid = (await client.depth(SYMBOL, 5)).bids
    price = (best_bid[0].price if best_bid else Decimal("90000")) * Decimal("0.5")
    return OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=Decimal("0.001"), price=price.quantize(Decimal("0.01")))


async def test_client_trades_through_the_proxy_named_by_http_proxy(
        monkeypatch: pytest.MonkeyPatch, paper_exchange, forward_proxy, make_client) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    async with make_client("full") as client:
        placed = await client.place_order(await _far_below(client), resolver=FAST_RESOLVE)
        assert placed.outcome is Outcome.ACCEPTED and placed.order is not None, placed.describe()
        cancelled = await client.cancel_order(SYMBOL, order_id=placed.order.order_id)
        assert cancelled.status == "CANCELED"
    target = _authority(paper_exchange.base_url)
    log = forward_proxy.wait_for(f"DELETE {target}/api/v3/order")
    assert f"GET {target}/api/v3/depth" in log
    assert f"POST {target}/api/v3/order" in log
    assert f"DELETE {target}/api/v3/order" in log


async def test_dashboard_client_factory_goes_through_the_proxy(
        monkeypatch: pytest.MonkeyPatch, paper_exchange, forward_proxy) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    key, secret = paper_exchange.key("full")
    client = default_client(Connection(paper_exchange.base_url, key, SecretStr(secret)), Settings())
    async with client:
        assert (await client.account()).balances
    log = forward_proxy.wait_for("/api/v3/account")
    assert f"GET {_authority(paper_exchange.base_url)}/api/v3/account" in log


async def test_the_bundled_paper_exchange_is_never_reached_through_a_proxy(
        monkeypatch: pytest.MonkeyPatch, paper_exchange) -> None:
    # A proxy from the shell (say a company one) cannot reach the loopback exchange the app
    # started itself, so paper mode ignores the proxy variables (a configured `proxy` key
    # would still apply).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    key, secret = paper_exchange.key("full")
    paper = Connection(paper_exchange.base_url, key, SecretStr(secret), paper=True)
    async with default_client(paper, Settings()) as client:
        assert (await client.account()).balances
    configured = Connection(paper_exchange.base_url, key, SecretStr(secret))
    async with default_client(configured, Settings()) as client:
        with pytest.raises(NetworkError) as err:
            await client.account()
        assert not err.value.maybe_sent  # the dead proxy: nothing was sent


async def test_no_proxy_names_loopback_and_the_proxy_sees_nothing(
        monkeypatch: pytest.MonkeyPatch, forward_proxy, make_client) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with make_client("full") as client:
        await client.account()
    assert "/api/v3/account" not in forward_proxy.log()


async def test_proxy_config_key_wins_over_the_environment(
        monkeypatch: pytest.MonkeyPatch, paper_exchange, forward_proxy) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # ignored: the configured proxy wins
    key, secret = paper_exchange.key("full")
    settings = Settings(exchange=ExchangeSettings(proxy=forward_proxy.url))
    async with default_client(Connection(paper_exchange.base_url, key, SecretStr(secret)), settings) as client:
        await client.open_orders(SYMBOL)
    assert "/api/v3/openOrders" in forward_proxy.wait_for("/api/v3/openOrders")


async def test_unreachable_proxy_means_the_order_was_never_sent(
        monkeypatch: pytest.MonkeyPatch, paper_exchange, make_client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    async with make_client("full") as direct:
        request = await _far_below(direct)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    async with make_client("full", retry=FAST_RETRY) as client:
        with pytest.raises(NetworkError) as err:
            await client.ping()
        assert not err.value.maybe_sent
        placed = await client.place_order(request, resolver=FAST_RESOLVE)
        assert placed.outcome is Outcome.REJECTED and placed.resolution_attempts == 0  # not sent: no query
    monkeypatch.delenv("HTTP_PROXY")
    async with make_client("full") as direct:  # the exchange never saw it
        history = await direct.all_orders(SYMBOL)
        assert request.client_order_id not in {o.client_order_id for o in history}


async def test_ca_bundle_from_config_is_trusted_on_top_of_the_system_store(tmp_path) -> None:
    # A real TLS server on loopback whose certificate is signed by a CA of the test's own
    # (trustme): unknown to the system trust store, trusted once named by ca_bundle.
    import asyncio
    import ssl

    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    bundle = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    base_url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with BtxClient(base_url, retry=FAST_RETRY) as untrusting:
            with pytest.raises(NetworkError) as err:
                await untrusting.ping()
            assert not err.value.maybe_sent  # the TLS handshake failed: nothing was sent
        async with BtxClient(base_url, retry=FAST_RETRY, ca_bundle=bundle) as trusting:
            assert (await trusting.ping()).round_trip_ms > 0  # answered over TLS, and timed
    finally:
        server.close()


def test_ca_bundle_must_be_a_pem_file(tmp_path) -> None:
    assert ssl_context(certifi.where()).verify_mode.name == "CERT_REQUIRED"
    with pytest.raises(ValueError, match="ca_bundle"):
        ssl_context(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ValueError, match="junk.pem"):
        ssl_context(tmp_path / "junk.pem")
