"""Rate limits in the shared cache (Redis in production, so every process
agrees; the local-memory cache in `make run`).

Each limit is a fixed window counted with an atomic `incr`. Limits are named in
settings.RATE_LIMITS ("count/seconds"), so operators tune them without code.
"""

import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from redis import Redis

from config.errors import ServiceError


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        count, seconds = text.split("/")
        return cls(int(count), int(seconds))


def rate_for(name: str) -> Rate:
    return Rate.parse(settings.RATE_LIMITS[name])


@cache
def shared_cache() -> BaseCache:
    """One client of the limits' cache for every thread and task of the process.
    `caches[...]` is per asyncio context, so each socket got a client of its own, and
    with it a new connection to Redis: a connect and a handshake for every widget that
    opened (docs/performance.md, "Handshakes"). The client's pool is thread-safe."""
    return caches.create_connection(settings.RATE_LIMIT_CACHE)


@cache
def _redis_client() -> Redis | None:
    """One client of the limits' Redis, if they are kept there, for the process (its
    pool is thread-safe): Django's cache builds a client for every call."""
    store = shared_cache()
    return store._cache.get_client(write=True) if isinstance(store, RedisCache) else None


def _add_hits(cache_key: str, *, cost: int, lasts: int) -> int:
    """Add `cost` to the window's count, created to last `lasts` seconds; the new count."""
    store, client = shared_cache(), _redis_client()
    if client is not None:
        # One atomic round trip; through the cache API a hit took up to three.
        key = store.make_and_validate_key(cache_key)
        counting = client.pipeline().set(key, 0, ex=lasts, nx=True).incrby(key, cost)
        _created, hits = counting.execute()
        return hits
    # add() is atomic: the first hit creates the window, the rest increment it.
    if store.add(cache_key, cost, timeout=lasts):
        return cost
    try:
        return store.incr(cache_key, cost)
    except ValueError:  # expired between add and incr
        store.add(cache_key, cost, timeout=lasts)
        return cost


def limit_retry_after(name: str, key: str, *, cost: int = 1) -> int | None:
    """Count one hit of `name` for `key`; None if allowed, else seconds to wait."""
    return _count_hit(name, key, cost=cost)[1]


def _count_hit(name: str, key: str, *, cost: int) -> tuple[str, int | None]:
    """The window's cache key, and None if allowed, else seconds to wait."""
    rate = rate_for(name)
    now = int(time.time())
    window = now - now % rate.seconds
    cache_key = f"limit:{name}:{key}:{window}"
    hits = _add_hits(cache_key, cost=cost, lasts=rate.seconds + 1)
    if hits <= rate.count:
        return cache_key, None
    return cache_key, max(1, window + rate.seconds - now)


def wait_text(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = -(-seconds // 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class RateLimited(ServiceError):
    """Refusal with the seconds after which trying again can succeed."""

    def __init__(self, retry_after: int, message: str = "") -> None:
        super().__init__(
            "rate_limited",
            message
            or _("Too many attempts from your network. Try again in %(wait)s.")
            % {"wait": wait_text(retry_after)},
        )
        self.retry_after = retry_after


# Limits counted per person (an expert, a staff member, a visitor) tell that person
# what they did; "from your network" (the default) would blame the wrong thing.
_PHOTOS = gettext_lazy("You sent many photos in a short time. Try again in %(wait)s.")
PERSONAL_REFUSALS = {
    "expert.catalog": gettext_lazy(
        "You searched the catalog many times in a short time. Try again in %(wait)s."
    ),
    "expert.followup": gettext_lazy(
        "You sent many follow-ups in a short time. Try again in %(wait)s."
    ),
    "expert.replies": gettext_lazy(
        "You changed your replies many times in a short while. Try again in %(wait)s."
    ),
    "expert.photo": _PHOTOS,
    "staff.photo": _PHOTOS,
    "visitor.photo": _PHOTOS,
}


def enforce_limit(name: str, key: str, *, cost: int = 1) -> str:
    """Raise RateLimited when `key` has used up limit `name`. Returns the window's
    cache key, for `limit_give_back`."""
    cache_key, retry_after = _count_hit(name, key, cost=cost)
    if retry_after is not None:
        wording = PERSONAL_REFUSALS.get(name)
        message = wording % {"wait": wait_text(retry_after)} if wording else ""
        raise RateLimited(retry_after, message)
    return cache_key


def limit_give_back(cache_key: str, *, cost: int = 1) -> None:
    """Undo an allowed `enforce_limit` for an attempt that turned out to change
    nothing: counted first, a flood is refused before it costs the database anything."""
    try:
        shared_cache().decr(cache_key, cost)
    except ValueError:  # the window is over: nothing left to give back
        pass
