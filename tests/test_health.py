"""Health endpoints a load balancer polls: liveness touches nothing, readiness
asks every service the product needs."""

import pytest
from django.test import AsyncClient, override_settings

pytestmark = pytest.mark.django_db(transaction=True)


async def test_healthz_answers_without_asking_anything():
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_database_cache_and_layer_answer():
    response = await AsyncClient().get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "cache", "channel_layer"}
    assert all(result.startswith("ok") for result in body["checks"].values())


async def test_readyz_is_unavailable_when_the_cache_does_not_answer():
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    with override_settings(CACHES=unreachable):
        response = await AsyncClient().get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"].startswith("error")
    assert body["checks"]["database"].startswith("ok")
