"""The staff socket: live monitor, whisper and take-over through the real ASGI app."""

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import selectors, services
from chat.models import Conversation
from community import services as community_services
from tests.chat.test_consumers import console, greet, no_more_frames, receive_until, widget
from tests.conftest import create_staff
from tests.points.test_leaderboard_live import connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _origins(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver"]


async def test_monitor_whisper_and_take_over(make_expert, django_user_model):
    expert = await database_sync_to_async(make_expert)(name="Anna")
    lead = await database_sync_to_async(create_staff)(username="lead", first_name="Lars")
    staff = await connect("/ws/staff/", lead)
    await staff.send_json_to({"type": "monitor.watch"})
    empty = await receive_until(staff, "monitor")
    assert empty["queue_length"] == 0 and empty["conversations"] == []

    expert_socket = await console(expert.user)
    await receive_until(expert_socket, "welcome")
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Pairing"})
    conversation_id = (await receive_until(customer, "conversation"))["conversation"]["id"]
    await receive_until(customer, "history")
    await receive_until(expert_socket, "history")

    monitor = await receive_until(staff, "monitor")
    [live] = monitor["conversations"]
    assert (live["id"], live["status"], live["expert"]["name"]) == (
        conversation_id,
        "active",
        "Anna",
    )
    assert monitor["experts"][0]["open_chats"] == 1

    await staff.send_json_to({"type": "chat.open", "conversation": conversation_id})
    await receive_until(staff, "history")
    await staff.send_json_to(
        {
            "type": "chat.whisper",
            "conversation": conversation_id,
            "body": "Offer the 30-day return.",
        }
    )
    whisper = await receive_until(expert_socket, "message")
    assert whisper["message"]["whisper"] is True
    assert await no_more_frames(customer)  # the customer never hears it

    await staff.send_json_to({"type": "chat.take_over", "conversation": conversation_id})
    removed = await receive_until(expert_socket, "chat.removed")
    assert removed["reason"] == "taken_over"
    note = await receive_until(customer, "message")
    assert note["message"]["body"] == "Lars from our team has taken over this chat."
    await staff.send_json_to(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "body": "Lars here, how can I help?",
            "client_id": "s1",
        }
    )
    reply = await receive_until(customer, "message")
    assert reply["message"]["sender"] == "staff"
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.expert_id is None and conversation.staff_member_id == lead.pk
    # The chat now names who answers, for the customer and for staff opening it again.
    await customer.send_json_to(
        {"type": "ping", "conversation": conversation_id, "conversation_version": 0}
    )
    shown = (await receive_until(customer, "conversation"))["conversation"]
    assert shown["staff"]["name"] == "Lars"
    await staff.send_json_to({"type": "chat.open", "conversation": conversation_id})
    assert (await receive_until(staff, "conversation"))["conversation"]["staff"]["name"] == "Lars"
    for socket in (staff, expert_socket, customer):
        await socket.disconnect()


async def test_experts_cannot_use_staff_frames(make_expert, make_visitor):
    expert = await database_sync_to_async(make_expert)()
    socket = await connect("/ws/staff/", expert.user)
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}


async def test_staff_monitors_on_one_process_share_one_snapshot_per_change(
    make_expert, monkeypatch
):
    """A change rings every monitor at once; each used to read its own snapshot in the
    process's one database thread, 72 ms each with 1,000 live chats."""
    leads = [await database_sync_to_async(create_staff)(username=f"lead{n}") for n in range(5)]
    monitors = []
    for lead in leads:
        monitor = await connect("/ws/staff/", lead)
        await monitor.send_json_to({"type": "monitor.watch"})
        await receive_until(monitor, "monitor")
        monitors.append(monitor)
    reads = []
    snapshot = selectors.monitor_snapshot

    def counted_snapshot():
        reads.append(1)
        return snapshot()

    monkeypatch.setattr(selectors, "monitor_snapshot", counted_snapshot)
    expert = await database_sync_to_async(make_expert)(name="Anna", on_shift=False)
    await database_sync_to_async(community_services.expert_shift_start)(expert=expert)
    for monitor in monitors:
        frame = await receive_until(monitor, "monitor")
        assert [e["name"] for e in frame["experts"]] == ["Anna"]
    # One; two if a monitor's timer ran out while the first was being read.
    assert len(reads) <= 2
    for monitor in monitors:
        await monitor.disconnect()


@pytest.mark.django_db
def test_the_monitor_does_not_read_the_page_trails_it_does_not_show(make_expert, make_visitor):
    """Up to 20 pages a chat: at 1,000 live chats reading them made a snapshot 116-132
    ms instead of 73-75 ms, in the database thread drains also wait for."""
    make_expert()
    services.conversation_start(visitor=make_visitor(), topic="Sizes")
    with CaptureQueriesContext(connection) as queries:
        [chat] = selectors.monitor_snapshot()["conversations"]
    assert chat["topic"] == "Sizes" and "pages" not in chat
    assert not any('"pages"' in query["sql"] for query in queries)
