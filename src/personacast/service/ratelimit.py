"""Per-key rate limits: a token bucket of ``burst`` requests refilled at ``rate_per_s``.

``RedisRateLimiter`` shares buckets between API processes (one Lua script, so a
take is atomic); ``LocalRateLimiter`` keeps them in this process (embedded mode, or
while Redis cannot be reached: limits then hold per process instead of failing every
request).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

_MAX_LOCAL_BUCKETS = 100_000  # least recently used buckets are dropped past this


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: float  # when the next request would be allowed (0 if allowed now)


class RateLimiter(Protocol):
    def take(self, key: str) -> Decision: ...


class LocalRateLimiter:
    def __init__(self, rate_per_s: float, burst: int, clock: Any = time.monotonic) -> None:
        self.rate_per_s, self.burst, self._clock = rate_per_s, burst, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > _MAX_LOCAL_BUCKETS:
                self._buckets.popitem(last=False)
        return Decision(allowed, 0.0 if allowed else (1.0 - tokens) / self.rate_per_s)


# KEYS[1] bucket; ARGV: rate per ms, burst, now (ms). Returns {allowed, ms to wait}.
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
if allowed == 1 then return {1, 0} end
return {0, math.ceil((1 - tokens) / rate)}
"""


class RedisRateLimiter:
    def __init__(self, client: Any, rate_per_s: float, burst: int, fallback: LocalRateLimiter) -> None:
        self._client, self.rate_per_s, self.burst, self._fallback = client, rate_per_s, burst, fallback
        self._script = client.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str, rate_per_s: float, burst: int) -> RedisRateLimiter:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return cls(client, rate_per_s, burst, LocalRateLimiter(rate_per_s, burst))

    def take(self, key: str) -> Decision:
        import redis

        try:
            allowed, wait_ms = self._script(keys=[f"personacast:ratelimit:{key}"],
                                            args=[self.rate_per_s / 1000.0, self.burst, math.floor(time.time() * 1000)])
        except redis.RedisError as exc:
            log.warning("rate limiter: Redis unavailable (%s); limiting in this process", type(exc).__name__)
            return self._fallback.take(key)
        return Decision(bool(allowed), int(wait_ms) / 1000.0)
