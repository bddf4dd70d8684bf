"""Liveness and readiness for load balancers and orchestrators.

`/healthz` answers while the process can serve at all and touches nothing.
`/readyz` asks the database, the cache and the channel layer, each within
READY_TIMEOUT_SECONDS, side by side; one that does not answer makes it 503.
"""

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

READY_TIMEOUT_SECONDS = 2.0


def _database() -> None:
    # Runs on a pool thread: its connection is closed, not left behind per thread.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def _cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, 1, timeout=5)
    if cache.get(key) != 1:
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


async def _channel_layer() -> None:
    # A publish to a group nobody joins: Redis must answer, and nothing is kept.
    await get_channel_layer().group_send("readyz", {"type": "readyz"})


async def _timed(check) -> str:
    started = time.monotonic()
    try:
        if asyncio.iscoroutinefunction(check):
            await asyncio.wait_for(check(), READY_TIMEOUT_SECONDS)
        else:
            # Not the request's thread: a hanging connect must not hold up the answer.
            await asyncio.wait_for(
                sync_to_async(check, thread_sensitive=False)(), READY_TIMEOUT_SECONDS
            )
    except TimeoutError:
        return "timeout"
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return f"error: {type(error).__name__}"
    return f"ok ({(time.monotonic() - started) * 1000:.0f} ms)"


@never_cache
@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
async def readyz(request: HttpRequest) -> JsonResponse:
    names = ("database", "cache", "channel_layer")
    results = await asyncio.gather(*(_timed(c) for c in (_database, _cache, _channel_layer)))
    checks = dict(zip(names, results, strict=True))
    ready = all(result.startswith("ok") for result in results)
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
