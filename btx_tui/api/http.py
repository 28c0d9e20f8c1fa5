"""The HTTP layer under :class:`~btx_tui.api.rest.RestSession`: httpx's API on aiohttp's pool.

Why these libraries: ``httpx.AsyncClient`` is the API (requests, responses, proxies from the
environment, timeouts, gzip), and ``httpx-aiohttp``'s ``AiohttpTransport`` carries it over
aiohttp's connection pool and C parser. Measured in the same run (``bench/client.py``,
docs/benchmarks.md), httpx's own transport (httpcore + h11) costs about twice the CPU per
request of the aiohttp one; neither is hand-written here.

What this module decides, in one place:

- **Proxies.** ``trust_env``: ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` and ``NO_PROXY``
  are honoured exactly as httpx reads them. httpx does *not* exempt loopback by itself: an
  exchange on loopback is proxied too unless ``NO_PROXY`` names it (``localhost,127.0.0.1``);
  the dashboard turns ``trust_env`` off for the bundled paper exchange it started itself.
  The ``proxy`` config key, when set, wins over the environment (and ``NO_PROXY``).
- **TLS.** The operating system's trust store through ``truststore`` (so a company CA
  installed on the machine — e.g. for a TLS-inspecting proxy — is trusted the way the browser
  trusts it; certifi's bundle would not know it), plus the PEM file of the ``ca_bundle``
  config key when set.
- **gzip.** Every request says ``Accept-Encoding: gzip``; httpx decodes the answer.
- **Was it sent?** :func:`maybe_sent` is the three-outcome rule's table: only a failure that
  proves the request never left (no connection, proxy refused, pool full) may be retried
  for an order. httpx-aiohttp maps every ``aiohttp.ClientConnectionError`` to
  ``httpx.ConnectTimeout`` (a reset *after* sending included), so the aiohttp exception it
  chains as ``__cause__`` is read first.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import aiohttp
import httpx
import truststore
from httpx_aiohttp import HttpxAiohttpClient

__all__ = ["LIMITS", "TRANSPORT_ERRORS", "HttpSettings", "default_transport", "is_timeout", "maybe_sent",
           "open_http_client", "proxy_problem", "ssl_context", "tls_problem"]

#: What a request can raise below the JSON layer: httpx's errors, and aiohttp's when
#: httpx-aiohttp lets one through unmapped (e.g. a malformed answer).
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.HTTPError, aiohttp.ClientError)

#: Connections: a small pool; idle ones dropped after 4 s, below uvicorn's 5 s keep-alive
#: timeout, so we do not race the server closing them (a POST on a connection the server just
#: closed fails as "maybe sent" and costs a resolution query).
LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=4.0)


class HttpSettings:
    """Proxy and TLS choices for one exchange connection (the config keys of the same names)."""

    __slots__ = ("ca_bundle", "proxy", "trust_env")

    def __init__(self, *, proxy: str | None = None, ca_bundle: str | os.PathLike[str] | None = None,
                 trust_env: bool = True) -> None:
        self.proxy = proxy
        self.ca_bundle = Path(ca_bundle) if ca_bundle is not None else None
        self.trust_env = trust_env

    def __repr__(self) -> str:
        proxy = self.proxy
        if proxy and "@" in proxy:  # never show proxy credentials
            proxy = proxy.split("://", 1)[0] + "://***@" + proxy.rsplit("@", 1)[1]
        return f"HttpSettings(proxy={proxy!r}, ca_bundle={self.ca_bundle!r}, trust_env={self.trust_env})"


def ssl_context(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """The system trust store (truststore), plus ``ca_bundle``'s certificates when given.

    Raises:
        ValueError: ``ca_bundle`` is missing or holds no PEM certificate.
    """
    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle is not None:
        try:
            ctx.load_verify_locations(cafile=os.fspath(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"ca_bundle {ca_bundle}: not a readable PEM certificate file ({exc})") from None
    return ctx


def open_http_client(base_url: str, *, timeout: httpx.Timeout, settings: HttpSettings | None = None,
                     transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` for one exchange: aiohttp underneath unless ``transport`` is given.

    A given ``transport`` (tests wrap the real one to inject faults; the bench passes
    httpx's own) replaces the default one; httpx then ignores proxy environment variables,
    but still honours an explicit ``proxy``.
    """
    settings = settings or HttpSettings()
    return HttpxAiohttpClient(
        base_url=base_url,
        timeout=timeout,
        limits=LIMITS,
        proxy=settings.proxy,
        verify=ssl_context(settings.ca_bundle),
        trust_env=settings.trust_env,
        transport=transport,
        follow_redirects=False,
        headers={"Accept-Encoding": "gzip"},
    )


def default_transport(settings: HttpSettings | None = None) -> httpx.AsyncBaseTransport:
    """The transport :func:`open_http_client` uses (direct, no proxy): for wrapping in tests."""
    from httpx_aiohttp import AiohttpTransport

    settings = settings or HttpSettings()
    return AiohttpTransport(verify=ssl_context(settings.ca_bundle), limits=LIMITS)


def _aiohttp_cause(exc: BaseException) -> aiohttp.ClientError | None:
    """The aiohttp exception behind ``exc`` (httpx-aiohttp chains it as ``__cause__``)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, aiohttp.ClientError):
            return cause
        cause = cause.__cause__
    return None


def maybe_sent(exc: BaseException) -> bool:
    """May the request behind ``exc`` have reached the server? False only when provably not.

    Not sent: no connection could be made or taken from the pool in time (refused, DNS,
    TLS handshake, proxy unreachable or refusing the tunnel). Anything after the request
    was handed to a connection — a reset, a close, a read timeout, a garbled answer — may
    have been executed.
    """
    cause = _aiohttp_cause(exc)
    if cause is not None:
        return not isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError
                              | aiohttp.ClientHttpProxyError)
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                          | httpx.ProxyError | httpx.UnsupportedProtocol)


def is_timeout(exc: BaseException) -> bool:
    """Did ``exc`` come from a timeout (for the message shown to the user)?"""
    cause = _aiohttp_cause(exc)
    if cause is not None:
        return isinstance(cause, aiohttp.ServerTimeoutError)
    return isinstance(exc, httpx.TimeoutException)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in seen and len(seen) < 12:
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
    return seen


#: OpenSSL verify codes (X509_V_ERR_*) that have their own words.
_EXPIRED_CODES = {10}  # CERT_HAS_EXPIRED
_NOT_YET_VALID_CODES = {9}  # CERT_NOT_YET_VALID
_HOSTNAME_CODES = {62, 64}  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH


def tls_problem(exc: BaseException) -> tuple[str, str] | None:
    """``(reason, detail)`` when ``exc`` is a failed TLS handshake, else None.

    ``reason`` is "untrusted certificate", "wrong host name", "certificate expired" (the
    certificate checks) or "TLS handshake failed" (anything else TLS: protocol, cipher, a
    plain-HTTP server on an https:// URL).
    """
    for item in _chain(exc):
        if isinstance(item, ssl.SSLCertVerificationError):
            code = getattr(item, "verify_code", None)
            detail = getattr(item, "verify_message", None) or str(item)
            text = detail.lower()
            if code in _EXPIRED_CODES or "expired" in text:
                return "certificate expired", detail
            if code in _NOT_YET_VALID_CODES:
                return "certificate not yet valid", detail
            if code in _HOSTNAME_CODES or "hostname mismatch" in text or "ip address mismatch" in text:
                return "wrong host name", detail
            return "untrusted certificate", detail
        if isinstance(item, ssl.SSLError):
            return "TLS handshake failed", getattr(item, "reason", None) or str(item)
    return None


def proxy_problem(exc: BaseException) -> tuple[str, str, int | None] | None:
    """``(short, message, http status)`` when the forward proxy, not the exchange, failed."""
    for item in _chain(exc):
        if isinstance(item, aiohttp.ClientHttpProxyError):
            status = item.status
            if status == 407:
                return ("proxy needs authentication (407)",
                        "The proxy asks for authentication (HTTP 407): put user:password in the proxy URL",
                        407)
            return (f"proxy refused (HTTP {status})",
                    f"The proxy refused to connect to the exchange (HTTP {status})", status)
        if isinstance(item, aiohttp.ClientProxyConnectionError):
            if any(isinstance(x, ConnectionRefusedError) for x in _chain(item)):
                return ("proxy refused connection", "The proxy refused the connection; check the "
                        "proxy setting or HTTPS_PROXY/HTTP_PROXY", None)
            return ("proxy unreachable", "Could not connect to the proxy; check the proxy setting "
                    "or HTTPS_PROXY/HTTP_PROXY", None)
        if isinstance(item, httpx.ProxyError):
            return ("proxy refused", f"The proxy failed: {item}", None)
    return None
