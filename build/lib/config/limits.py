"""Rate limits in the shared cache (Redis in production, so every process
agrees; the local-memory cache in `make run`).

Each limit is a fixed window counted with an atomic `incr`. Limits are named in
settings.RATE_LIMITS ("count/seconds"), so operators tune them without code.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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


def limit_retry_after(name: str, key: str, *, cost: int = 1) -> int | None:
    """Count one hit of `name` for `key`; None if allowed, else seconds to wait."""
    rate = rate_for(name)
    now = int(time.time())
    window = now - now % rate.seconds
    cache_key = f"limit:{name}:{key}:{window}"
    cache = caches[settings.RATE_LIMIT_CACHE]
    # add() is atomic: the first hit creates the window, the rest increment it.
    if cache.add(cache_key, cost, timeout=rate.seconds + 1):
        hits = cost
    else:
        try:
            hits = cache.incr(cache_key, cost)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, cost, timeout=rate.seconds + 1)
            hits = cost
    if hits <= rate.count:
        return None
    return max(1, window + rate.seconds - now)


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


def enforce_limit(name: str, key: str, *, cost: int = 1) -> None:
    """Raise RateLimited when `key` has used up limit `name`."""
    retry_after = limit_retry_after(name, key, cost=cost)
    if retry_after is not None:
        raise RateLimited(retry_after)
