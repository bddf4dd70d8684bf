"""Suspension: staff confirm it first; the expert is told they are suspended, since
when and whom to write to, live on their sockets and on every reload."""

import json
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from community.models import AuditEntry, Expert
from config.asgi import websocket_application
from tests.community.test_socket_sessions import PASSWORD, close_code, log_in, open_socket
from tests.conftest import create_staff

db = database_sync_to_async


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STAFF_CONTACT_EMAIL = ""


def suspend(client: Client, expert: Expert, **extra):
    return client.post(
        f"/staff/experts/{expert.pk}/action/",
        {"action": "suspend", "reason": "Rude to a customer", "next": "/staff/experts/", **extra},
    )


@pytest.mark.django_db
def test_staff_confirm_before_suspending(client, make_expert):
    """Before: one click on Suspend suspended at once."""
    expert = make_expert(name="Eva Visser")
    client.force_login(create_staff(username="lead", email="lead@test.example"))

    page = suspend(client, expert)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Suspend Eva Visser?" in html
    assert "Rude to a customer" in html and 'name="confirm" value="1"' in html
    assert 'href="/staff/experts/"' in html  # cancel goes back
    expert.refresh_from_db()
    assert not expert.is_suspended and expert.on_shift
    assert not AuditEntry.objects.exists()

    done = suspend(client, expert, confirm="1")
    assert done.status_code == 302
    expert.refresh_from_db()
    assert expert.is_suspended and not expert.on_shift


@pytest.mark.django_db
def test_a_suspension_without_a_reason_is_not_even_asked_about(client, make_expert):
    expert = make_expert()
    client.force_login(create_staff(username="lead"))
    response = client.post(
        f"/staff/experts/{expert.pk}/action/", {"action": "suspend", "reason": "  "}, follow=True
    )
    assert b"Give a reason for the suspension." in response.content
    assert b"suspend-confirm" not in response.content
    expert.refresh_from_db()
    assert not expert.is_suspended


@pytest.mark.django_db
def test_the_console_says_suspended_since_when_and_whom_to_ask(client, make_expert, settings):
    """Before: "this account has no active expert profile" after a reload."""
    expert = make_expert(name="Eva Visser")
    lead = create_staff(username="lead", email="lead@test.example")
    staff_client = Client()
    staff_client.force_login(lead)
    suspend(staff_client, expert, confirm="1")
    client.force_login(expert.user)

    page = client.get("/console/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "Your expert account is suspended" in html
    assert "no active expert profile" not in html
    since = Expert.objects.get(pk=expert.pk).suspended_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    assert f"Suspended since {since:%-d %B %Y, %H:%M} {since.tzname()}." in html
    assert 'href="mailto:lead@test.example"' in html

    settings.STAFF_CONTACT_EMAIL = "experts@brand.example"
    assert 'href="mailto:experts@brand.example"' in client.get("/console/").content.decode()


@pytest.mark.django_db(transaction=True)
async def test_the_sockets_say_suspended_before_closing_and_on_reconnect(make_expert):
    expert = await db(make_expert)(on_shift=True)
    await db(create_staff)(username="lead", email="lead@test.example", password=PASSWORD)
    console = await open_socket("/ws/console/", await db(log_in)(expert.user.email))
    desk = await db(log_in)("lead@test.example")
    await db(suspend)(desk, expert, confirm="1")

    frame = await next_frame(console, "suspended")
    assert frame["contact"] == "lead@test.example"
    suspended_at = (await db(Expert.objects.get)(pk=expert.pk)).suspended_at
    assert frame["since"] == suspended_at.isoformat()
    assert frame["since_text"].endswith(("CET", "CEST"))
    assert await close_code(console) == 4403

    # A reload's socket hears the same before its 4403.
    browser = await db(Client)()
    await db(browser.force_login)(expert.user)
    name = django_settings.SESSION_COOKIE_NAME
    cookie = f"{name}={browser.cookies[name].value}"
    again = WebsocketCommunicator(
        websocket_application(),
        "/ws/console/",
        headers=[(b"origin", b"http://testserver"), (b"cookie", cookie.encode())],
    )
    assert (await again.connect())[0]
    assert (await next_frame(again, "suspended"))["contact"] == "lead@test.example"
    assert await close_code(again) == 4403


async def next_frame(socket, kind: str) -> dict:
    while True:
        output = await socket.receive_output(timeout=3)
        assert output["type"] == "websocket.send", output
        frame = json.loads(output["text"])
        if frame["type"] == kind:
            return frame
