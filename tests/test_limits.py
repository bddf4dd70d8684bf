"""Client IP from trusted proxies only, and limits counted in the shared cache."""

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import override_settings
from django.utils import translation

from config.client_ip import client_ip_from_scope, ip_bucket, resolve_client_ip
from config.limits import RateLimited, enforce_limit, limit_retry_after


def test_forwarded_for_is_ignored_without_a_trusted_proxy():
    with override_settings(TRUSTED_PROXIES=[]):
        assert resolve_client_ip("203.0.113.9", "198.51.100.1") == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_the_first_untrusted_hop_from_the_right_is_the_client():
    # The client forged the left-most entry; the proxy appended the real peer.
    assert resolve_client_ip("10.0.0.2", "1.1.1.1, 198.51.100.7, 10.0.0.3") == "198.51.100.7"
    assert resolve_client_ip("203.0.113.9", "198.51.100.7") == "203.0.113.9"
    assert resolve_client_ip("10.0.0.2", "not-an-ip") == "10.0.0.2"


@override_settings(TRUSTED_PROXIES=["127.0.0.1/32"])
def test_a_unix_socket_peer_counts_as_the_trusted_proxy():
    scope = {"client": None, "headers": [(b"x-forwarded-for", b"198.51.100.7")]}
    assert client_ip_from_scope(scope) == "198.51.100.7"


def test_ipv6_clients_are_limited_per_64():
    assert ip_bucket("2001:db8:1:2:aaaa::1") == ip_bucket("2001:db8:1:2:bbbb::9")
    assert ip_bucket("2001:db8:1:2:aaaa::1") != ip_bucket("2001:db8:1:3::1")
    assert ip_bucket("::ffff:198.51.100.7") == "198.51.100.7"


@override_settings(RATE_LIMITS={"test.limit": "3/60"})
def test_a_limit_refuses_past_its_count_with_a_retry_after():
    assert [limit_retry_after("test.limit", "k") for _ in range(3)] == [None] * 3
    retry_after = limit_retry_after("test.limit", "k")
    assert retry_after is not None and 1 <= retry_after <= 60
    assert limit_retry_after("test.limit", "other") is None
    with pytest.raises(RateLimited) as refused:
        enforce_limit("test.limit", "k")
    assert refused.value.code == "rate_limited" and refused.value.retry_after >= 1


def test_limits_live_in_redis_whenever_redis_is_configured(settings):
    expected = "RedisCache" if settings.REDIS_URL else "LocMemCache"
    assert type(caches[settings.RATE_LIMIT_CACHE]).__name__ == expected


@pytest.mark.django_db
def test_an_expert_at_the_catalog_limit_is_told_what_they_did(client, make_expert, settings):
    """A signed-in expert searching fast hears about their searches, not about a network."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "expert.catalog": "2/60"}
    client.force_login(make_expert().user)
    for _ in range(2):
        assert client.get("/console/catalog/search/", {"q": "stride"}).status_code == 200
    refused = client.get("/console/catalog/search/", {"q": "stride"})
    assert refused.status_code == 429
    message = refused.json()["error"]["message"]
    assert message.startswith("You searched the catalog many times in a short time. Try again in")


PERSONAL_LIMITS = [
    name
    for name in django_settings.RATE_LIMITS
    if name.split(".")[0] in {"expert", "staff", "visitor"}
]


@pytest.mark.parametrize("name", PERSONAL_LIMITS)
def test_every_limit_counted_per_person_speaks_to_that_person(name, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, name: "1/60"}
    enforce_limit(name, "person-1")
    with pytest.raises(RateLimited) as refused:
        enforce_limit(name, "person-1")
    assert refused.value.message.startswith("You ")
    assert "network" not in refused.value.message
    with translation.override("nl"), pytest.raises(RateLimited) as refused_in_dutch:
        enforce_limit(name, "person-1")
    assert refused_in_dutch.value.message.startswith("Je ")
