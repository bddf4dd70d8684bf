"""Every staff page and staff action, tried as each kind of user: refusals are
clear (login redirect or 403) and change nothing."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from chat import services as chat_services
from chat.models import Message, MessageReport
from community import services as community_services
from community.models import AuditEntry, ConsoleLease, Expert, ExpertApplication
from points import selectors as points_selectors
from points import services as points_services
from rewards import services as rewards_services
from rewards.models import Product, Redemption
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "/staff/",
    "/staff/monitor/",
    "/staff/experts/",
    "/staff/audit/",
    "/staff/reports/",
    "/staff/metrics/",
    "/staff/applications/",
    "/staff/redemptions/",
    "/staff/leaderboard/",
]


@pytest.fixture
def world(make_expert, make_visitor):
    """One of everything staff can act on."""
    boss = create_staff(username="boss")
    expert = make_expert(name="Anna")
    chat = chat_services.conversation_start(visitor=make_visitor(), topic="Pairing")
    chat_services.message_post(
        conversation_id=chat.pk, expert=expert, body="Hold both buttons ten seconds.", client_id="e"
    )
    report = chat_services.message_report(
        conversation_id=chat.pk, seq=3, visitor=chat.visitor, reason="rude"
    )
    points_services.points_adjust(
        expert=expert, amount=500, reason="seed", staff_member=boss, idempotency_key="seed"
    )
    product = Product.objects.create(name="Cap", points_cost=100, stock=5)
    redemption = rewards_services.redemption_place(
        expert=expert, product_id=product.pk, shipping_address="x", request_key="r"
    )
    application = community_services.application_submit(
        name="Noor",
        email="noor@example.com",
        motivation="I love it",
        product_areas="Earbuds",
        availability="Evenings",
    )
    AuditEntry.objects.all().delete()
    return {
        "expert": expert,
        "report": report,
        "redemption": redemption,
        "application": application,
    }


def staff_actions(world):
    return [
        (f"/staff/experts/{world['expert'].pk}/action/", {"action": "suspend", "reason": "x"}),
        (
            f"/staff/experts/{world['expert'].pk}/action/",
            {"action": "adjust", "amount": "-400", "reason": "x", "request_key": "k"},
        ),
        (f"/staff/experts/{world['expert'].pk}/action/", {"action": "limit", "limit": "1"}),
        (f"/staff/reports/{world['report'].pk}/action/", {"action": "hide", "reason": "x"}),
        (f"/staff/applications/{world['application'].pk}/action/", {"action": "accept"}),
        (
            "/staff/redemptions/action/",
            {"action": "reject", "redemption": [world["redemption"].pk], "note": "x"},
        ),
    ]


def assert_nothing_changed(world):
    expert = Expert.objects.get(pk=world["expert"].pk)
    assert expert.suspended_at is None and expert.max_concurrent_chats == 3
    assert points_selectors.balance(expert=expert) == 400
    assert Message.objects.get(conversation__topic="Pairing", seq=3).hidden_at is None
    assert MessageReport.objects.get(pk=world["report"].pk).handled_at is None
    assert ExpertApplication.objects.get(pk=world["application"].pk).status == "pending"
    assert Redemption.objects.get(pk=world["redemption"].pk).status == "pending"
    assert not AuditEntry.objects.exists()


def login_as(client, role, world):
    users = get_user_model()
    if role == "anonymous":
        return
    user = {
        "customer": lambda: users.objects.create_user(username="shopper"),
        "expert": lambda: world["expert"].user,
        "staff without rights": lambda: users.objects.create_user(username="temp", is_staff=True),
    }[role]()
    client.force_login(user)


@pytest.mark.parametrize("role", ["anonymous", "customer", "expert", "staff without rights"])
def test_everyone_but_staff_is_refused_everywhere(client, world, role):
    login_as(client, role, world)
    for url in STAFF_PAGES:
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
        else:
            assert response.status_code == 403, url
    for url, data in staff_actions(world):
        response = client.post(url, data)
        assert response.status_code == (302 if role == "anonymous" else 403), url
    assert_nothing_changed(world)


def test_staff_may_open_every_page(client, world):
    client.force_login(create_staff(username="lead"))
    for url in STAFF_PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "role, code", [("anonymous", 4401), ("expert", 4403), ("staff without rights", 4403)]
)
async def test_staff_socket_refuses_everyone_else(settings, make_expert, role, code):
    from channels.testing import WebsocketCommunicator

    from config.asgi import websocket_application
    from tests.conftest import session_cookie_for

    settings.ALLOWED_HOSTS = ["testserver"]
    headers = [(b"origin", b"http://testserver")]
    if role == "expert":
        user = (await database_sync_to_async(make_expert)()).user
    elif role == "staff without rights":
        user = await database_sync_to_async(get_user_model().objects.create_user)(
            username="temp", is_staff=True
        )
    if role != "anonymous":
        headers.append((b"cookie", await database_sync_to_async(session_cookie_for)(user)))
    socket = WebsocketCommunicator(websocket_application(), "/ws/staff/", headers=headers)
    assert (await socket.connect())[0]
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": code}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/console/", "/ws/expert/"])
async def test_suspended_experts_are_refused_by_their_sockets(settings, make_expert, path):
    from channels.testing import WebsocketCommunicator
    from django.utils import timezone

    from config.asgi import websocket_application
    from tests.conftest import session_cookie_for

    settings.ALLOWED_HOSTS = ["testserver"]
    expert = await database_sync_to_async(make_expert)()
    await database_sync_to_async(Expert.objects.filter(pk=expert.pk).update)(
        suspended_at=timezone.now()
    )
    cookie = await database_sync_to_async(session_cookie_for)(expert.user)
    socket = WebsocketCommunicator(
        websocket_application(),
        path,
        headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)],
    )
    assert (await socket.connect())[0]
    told = await socket.receive_json_from(timeout=2)  # why, then the close
    assert told["type"] == "suspended"
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}
    leases = await database_sync_to_async(ConsoleLease.objects.filter(expert=expert).count)()
    assert leases == 1  # the fixture's; the refused socket took none
