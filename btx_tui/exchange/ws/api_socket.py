"""The WebSocket API (``/ws-api/v3``): requests over one socket, answered like REST.

Each request ``{"id","method","params"}`` runs the REST endpoint its method names
(``api_methods.METHODS``) through the REST machinery: the same weight charged to the same
per-IP limiter, the same order-count limits, the same authentication checks (``apiKey`` in
``params`` instead of the header) and the same handler, so errors carry REST's codes.  The
answer is ``{"id","status":200,"result","rateLimits"}`` or ``{"id","status","error",
"rateLimits"}`` (a success leaves ``rateLimits`` out when ``params.returnRateLimits`` is false,
as the standard allows).

Sessions: ``session.logon`` verifies a signed request once, then signed methods may omit
``apiKey``/``signature`` (a ``timestamp`` is still required).  Which signatures logon accepts
is a pluggable :data:`LogonVerifier`; the default runs the REST check, whose signature test
dispatches on the key's type (``signatures.py``): Ed25519 as the standard asks, HMAC and RSA too.

User data: ``userDataStream.subscribe.signature`` (signed) or ``userDataStream.subscribe``
(after logon) attach the account's events (``user_data.py``) to this socket, each as
``{"subscriptionId","event"}``; ``userDataStream.unsubscribe`` ends them with
``eventStreamTerminated``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.auth import authenticate, check_timing
from btx_tui.exchange.http.endpoints import NONE, PERMISSION, Context, Endpoint
from btx_tui.exchange.http.params import Params
from btx_tui.exchange.http.ratelimit import RateLimiter
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.ws.api_methods import METHODS, params_from_json
from btx_tui.exchange.ws.connection import Connection
from btx_tui.exchange.ws.user_data import UserDataHub

__all__ = ["ApiSession", "LogonVerifier", "hmac_logon"]

#: (accounts, apiKey, params, now_ms) -> the verified key, or raise ApiError.
LogonVerifier = Callable[[Any, bytes | None, Params, int], Any]


def hmac_logon(accounts: Any, api_key: bytes | None, params: Params, now_ms: int) -> Any:
    """Logon with any registered key: exactly the REST signature and timestamp checks."""
    return authenticate(accounts, api_key, params, "READ", now_ms)


def _bad_request(msg: str) -> ApiError:
    return ApiError(400, -1135, msg)


class ApiSession:
    """One WebSocket API connection: its logon, its user-data subscriptions."""

    def __init__(self, conn: Connection, exchange: Exchange, limiter: RateLimiter,
                 routes: dict[str, dict[str, Endpoint]], user_data: UserDataHub, ip: str,
                 clock: Callable[[], int], verifier: LogonVerifier = hmac_logon) -> None:
        self._conn = conn
        self._ex = exchange
        self._limiter = limiter
        self._routes = routes
        self._user_data = user_data
        self._ip = ip
        self._clock = clock
        self._verifier = verifier
        self._key: Any = None
        self._logon_time: int | None = None
        self._subscriptions: dict[int, tuple[int, Callable[[dict], None]]] = {}
        self._next_subscription = 0

    # ---- the request loop calls these ---------------------------------------------------
    def handle_text(self, text: str) -> None:
        request_id: Any = None
        now = self._clock()
        try:
            try:
                request = json.loads(text)
            except ValueError:
                raise _bad_request("Malformed request: not valid JSON.") from None
            if not isinstance(request, dict):
                raise _bad_request("Malformed request: expected a JSON object.")
            request_id = request.get("id")
            if request_id is not None and not isinstance(request_id, (str, int)) or isinstance(request_id, bool):
                request_id = None
                raise _bad_request("Invalid 'id' in JSON request; expected a string or an integer.")
            method = request.get("method")
            if not isinstance(method, str):
                raise _bad_request("Invalid 'method' in JSON request; expected a string.")
            raw = request.get("params")
            status, result, order_account = self._dispatch(method, raw, now)
            answer = {"id": request_id, "status": status, "result": result}
            if not (isinstance(raw, dict) and raw.get("returnRateLimits") in (False, "false")):
                answer["rateLimits"] = self._rate_limits(now, order_account)
            self._answer(answer)
        except ApiError as error:
            self._answer({"id": request_id, "status": error.http_status,
                          "error": {"code": error.code, "msg": error.msg},
                          "rateLimits": self._rate_limits(now, None)})

    def close(self) -> None:
        for account_id, listener in self._subscriptions.values():
            self._user_data.remove(account_id, listener)
        self._subscriptions.clear()

    # ---- dispatch -----------------------------------------------------------------------
    def _dispatch(self, method: str, raw: Any, now: int) -> tuple[int, Any, int | None]:
        """Run one request: (status, result, the account whose order counts to report)."""
        self._limiter.check_ban(self._ip, now)
        params, api_key = params_from_json(raw)
        local = _LOCAL.get(method)
        if local is not None:
            weight, run = local
            self._limiter.charge(self._ip, weight, now)
            return 200, run(self, params, api_key, now), None
        target = METHODS.get(method)
        endpoint = self._routes.get(target[1], {}).get(target[0]) if target else None
        if endpoint is None:
            self._limiter.charge(self._ip, 1, now)
            raise ApiError(400, -1000, f"Unknown method '{method[:40]}'.")
        self._limiter.charge(self._ip, endpoint.weight(params), now)
        key = None
        if endpoint.security != NONE:
            key = self._authenticate(params, api_key, PERMISSION[endpoint.security], now)
        ctx = Context(self._ex, params, key, now, self._limiter)
        if endpoint.places_order:
            self._limiter.check_order(key.account_id, now)
            result = endpoint.handler(ctx)
            self._limiter.add_order(key.account_id, now)
            return 200, result, key.account_id
        return 200, endpoint.handler(ctx), None

    def _authenticate(self, params: Params, api_key: str | None, permission: str, now: int) -> Any:
        if params.signature is None and api_key is None and self._key is not None:
            check_timing(params, now)
            if permission not in self._key.permissions:
                raise ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
            return self._key
        header = api_key.encode("utf-8") if api_key is not None else None
        return authenticate(self._ex.accounts, header, params, permission, now)

    def _rate_limits(self, now: int, order_account: int | None) -> list[dict[str, Any]]:
        limits = self._limiter.limits
        out = []
        if order_account is not None:
            count10, count_day = self._limiter.order_counts(order_account, now)
            out += [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                     "limit": limits.orders_per_10s, "count": count10},
                    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
                     "limit": limits.orders_per_day, "count": count_day}]
        weight = limits.rate_limits()[0]
        out.append({**weight, "count": self._limiter.used_weight(self._ip, now)})
        return out

    def _answer(self, doc: dict[str, Any]) -> None:
        self._conn.send_json(doc)

    # ---- session and user-data methods --------------------------------------------------
    def _logon(self, params: Params, api_key: str | None, now: int) -> Any:
        header = api_key.encode("utf-8") if api_key is not None else None
        self._key = self._verifier(self._ex.accounts, header, params, now)
        self._logon_time = now
        return self._status(params, api_key, now)

    def _status(self, params: Params, api_key: str | None, now: int) -> Any:
        return {"apiKey": self._key.api_key if self._key is not None else None,
                "authorizedSince": self._logon_time, "connectedSince": None,
                "returnRateLimits": True, "serverTime": now,
                "userDataStream": bool(self._subscriptions)}

    def _logout(self, params: Params, api_key: str | None, now: int) -> Any:
        self._key = None
        self._logon_time = None
        return self._status(params, api_key, now)

    def _subscribe_signature(self, params: Params, api_key: str | None, now: int) -> Any:
        key = self._authenticate(params, api_key, "READ", now) if params.signature or api_key \
            else self._require_session()
        return self._subscribe_account(key.account_id)

    def _subscribe_session(self, params: Params, api_key: str | None, now: int) -> Any:
        return self._subscribe_account(self._require_session().account_id)

    def _require_session(self) -> Any:
        if self._key is None:
            raise ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        return self._key

    def _subscribe_account(self, account_id: int) -> dict[str, int]:
        subscription_id = self._next_subscription
        self._next_subscription += 1

        def listener(event: dict, sid: int = subscription_id) -> None:
            self._conn.send_json({"subscriptionId": sid, "event": event})

        self._subscriptions[subscription_id] = (account_id, listener)
        self._user_data.add(account_id, listener)
        return {"subscriptionId": subscription_id}

    def _unsubscribe(self, params: Params, api_key: str | None, now: int) -> Any:
        wanted = params.integer("subscriptionId")
        ids = [wanted] if wanted is not None else list(self._subscriptions)
        if wanted is not None and wanted not in self._subscriptions:
            raise ApiError(400, -2016, "No subscription with this id.")
        for sid in ids:
            account_id, listener = self._subscriptions.pop(sid)
            self._user_data.remove(account_id, listener)
            self._conn.send_json({"subscriptionId": sid,
                                  "event": {"e": "eventStreamTerminated", "E": now}})
        return {}

    def _list_subscriptions(self, params: Params, api_key: str | None, now: int) -> Any:
        return [{"subscriptionId": sid} for sid in self._subscriptions]


_LOCAL: dict[str, tuple[int, Callable[[ApiSession, Params, str | None, int], Any]]] = {
    "session.logon": (2, ApiSession._logon),
    "session.status": (2, ApiSession._status),
    "session.logout": (2, ApiSession._logout),
    "userDataStream.subscribe.signature": (2, ApiSession._subscribe_signature),
    "userDataStream.subscribe": (2, ApiSession._subscribe_session),
    "userDataStream.unsubscribe": (2, ApiSession._unsubscribe),
    "session.subscriptions": (2, ApiSession._list_subscriptions),
}
