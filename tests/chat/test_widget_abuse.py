"""Scripts against the widget: floods from one network, chats whose customer is
gone. Through the real ASGI app, the Redis channel layer and the shared cache."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from backoffice import metrics
from chat import selectors, services
from chat.consumers import base as consumers
from chat.models import Conversation
from tests.chat.test_consumers import app, assigned_chat, greet, receive_until

pytestmark = [pytest.mark.django_db(transaction=True)]

SHOP = b"http://shop.example"
ATTACKER = "203.0.113.66"


@pytest.fixture(autouse=True)
def _widget_origin(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


async def widget_from(ip: str, *, headers=()) -> tuple[WebsocketCommunicator, bool, int | None]:
    """A widget socket from `ip`: (socket, accepted, close code)."""
    socket = WebsocketCommunicator(app(), "/ws/widget/", headers=[(b"origin", SHOP), *headers])
    socket.scope["client"] = (ip, 50_000)
    connected, _ = await socket.connect()
    if not connected:
        return socket, False, None
    return socket, True, None


async def hello_or_refusal(socket: WebsocketCommunicator) -> dict:
    """`welcome`, or the `rate_limited` frame a refused socket gets before it closes."""
    await socket.send_json_to({"type": "hello", "lang": "en"})
    frame = await socket.receive_json_from(timeout=3)
    if frame.get("ref") == "connect":
        closed = await socket.receive_output(timeout=1)
        assert closed == {"type": "websocket.close", "code": 4429}
        assert await socket.receive_nothing(timeout=0.1)  # the hello went unanswered
    return frame


async def start_chat(socket, topic: str) -> dict:
    await socket.send_json_to({"type": "chat.start", "topic": topic})
    while True:
        frame = await socket.receive_json_from(timeout=3)
        if frame["type"] in ("conversation", "error"):
            return frame


async def test_two_hundred_sockets_from_one_network_cannot_push_a_real_customer_back(
    settings, make_expert
):
    """Before: every hello-without-token socket got a fresh visitor and queued a chat,
    so the 201st customer waited behind 200 scripted chats."""
    # An hour's window: the run may take more than a minute on a busy machine.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget.socket": "60/3600"}
    opened = []
    refused_sockets = 0
    queued_by_flood = 0
    for n in range(200):
        socket, accepted, _ = await widget_from(ATTACKER)
        assert accepted
        opened.append(socket)
        first = await hello_or_refusal(socket)
        if first["type"] == "error":
            assert first["code"] == "rate_limited" and first["retry_after"] >= 1
            refused_sockets += 1
            continue
        assert first["type"] == "welcome"
        answer = await start_chat(socket, f"spam {n}")
        if answer["type"] == "conversation":
            queued_by_flood += 1
        else:
            assert answer["code"] == "rate_limited" and answer["retry_after"] >= 1
    accepted = 200 - refused_sockets
    assert 60 <= accepted <= 120  # 60 a window; the run may straddle two windows
    assert queued_by_flood == settings.CHAT_MAX_WAITING_PER_NETWORK

    customer, accepted, _ = await widget_from("198.51.100.7")
    await greet(customer)
    answer = await start_chat(customer, "Which headphones for running?")
    assert answer["type"] == "conversation"
    queue = await receive_until(customer, "queue")
    assert queue["position"] == settings.CHAT_MAX_WAITING_PER_NETWORK + 1
    for socket in [*opened, customer]:
        await socket.disconnect()


async def test_spoofed_forwarded_for_and_a_fresh_ipv6_address_share_the_limit(settings):
    """X-Forwarded-For from a peer that is not a trusted proxy is the client's own
    words; every address of an IPv6 /64 is one network."""
    settings.TRUSTED_PROXIES = []
    settings.CHAT_MAX_WAITING_PER_NETWORK = 2
    answers = []
    for n in range(4):
        spoof = [(b"x-forwarded-for", f"192.0.2.{n}".encode())]
        socket, _, _ = await widget_from(f"2001:db8:1:2::{n + 1}", headers=spoof)
        await greet(socket)
        answers.append(await start_chat(socket, f"spam {n}"))
        await socket.disconnect()
    kinds = [answer["type"] for answer in answers]
    assert kinds == ["conversation", "conversation", "error", "error"]
    networks = await database_sync_to_async(
        lambda: set(Conversation.objects.values_list("customer_network", flat=True))
    )()
    assert networks == {"2001:db8:1:2::/64"}


async def test_a_refusal_tells_the_customer_when_to_try_again_in_their_language(settings):
    settings.CHAT_MAX_WAITING_PER_NETWORK = 1
    first, _, _ = await widget_from(ATTACKER)
    await greet(first)
    await start_chat(first, "First question")
    second, _, _ = await widget_from(ATTACKER)
    await second.send_json_to({"type": "hello", "lang": "nl"})
    await receive_until(second, "welcome")
    refusal = await start_chat(second, "Tweede vraag")
    assert refusal["code"] == "rate_limited"
    assert refusal["retry_after"] == settings.CHAT_ABANDON_AFTER_SECONDS
    assert "Probeer het over 2 minuten opnieuw" in refusal["message"]
    for socket in (first, second):
        await socket.disconnect()


def _customer_away(conversation_id: int, seconds: int) -> None:
    """The customer's last widget ping was `seconds` ago."""
    Conversation.objects.filter(pk=conversation_id).update(
        customer_seen_at=timezone.now() - timedelta(seconds=seconds)
    )


async def test_a_waiting_chat_whose_customer_is_gone_leaves_the_queue(settings):
    settings.CHAT_ABANDON_AFTER_SECONDS = 120
    gone, _, _ = await widget_from(ATTACKER)
    await greet(gone)
    gone_id = (await start_chat(gone, "Hello?"))["conversation"]["id"]
    await gone.disconnect()
    staying, _, _ = await widget_from("198.51.100.7")
    await greet(staying)
    staying_id = (await start_chat(staying, "Still here"))["conversation"]["id"]
    assert (await receive_until(staying, "queue"))["position"] == 2

    await database_sync_to_async(_customer_away)(gone_id, 121)
    await database_sync_to_async(_customer_away)(staying_id, 121)
    # The staying customer's widget pings: seen again, and the ping runs the sweep.
    consumers._last_sweep = 0.0
    await staying.send_json_to({"type": "ping"})
    await receive_until(staying, "pong")
    assert (await receive_until(staying, "queue"))["position"] == 1

    statuses = await database_sync_to_async(
        lambda: dict(Conversation.objects.values_list("pk", "status"))
    )()
    assert statuses == {gone_id: "abandoned", staying_id: "waiting"}
    figures = await database_sync_to_async(metrics.service_metrics)(metrics.period_ending_today(1))
    assert figures["chats_abandoned"] == 1
    await staying.disconnect()


async def test_the_expert_sees_a_gone_customer_and_resolves_without_losing_anything(
    settings, make_expert
):
    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)
    token = await database_sync_to_async(
        lambda: selectors.visitor_token(Conversation.objects.get(pk=conversation_id).visitor)
    )()
    await customer.disconnect()

    await database_sync_to_async(_customer_away)(conversation_id, 121)
    assert await database_sync_to_async(services.customers_away_sweep)() == 1
    notice = await receive_until(expert_socket, "message")
    assert notice["message"]["event"] == "customer_gone"
    snapshot = await receive_until(expert_socket, "conversation")
    assert snapshot["conversation"]["customer_gone"] is True

    # Back within the chat's life: the expert is told and the flag goes.
    returning, _, _ = await widget_from(ATTACKER)
    await greet(returning, token)
    await returning.send_json_to({"type": "resume", "conversation": conversation_id, "last_seq": 0})
    resumed = await receive_until(returning, "conversation")
    assert resumed["conversation"]["customer_gone"] is False
    back = await receive_until(expert_socket, "message")
    assert back["message"]["event"] == "customer_back"
    await returning.disconnect()

    await database_sync_to_async(_customer_away)(conversation_id, 121)
    await database_sync_to_async(services.customers_away_sweep)()
    await expert_socket.send_json_to(
        {"type": "chat.resolve", "conversation": conversation_id, "summary": "Customer gone"}
    )
    removed = await receive_until(expert_socket, "chat.removed")
    assert removed["reason"] == "resolved"
    freed = await database_sync_to_async(lambda: type(expert).objects.get(pk=expert.pk))()
    assert freed.open_chat_count == 0
    await expert_socket.disconnect()
