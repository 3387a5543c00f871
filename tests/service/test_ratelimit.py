"""Token buckets: in-process, on Redis (shared by API processes), and the fallback
when Redis cannot be reached."""

from __future__ import annotations

import uuid

from personacast.service.ratelimit import LocalRateLimiter, RedisRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_local_bucket_refills_at_its_rate():
    clock = Clock()
    limiter = LocalRateLimiter(rate_per_s=2.0, burst=3, clock=clock)
    assert [limiter.take("k").allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.take("k").retry_after_s == 0.5
    assert limiter.take("other").allowed
    clock.now += 0.5
    assert limiter.take("k").allowed and not limiter.take("k").allowed
    clock.now += 100
    assert [limiter.take("k").allowed for _ in range(4)] == [True, True, True, False]  # never above the burst


def test_redis_bucket_is_shared_between_limiters(redis_url):
    key = uuid.uuid4().hex
    first = RedisRateLimiter.from_url(redis_url, rate_per_s=0.5, burst=2)
    second = RedisRateLimiter.from_url(redis_url, rate_per_s=0.5, burst=2)
    assert first.take(key).allowed and second.take(key).allowed
    refused = first.take(key)
    assert not refused.allowed and 0 < refused.retry_after_s <= 2.0
    assert not second.take(key).allowed


def test_unreachable_redis_falls_back_to_this_process():
    limiter = RedisRateLimiter.from_url("redis://127.0.0.1:1/0", rate_per_s=1.0, burst=1)
    assert limiter.take("k").allowed and not limiter.take("k").allowed
