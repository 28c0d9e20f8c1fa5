"""Request-weight and order-count limits (contract section 3).

* Weight is counted per client IP in fixed one-minute windows aligned to the minute (as
  the de-facto standard does), so ``X-MBX-USED-WEIGHT-1M`` resets at every minute boundary
  and ``Retry-After`` is the time left until the next boundary.  The window can be shortened
  (``weight_interval_s``, with the limit scaled to match) so a soak test can live through ten
  windows in one minute; ``exchangeInfo`` and the header name then say so.
* Orders are counted per account in fixed 10-second windows and UTC days; only accepted
  orders count.
* What a request weighs is its row in the contract's table (``btx_tui/contract/endpoints.py``),
  which the routes carry; a request to no endpoint weighs ``UNKNOWN_ENDPOINT_WEIGHT``.
* Over the weight limit -> 429 -1003 with ``Retry-After``.  Every further request during
  that Retry-After window is refused with 429 as well and counts as a strike; more than
  ``ban_grace`` strikes -> 418 -1003 "IP banned until <ms>" for ``ban_base_ms`` (2 min),
  doubling with each repeated ban.  The grace exists because a well-behaved client may
  have a few requests in flight when its first 429 arrives.
* Over an order limit -> 429 -1015 with ``Retry-After`` (no ban: orders are per account).

All times come from an injectable millisecond clock passed per call, so tests need no
sleeping.  Limits are a frozen dataclass so the app factory can take small ones.  Counters
(:class:`LimitStats`) record every refusal, so a soak can prove a client never earned one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from btx_tui.contract.endpoints import UNKNOWN_ENDPOINT_WEIGHT
from btx_tui.contract.rate_limits import used_weight_header, weight_interval
from btx_tui.exchange.errors import ApiError

TEN_SECONDS_MS = 10_000
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Limits:
    """Configurable limits; the defaults are the contract's."""

    weight_per_minute: int = 6000
    """The REQUEST_WEIGHT limit of one weight window (named for the contract's one minute)."""
    weight_interval_s: int = 60
    """Length of the weight window; only a compressed-time soak changes it."""
    orders_per_10s: int = 50
    orders_per_day: int = 160_000
    ban_base_ms: int = 120_000
    ban_grace: int = 10
    """Requests refused during a Retry-After window before the IP is banned."""
    max_body_bytes: int = 65_536
    """Larger bodies are refused with 403 before being read."""
    max_query_bytes: int = 16_384
    """Larger query strings are refused with 403 (a 100-symbol list needs ~2.5 KiB)."""

    def __post_init__(self) -> None:
        if self.weight_interval_s < 1 or self.weight_per_minute < 1:
            raise ValueError("the weight window and limit must be positive")

    @property
    def weight_window_ms(self) -> int:
        return self.weight_interval_s * 1000

    @property
    def weight_header(self) -> bytes:
        """Name of the used-weight response header (``x-mbx-used-weight-1m`` by default)."""
        return used_weight_header(self.weight_interval_s).encode("ascii")

    def weight_window_text(self) -> str:
        """``"1 MINUTE"``: the window as error messages spell it."""
        interval, num = weight_interval(self.weight_interval_s)
        return f"{num} {interval}"

    def rate_limits(self) -> list[dict]:
        """The ``exchangeInfo.rateLimits`` entries describing these limits."""
        interval, num = weight_interval(self.weight_interval_s)
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": interval, "intervalNum": num,
             "limit": self.weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
             "limit": self.orders_per_10s},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
             "limit": self.orders_per_day},
        ]


def _retry_after_s(until_ms: int, now_ms: int) -> str:
    return str(max(1, -(-(until_ms - now_ms) // 1000)))


@dataclass(slots=True)
class _IpState:
    window: int = -1            # minute index of ``used``
    used: int = 0
    retry_until: int = 0        # end of the current Retry-After window (ms)
    strikes: int = 0            # requests refused during that window
    banned_until: int = 0
    bans: int = 0               # bans so far (duration doubles each time)


@dataclass(slots=True)
class _AccountState:
    window10: int = -1
    count10: int = 0
    day: int = -1
    count_day: int = 0


@dataclass(slots=True)
class LimitStats:
    """What the limiter refused since start (all IPs): a well-behaved client earns none."""

    over_limit: int = 0
    """429s for going over the weight limit."""
    strikes: int = 0
    """Requests that arrived during a Retry-After window (each refused with 429)."""
    bans: int = 0
    """418 bans imposed."""
    refused_banned: int = 0
    """Requests refused with 418 during a ban."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True)
class RateLimiter:
    """In-memory limiter state for one server process."""

    limits: Limits = field(default_factory=Limits)
    stats: LimitStats = field(default_factory=LimitStats)
    _ips: dict[str, _IpState] = field(default_factory=dict)
    _accounts: dict[int, _AccountState] = field(default_factory=dict)

    # ---- weight ------------------------------------------------------------------------
    def _ip(self, ip: str, now_ms: int) -> _IpState:
        state = self._ips.get(ip)
        if state is None:
            if len(self._ips) > 10_000:
                self._prune(now_ms)
            state = self._ips[ip] = _IpState()
        window = now_ms // self.limits.weight_window_ms
        if state.window != window:
            state.window = window
            state.used = 0
        return state

    def _prune(self, now_ms: int) -> None:
        window = now_ms // self.limits.weight_window_ms
        for ip in [ip for ip, s in self._ips.items()
                   if s.window != window and s.banned_until <= now_ms and s.bans == 0]:
            del self._ips[ip]

    def check_ban(self, ip: str, now_ms: int) -> None:
        """418 while the IP is banned (no weight is counted for refused requests)."""
        state = self._ips.get(ip)
        if state is not None and state.banned_until > now_ms:
            self.stats.refused_banned += 1
            raise self._banned(state, now_ms)

    def _banned(self, state: _IpState, now_ms: int) -> ApiError:
        return ApiError(
            418, -1003,
            f"Way too much request weight used; IP banned until {state.banned_until}.",
            {"Retry-After": _retry_after_s(state.banned_until, now_ms)},
        )

    def charge(self, ip: str, weight: int, now_ms: int) -> None:
        """Count ``weight`` for ``ip`` or raise 429/418."""
        state = self._ip(ip, now_ms)
        limits = self.limits
        if state.retry_until > now_ms:
            # The client was told to wait and did not.
            state.strikes += 1
            self.stats.strikes += 1
            if state.strikes > limits.ban_grace:
                state.banned_until = now_ms + limits.ban_base_ms * (2 ** min(state.bans, 20))
                state.bans += 1
                self.stats.bans += 1
                state.retry_until = 0
                state.strikes = 0
                raise self._banned(state, now_ms)
            raise self._too_much(state, now_ms)
        if state.used + weight > limits.weight_per_minute:
            window_ms = limits.weight_window_ms
            state.retry_until = (now_ms // window_ms + 1) * window_ms
            state.strikes = 0
            self.stats.over_limit += 1
            raise self._too_much(state, now_ms)
        state.used += weight

    def charge_unknown(self, ip: str, now_ms: int) -> None:
        """Count a request to no endpoint (404, 405) at the weight the contract's table gives it."""
        self.charge(ip, UNKNOWN_ENDPOINT_WEIGHT, now_ms)

    def impose_retry(self, ip: str, now_ms: int, seconds: float) -> None:
        """Open a Retry-After window as a 429 does (used by an injected 429 fault), so a
        client that ignores it collects strikes and, past the grace, a ban."""
        state = self._ip(ip, now_ms)
        state.retry_until = max(state.retry_until, now_ms + int(seconds * 1000))
        state.strikes = 0

    def _too_much(self, state: _IpState, now_ms: int) -> ApiError:
        return ApiError(
            429, -1003,
            f"Too much request weight used; current limit is {self.limits.weight_per_minute} "
            f"request weight per {self.limits.weight_window_text()}.",
            {"Retry-After": _retry_after_s(state.retry_until, now_ms)},
        )

    def used_weight(self, ip: str, now_ms: int) -> int:
        state = self._ips.get(ip)
        if state is None or state.window != now_ms // self.limits.weight_window_ms:
            return 0
        return state.used

    # ---- orders ------------------------------------------------------------------------
    def _account(self, account_id: int, now_ms: int) -> _AccountState:
        state = self._accounts.get(account_id)
        if state is None:
            state = self._accounts[account_id] = _AccountState()
        window10 = now_ms // TEN_SECONDS_MS
        if state.window10 != window10:
            state.window10 = window10
            state.count10 = 0
        day = now_ms // DAY_MS
        if state.day != day:
            state.day = day
            state.count_day = 0
        return state

    def check_order(self, account_id: int, now_ms: int) -> None:
        """429 -1015 if one more order would exceed a limit."""
        state = self._account(account_id, now_ms)
        limits = self.limits
        if state.count10 >= limits.orders_per_10s:
            raise ApiError(
                429, -1015,
                f"Too many new orders; current limit is {limits.orders_per_10s} orders per 10 SECOND.",
                {"Retry-After": _retry_after_s((state.window10 + 1) * TEN_SECONDS_MS, now_ms)},
            )
        if state.count_day >= limits.orders_per_day:
            raise ApiError(
                429, -1015,
                f"Too many new orders; current limit is {limits.orders_per_day} orders per 1 DAY.",
                {"Retry-After": _retry_after_s((state.day + 1) * DAY_MS, now_ms)},
            )

    def add_order(self, account_id: int, now_ms: int) -> tuple[int, int]:
        """Count one accepted order; return the (10 s, day) counts after it."""
        state = self._account(account_id, now_ms)
        state.count10 += 1
        state.count_day += 1
        return state.count10, state.count_day

    def order_counts(self, account_id: int, now_ms: int) -> tuple[int, int]:
        state = self._account(account_id, now_ms)
        return state.count10, state.count_day
