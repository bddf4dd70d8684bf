"""Sockets end with the session or right they were opened with: logout, a password
change, deactivation, suspension and a lost staff right close them at once (4401 or
4403), and a socket that missed the close is refused at its next frame."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from community.models import Expert
from community.permissions import STAFF_GROUP
from realtime import broadcast
from tests.chat.test_consumers import receive_until
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-123456"
db = database_sync_to_async


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["testserver"]


def log_in(email: str, password: str = PASSWORD) -> Client:
    """A browser session, through the real login page."""
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content
    return client


async def open_socket(path: str, client: Client) -> WebsocketCommunicator:
    from config.asgi import websocket_application

    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    socket = WebsocketCommunicator(
        websocket_application(),
        path,
        headers=[(b"origin", b"http://testserver"), (b"cookie", cookie.encode())],
    )
    assert (await socket.connect())[0]
    await receive_until(socket, "welcome" if path == "/ws/console/" else "leaderboard")
    return socket


async def close_code(socket: WebsocketCommunicator) -> int:
    """The code the socket was closed with (frames sent before the close are skipped)."""
    while True:
        output = await socket.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return output["code"]


async def still_open(socket: WebsocketCommunicator) -> bool:
    """Nothing closed it (frames sent meanwhile are skipped)."""
    while not await socket.receive_nothing(timeout=0.3):
        if (await socket.receive_output())["type"] == "websocket.close":
            return False
    return True


async def is_on_shift(expert: Expert) -> bool:
    return (await db(Expert.objects.get)(pk=expert.pk)).on_shift


async def shift_start_is_refused(socket: WebsocketCommunicator, expert: Expert) -> bool:
    await socket.send_json_to({"type": "shift.start"})
    return await socket.receive_nothing(timeout=0.5) and not await is_on_shift(expert)


async def test_logout_closes_that_sessions_sockets_and_they_take_no_frame(make_expert):
    expert = await db(make_expert)(on_shift=False)
    browser = await db(log_in)(expert.user.email)
    phone = await db(log_in)(expert.user.email)
    console = await open_socket("/ws/console/", browser)
    page = await open_socket("/ws/expert/", browser)
    phone_console = await open_socket("/ws/console/", phone)

    await db(browser.post)("/accounts/logout/")

    assert await close_code(console) == 4401
    assert await close_code(page) == 4401
    assert await shift_start_is_refused(console, expert)
    # The phone's session did not end: its console goes on.
    await phone_console.send_json_to({"type": "ping"})
    assert (await receive_until(phone_console, "pong"))["type"] == "pong"
    for socket in (console, page, phone_console):
        await socket.disconnect()


async def test_a_password_change_closes_every_session_of_the_user(make_expert):
    expert = await db(make_expert)(on_shift=False)
    browser = await db(log_in)(expert.user.email)
    phone = await db(log_in)(expert.user.email)
    sockets = [
        await open_socket("/ws/console/", browser),
        await open_socket("/ws/console/", phone),
        await open_socket("/ws/expert/", phone),
    ]

    response = await db(browser.post)(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "new-pw-98765", "password2": "new-pw-98765"},
    )
    assert response.status_code == 302

    for socket in sockets:
        assert await close_code(socket) == 4401
    assert await shift_start_is_refused(sockets[1], expert)
    # The browser that changed it is still signed in and may connect again.
    again = await open_socket("/ws/console/", browser)
    await again.disconnect()
    for socket in sockets:
        await socket.disconnect()


async def test_suspension_closes_the_experts_sockets(make_expert):
    expert = await db(make_expert)(on_shift=False)
    staff = await db(create_staff)(username="lead", email="lead@test.example", password=PASSWORD)
    console = await open_socket("/ws/console/", await db(log_in)(expert.user.email))
    page = await open_socket("/ws/expert/", await db(log_in)(expert.user.email))
    desk = await db(log_in)(staff.email)

    response = await db(desk.post)(
        f"/staff/experts/{expert.pk}/action/",
        {"action": "suspend", "reason": "Complaints", "confirm": "1"},
    )
    assert response.status_code == 302

    assert await close_code(console) == 4403
    assert await close_code(page) == 4403
    assert await shift_start_is_refused(console, expert)
    await console.disconnect()
    await page.disconnect()


def _remove_from_staff_group(user) -> None:
    user.groups.remove(Group.objects.get(name=STAFF_GROUP))


def _clear_groups(user) -> None:
    Group.objects.get(name=STAFF_GROUP).user_set.clear()


def _take_right_from_group(user) -> None:
    Group.objects.get(name=STAFF_GROUP).permissions.remove(
        Permission.objects.get(codename="moderate_chats")
    )


def _not_staff(user) -> None:
    user.is_staff = False
    user.save()


def _deactivated(user) -> None:
    user.is_active = False
    user.save()


def _deleted(user) -> None:
    get_user_model().objects.filter(pk=user.pk).delete()


@pytest.mark.parametrize(
    "change, code",
    [
        (_remove_from_staff_group, 4403),
        (_clear_groups, 4403),
        (_take_right_from_group, 4403),
        (_not_staff, 4403),
        (_deactivated, 4401),
        (_deleted, 4401),
    ],
)
async def test_losing_a_staff_right_closes_the_staff_socket(change, code):
    staff = await db(create_staff)(username="lead", email="lead@test.example", password=PASSWORD)
    colleague = await db(create_staff)(username="co", email="co@test.example", password=PASSWORD)
    monitor = await open_socket("/ws/staff/", await db(log_in)(staff.email))
    other = await open_socket("/ws/staff/", await db(log_in)(colleague.email))

    await db(change)(staff)

    assert await close_code(monitor) == code
    await monitor.send_json_to({"type": "monitor.watch"})
    assert await monitor.receive_nothing(timeout=0.5)
    if change is not _take_right_from_group and change is not _clear_groups:
        await other.send_json_to({"type": "monitor.watch"})
        assert (await receive_until(other, "monitor"))["type"] == "monitor"
    await monitor.disconnect()
    await other.disconnect()


@pytest.mark.parametrize("path", ["/ws/console/", "/ws/expert/"])
@pytest.mark.parametrize(
    "change, code",
    [
        ("logout", 4401),
        ("password changed in another session", 4401),
        ("suspended without a signal", 4403),
        ("session expired", 4401),
        ("deactivated without a signal", 4401),
    ],
)
async def test_a_socket_that_missed_its_close_is_refused_at_the_next_frame(
    settings, monkeypatch, make_expert, path, change, code
):
    settings.SOCKET_AUTH_RECHECK_SECONDS = 0  # every frame checks
    monkeypatch.setattr(broadcast, "ring_user_sockets", lambda *a, **k: None, raising=False)
    expert = await db(make_expert)(on_shift=False)
    browser = await db(log_in)(expert.user.email)
    socket = await open_socket(path, browser)

    if change == "logout":
        await db(browser.post)("/accounts/logout/")
    elif change == "password changed in another session":
        await db((await db(log_in)(expert.user.email)).post)(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": "new-pw-98765", "password2": "new-pw-98765"},
        )
    elif change == "session expired":
        key = browser.cookies[settings.SESSION_COOKIE_NAME].value
        await db(Session.objects.filter(session_key=key).update)(expire_date=timezone.now())
    elif change == "deactivated without a signal":
        await db(get_user_model().objects.filter(pk=expert.user_id).update)(is_active=False)
    else:
        await db(Expert.objects.filter(pk=expert.pk).update)(suspended_at=timezone.now())
    assert await still_open(socket)  # the close was lost

    await socket.send_json_to({"type": "leaderboard.watch", "period": "all"})
    assert await close_code(socket) == code
    if path == "/ws/console/":
        assert await shift_start_is_refused(socket, expert)
    await socket.disconnect()


async def test_a_staff_socket_that_missed_its_close_is_refused_at_the_next_frame(settings):
    settings.SOCKET_AUTH_RECHECK_SECONDS = 0
    staff = await db(create_staff)(username="lead", email="lead@test.example", password=PASSWORD)
    monitor = await open_socket("/ws/staff/", await db(log_in)(staff.email))
    # A queryset update sends no signal: nobody rings the socket.
    await db(get_user_model().objects.filter(pk=staff.pk).update)(is_staff=False)
    assert await still_open(monitor)

    await monitor.send_json_to({"type": "monitor.watch"})
    assert await close_code(monitor) == 4403
    await monitor.disconnect()
