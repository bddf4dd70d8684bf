"""Login behind a proxy and under attack: limits key on the real client address,
and a locked-out owner still gets in with an emailed code."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

pytestmark = [pytest.mark.django_db]

LOCKED = b"Too many failed login attempts"


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user(
        username="anna@example.com", email="anna@example.com", password="right-horse-battery"
    )


def login(client, email: str, password: str, **meta):
    return client.post("/accounts/login/", {"login": email, "password": password}, **meta)


def test_login_works_behind_daphne_on_a_unix_socket(client, settings, owner):
    """Before: no REMOTE_ADDR (daphne -u) gave 403 'Unable to determine client IP'."""
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    answer = login(
        client,
        "anna@example.com",
        "right-horse-battery",
        REMOTE_ADDR="",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert answer.status_code == 302


def test_a_varied_forwarded_for_does_not_reset_the_ip_limit(client, settings, owner):
    settings.TRUSTED_PROXIES = []
    locked = [
        LOCKED
        in login(
            client, f"nobody{n}@example.com", "guess", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        ).content
        for n in range(12)
    ]
    assert locked == [False] * 10 + [True] * 2


def test_a_locked_out_owner_gets_in_with_an_emailed_code(client, owner):
    for _ in range(5):
        login(client, "anna@example.com", "wrong")
    assert LOCKED in login(client, "anna@example.com", "right-horse-battery").content

    asked = client.post("/accounts/login/code/", {"email": "anna@example.com"})
    assert asked.status_code == 302
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[-1].body, re.M)[1]
    confirmed = client.post(asked["Location"], {"code": code})
    assert confirmed.status_code == 302
    assert client.get("/").wsgi_request.user == owner


def test_signing_in_leaves_no_banner_over_the_console(client, owner):
    """Before: "Successfully signed in as …" sat above the console's panes for good."""
    from community.models import Expert

    Expert.objects.create(user=owner, display_name="Anna")
    answer = login(client, "anna@example.com", "right-horse-battery")
    page = client.get(answer.url).content.decode() + client.get("/console/").content.decode()
    assert "Successfully signed in" not in page and 'class="flash' not in page
