"""Per-end-user rate limits on model turns and widget actions (RATE_LIMIT_TURNS_PER_MINUTE).

A sliding window: a user may start at most N turns or widget actions, together, in any 60 seconds.
The window lives in this process, or in Redis (REDIS_URL) where every replica shares it: one sorted
set per user, updated by one Lua script, so two replicas can never both take the last slot. When
Redis does not answer, requests are counted in this process instead (fail open, never a 500 and
never a wait longer than the short Redis timeouts), with a WARNING at most once a minute.

Keys are `chatkit:ratelimit:<sha256 of the user id>` and expire a window after the user's last
counted request; the user id itself never reaches Redis or the logs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from chatkit.types import ChatKitReq
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from backend.metrics import RATE_LIMIT_REFUSALS
from backend.settings import BackendSettings

logger = logging.getLogger(__name__)

Kind = Literal["turn", "action"]
# The ChatKit requests that start a model turn or run a widget action; reads are never limited.
LIMITED: dict[str, Kind] = {
    "threads.create": "turn",
    "threads.add_user_message": "turn",
    "threads.retry_after_item": "turn",
    "threads.add_client_tool_output": "turn",
    "threads.add_structured_input": "turn",  # answers a model's question, then the model goes on
    "threads.custom_action": "action",
    "threads.sync_custom_action": "action",
}
WINDOW_SECONDS = 60.0
KEY_PREFIX = "chatkit:ratelimit:"
REDIS_TIMEOUT_SECONDS = 0.5  # connect and each read: Redis is local to the replicas, or it is down
REDIS_PAUSE_SECONDS = 5.0  # after Redis failed, count in this process this long before asking again
WARN_EVERY_SECONDS = 60.0

# KEYS[1]: the user's sorted set of admitted requests (score: Redis server time, microseconds).
# ARGV: limit, window in microseconds, a unique member. Returns -1 when admitted, else the
# microseconds until the oldest admitted request leaves the window.
SLIDING_WINDOW = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


def user_key(user_id: str, prefix: str = KEY_PREFIX) -> str:
    """The key a user's window is stored under: the prefix and the SHA-256 of the user id."""
    return prefix + hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()


def redis_location(url: str) -> str:
    """A Redis URL without its credentials, for logs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


class LocalWindow:
    """Sliding windows in this process: the times of each key's admitted requests."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit, self.window = limit, window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._next_sweep = -math.inf

    def hit(self, key: str, now: float) -> float | None:
        """Admit one request at `now` (None), or the seconds until one would be admitted."""
        self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            return None
        return hits[0] + self.window - now

    def __len__(self) -> int:
        return len(self._hits)

    def _sweep(self, now: float) -> None:
        """Once a window, forget the users with nothing left in theirs."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window
        for key in [key for key, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over the limit: the words for the caller and the Retry-After header."""

    message: str
    retry_after: int

    @property
    def headers(self) -> dict[str, str]:
        """The response headers of the 429."""
        return {"Retry-After": str(self.retry_after)}


class RateLimiter:
    """N turns and widget actions per user per window, in this process or shared through Redis."""

    def __init__(
        self,
        per_minute: int,
        *,
        redis_url: str | None = None,
        key_prefix: str = KEY_PREFIX,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute, self.window, self.key_prefix = per_minute, window_seconds, key_prefix
        self.clock = clock  # monotonic seconds: the in-process window and the Redis pause
        self.local = LocalWindow(per_minute, window_seconds)
        self.redis = (
            Redis.from_url(
                redis_url,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
            if redis_url and per_minute > 0
            else None
        )
        self.where = redis_location(redis_url) if redis_url else "this process"
        self._script = self.redis.register_script(SLIDING_WINDOW) if self.redis is not None else None
        self._redis_paused_until = -math.inf
        self._warned_at = -math.inf
        self._redis_failing = False

    @classmethod
    def from_settings(cls, settings: BackendSettings) -> RateLimiter:
        """The limiter RATE_LIMIT_TURNS_PER_MINUTE and REDIS_URL describe."""
        url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
        return cls(settings.rate_limit_turns_per_minute, redis_url=url)

    async def start(self) -> None:
        """Log what is limited and where it is counted; warn now (not at the first turn) when Redis
        does not answer."""
        if self.per_minute <= 0:
            logger.info("Rate limits are off (RATE_LIMIT_TURNS_PER_MINUTE=0).")
            return
        logger.info(
            "Rate limit: %d turns and widget actions per minute per user, counted in %s.",
            self.per_minute,
            self.where,
        )
        if self.redis is not None:
            try:
                async with asyncio.timeout(2 * REDIS_TIMEOUT_SECONDS):
                    await self.redis.ping()
            except (RedisError, OSError, TimeoutError) as exc:
                self._redis_failed(exc, self.clock())

    async def check(self, user_id: str, kind: Kind) -> float | None:
        """Count one `kind` request of `user_id`: None when it may go ahead, else the seconds until
        it may (the refusal is counted in chatkit_rate_limit_refusals_total; it takes no slot)."""
        if self.per_minute <= 0:
            return None
        key = user_key(user_id, self.key_prefix)
        now = self.clock()
        wait: float | None
        if self._script is not None and now >= self._redis_paused_until:
            try:
                wait = await self._redis_hit(key)
            except (RedisError, OSError, TimeoutError) as exc:
                self._redis_failed(exc, now)
                wait = self.local.hit(key, now)
        else:
            wait = self.local.hit(key, now)
        if wait is not None:
            RATE_LIMIT_REFUSALS.labels(kind=kind).inc()
        return wait

    async def refuse(self, request: ChatKitReq, user_id: str) -> Refusal | None:
        """The refusal of `request` when it is a turn or widget action over `user_id`'s limit."""
        kind = LIMITED.get(request.type)
        if kind is None:
            return None
        wait = await self.check(user_id, kind)
        if wait is None:
            return None
        seconds = max(1, math.ceil(wait))
        message = (
            f"Too many requests: at most {self.per_minute} messages and widget actions per minute. "
            f"Retry in {seconds} s."
        )
        return Refusal(message, seconds)

    async def aclose(self) -> None:
        """Close the Redis connections."""
        if self.redis is not None:
            await self.redis.aclose()

    async def _redis_hit(self, key: str) -> float | None:
        assert self._script is not None
        async with asyncio.timeout(2 * REDIS_TIMEOUT_SECONDS):  # connect + one round trip at most
            micros = int(
                await self._script(
                    keys=[key], args=[self.per_minute, int(self.window * 1_000_000), uuid.uuid4().hex]
                )
            )
        if self._redis_failing:
            self._redis_failing = False
            logger.info("Rate limits: Redis at %s answers again; counting there.", self.where)
        return None if micros < 0 else micros / 1_000_000

    def _redis_failed(self, exc: BaseException, now: float) -> None:
        self._redis_failing = True
        self._redis_paused_until = now + REDIS_PAUSE_SECONDS
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            logger.warning(
                "Rate limits: Redis at %s does not answer (%s); counting in this process instead "
                "(each replica allows the limit on its own) until it does.",
                self.where,
                type(exc).__name__,
            )
