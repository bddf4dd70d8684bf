"""State frames (queue, availability, shift, conversation) carry versions: a client
keeps the newest whatever order two processes deliver them in, and a ping with an
older version gets a fresh snapshot, so a frame the channel layer lost (Redis
restarting) is repaired without a reload."""

import math
import time

import pytest
from channels.db import database_sync_to_async

from chat import selectors, services
from chat.models import Conversation
from community import services as community_services
from tests.chat.test_consumers import (
    console,
    greet,
    next_frame,
    no_more_frames,
    receive_until,
    widget,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _widget_origin(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


@pytest.fixture(autouse=True)
def _fresh_versions(monkeypatch):
    # Pings read the global versions at most once a second per process; tests need now.
    monkeypatch.setattr("chat.consumers.base.VERSIONS_FRESH_SECONDS", 0)


async def drop_delivered(socket) -> None:
    """Throw away what the layer delivered, as if Redis had dropped it on the way."""
    while not await socket.receive_nothing(timeout=0.3):
        await socket.receive_output()


def start(visitor, topic="Help"):
    return services.conversation_start(visitor=visitor, topic=topic)


def test_queue_frames_of_later_changes_carry_higher_versions(
    make_visitor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        chats = [start(make_visitor(), f"Q{n}") for n in range(3)]
    positions = []
    for leaving in chats[:2]:
        with django_capture_on_commit_callbacks(execute=True):
            services.conversation_leave(conversation_id=leaving.pk, visitor=leaving.visitor)
        [frame] = [f for f in selectors.queue_frames() if f["conversation"] == chats[2].pk]
        positions.append((frame["version"], frame["position"]))
    # A client keeping the highest version shows 1 in the end, whichever came last.
    assert positions[0][0] < positions[1][0]
    assert [position for _, position in sorted(positions)] == [2, 1]


async def test_a_waiting_customer_whose_queue_frame_was_lost_gets_it_with_the_next_ping(
    make_visitor,
):
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Battery"})
    conversation = (await receive_until(customer, "conversation"))["conversation"]
    first = await receive_until(customer, "queue")
    assert first["position"] == 1
    await customer.send_json_to(
        {"type": "ping", "conversation": conversation["id"], "queue_version": first["version"]}
    )
    assert (await receive_until(customer, "pong"))["type"] == "pong"  # nothing newer: no queue
    assert await no_more_frames(customer)

    # Someone ahead of it? No: a chat behind it is started, and its broadcast "lost":
    # the widget only learns the queue moved from the version.
    await database_sync_to_async(start)(await database_sync_to_async(make_visitor)())
    await drop_delivered(customer)
    await customer.send_json_to(
        {"type": "ping", "conversation": conversation["id"], "queue_version": first["version"]}
    )
    healed = await receive_until(customer, "queue")
    assert healed["version"] > first["version"] and healed["position"] == 1
    await customer.disconnect()


async def test_a_widget_that_missed_an_expert_going_on_shift_learns_it_at_the_next_ping(
    make_expert,
):
    expert = await database_sync_to_async(make_expert)(on_shift=False)
    customer = await widget()
    hello = await greet(customer)
    assert hello["experts_on_shift"] == 0
    await database_sync_to_async(community_services.expert_shift_start)(expert=expert)
    await drop_delivered(customer)
    await customer.send_json_to(
        {"type": "ping", "availability_version": hello["availability_version"]}
    )
    availability = await customer.receive_json_from()
    assert availability["experts_on_shift"] == 1
    assert availability["version"] > hello["availability_version"]
    await customer.send_json_to({"type": "ping", "availability_version": availability["version"]})
    assert await customer.receive_json_from() == {"type": "pong"}
    await customer.disconnect()


async def test_a_widget_that_missed_its_chat_being_resolved_learns_it_at_the_next_ping(
    make_expert,
):
    expert = await database_sync_to_async(make_expert)()
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Battery"})
    shown = (await receive_until(customer, "conversation"))["conversation"]
    assert shown["status"] == "active"
    await receive_until(customer, "history")
    await database_sync_to_async(services.conversation_resolve)(
        conversation_id=shown["id"], expert=expert, summary="Fixed"
    )
    await drop_delivered(customer)
    await customer.send_json_to(
        {
            "type": "ping",
            "conversation": shown["id"],
            "conversation_version": shown["version"],
        }
    )
    healed = (await receive_until(customer, "conversation"))["conversation"]
    assert healed["status"] == "resolved" and healed["version"] > shown["version"]
    await customer.disconnect()


async def test_a_console_that_missed_its_shift_ending_learns_it_at_the_next_ping(make_expert):
    expert = await database_sync_to_async(make_expert)()
    expert_socket = await console(expert.user)
    welcome = await receive_until(expert_socket, "welcome")
    assert welcome["on_shift"] is True
    # Ended in another tab; this console's broadcast is "lost".
    await database_sync_to_async(community_services.expert_shift_end)(expert=expert)
    await drop_delivered(expert_socket)
    await expert_socket.send_json_to({"type": "ping", "shift_version": welcome["shift_version"]})
    shift = await receive_until(expert_socket, "shift")
    assert shift["on_shift"] is False and shift["version"] > welcome["shift_version"]
    await drop_delivered(expert_socket)
    await expert_socket.send_json_to({"type": "ping", "shift_version": shift["version"]})
    assert await next_frame(expert_socket) == {"type": "pong"}
    await expert_socket.disconnect()


def test_versions_of_one_chat_follow_its_changes(make_expert, make_visitor):
    expert = make_expert()
    chat = start(make_visitor())
    assigned = Conversation.objects.get(pk=chat.pk).state_version
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="Done")
    assert Conversation.objects.get(pk=chat.pk).state_version > assigned


async def test_a_staff_monitor_that_missed_a_change_is_repaired_by_its_next_ping(
    make_visitor, django_user_model
):
    from tests.conftest import create_staff
    from tests.points.test_leaderboard_live import connect

    lead = await database_sync_to_async(create_staff)(username="lead")
    staff = await connect("/ws/staff/", lead)
    await staff.send_json_to({"type": "monitor.watch"})
    assert (await receive_until(staff, "monitor"))["queue_length"] == 0
    await database_sync_to_async(start)(await database_sync_to_async(make_visitor)())
    await drop_delivered(staff)  # `monitor.changed` and its snapshot, as if lost
    await staff.send_json_to({"type": "ping"})
    assert (await receive_until(staff, "monitor"))["queue_length"] == 1
    await staff.disconnect()


async def test_a_burst_of_queue_changes_tells_each_waiting_customer_once_or_twice(make_visitor):
    """Before: every change sent every waiting chat a frame (quadratic in a burst)."""
    widgets = []
    for n in range(3):
        customer = await widget()
        await greet(customer)
        await customer.send_json_to({"type": "chat.start", "topic": f"Waiting {n}"})
        await receive_until(customer, "queue")
        widgets.append(customer)
    for customer in widgets:
        await drop_delivered(customer)

    def twenty_more_chats() -> None:
        for n in range(20):
            start(make_visitor(), f"Burst {n}")

    began = time.monotonic()
    await database_sync_to_async(twenty_more_chats)()  # 20 changes, one after another
    # The queue is read at most once a second per process: a burst spread over more
    # seconds on a loaded machine may bring one frame per second it lasted, never 20.
    allowed = 1 + math.ceil(time.monotonic() - began)
    for place, customer in enumerate(widgets, start=1):
        # The first frame however loaded the machine is, then whatever follows it.
        frames = [await customer.receive_json_from(timeout=10)]
        while not await customer.receive_nothing(timeout=1.5):
            frames.append(await customer.receive_json_from())
        positions = [frame["position"] for frame in frames if frame["type"] == "queue"]
        assert 1 <= len(positions) <= allowed, positions  # was 20
        assert positions[-1] == place  # people behind do not move anyone forward
        await customer.disconnect()


async def test_every_console_sees_how_many_shoppers_wait(make_expert):
    """Before: experts could not see the queue at all."""
    expert = await database_sync_to_async(make_expert)(on_shift=False)
    expert_socket = await console(expert.user)
    assert (await receive_until(expert_socket, "welcome"))["waiting"] == 0
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Nobody on shift"})
    assert (await receive_until(expert_socket, "queue.length"))["waiting"] == 1
    await customer.send_json_to(
        {
            "type": "chat.leave",
            "conversation": (await receive_until(customer, "queue"))["conversation"],
        }
    )
    assert (await receive_until(expert_socket, "queue.length"))["waiting"] == 0
    await customer.disconnect()
    await expert_socket.disconnect()
