"""Presence as leases: a console whose process died stops getting chats when its
lease runs out, its customers are told, and nothing is a counter that can leak."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import selectors, services
from chat.models import Conversation
from community import services as community_services
from community.models import ConsoleLease, Expert
from realtime import broadcast
from tests.chat.test_consumers import console, greet, receive_until, widget

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _widget_origin(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


def _process_died(expert: Expert, *, seconds_ago: int) -> None:
    """The console's process was killed `seconds_ago`: no disconnect ran, the
    heartbeats just stopped."""
    ConsoleLease.objects.filter(expert=expert).update(
        expires_at=timezone.now()
        - timedelta(seconds=seconds_ago)
        + timedelta(seconds=10)  # its last heartbeat gave it this much
    )
    Expert.objects.filter(pk=expert.pk).update(
        last_seen_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def test_a_console_whose_process_was_killed_gets_no_new_chat_once_its_lease_ran_out(
    make_expert, make_visitor, settings
):
    """Before: the killed process never decremented console_connections, so a chat
    started 20 s later went to the dead console and its customer waited a minute."""
    settings.CHAT_CONSOLE_LEASE_SECONDS = 10
    dead = make_expert(name="Dead", connected=False)
    community_services.expert_console_connected(expert=dead, channel_name="daphne-1!abc")
    community_services.expert_shift_start(expert=dead)
    _process_died(dead, seconds_ago=20)

    chat = services.conversation_start(visitor=make_visitor(), topic="Anyone?")
    assert chat.status == Conversation.Status.WAITING

    # A live colleague gets it, and the dead console's lease is swept.
    alive = make_expert(name="Alive")
    community_services.expert_shift_start(expert=alive)
    chat.refresh_from_db()
    assert chat.expert_id == alive.pk
    assert community_services.expired_leases_sweep() == 1
    assert not ConsoleLease.objects.filter(expert=dead).exists()


async def test_heartbeats_keep_a_live_console_routable(make_expert, settings):
    settings.CHAT_CONSOLE_LEASE_SECONDS = 10
    expert = await database_sync_to_async(make_expert)(connected=False)
    socket = await console(expert.user)
    await receive_until(socket, "welcome")
    lease = await database_sync_to_async(ConsoleLease.objects.get)(expert=expert)
    await database_sync_to_async(
        lambda: ConsoleLease.objects.filter(pk=lease.pk).update(
            expires_at=timezone.now() + timedelta(seconds=1)
        )
    )()
    await socket.send_json_to({"type": "ping"})
    await receive_until(socket, "pong")
    renewed = await database_sync_to_async(ConsoleLease.objects.get)(pk=lease.pk)
    assert renewed.expires_at > timezone.now() + timedelta(seconds=8)
    await socket.disconnect()
    gone = await database_sync_to_async(ConsoleLease.objects.filter(expert=expert).exists)()
    assert not gone  # closing the console removes its lease at once


async def test_the_customer_is_told_when_their_experts_console_is_gone(make_expert, listen):
    expert = await database_sync_to_async(make_expert)(connected=False)
    expert_socket = await console(expert.user)
    await receive_until(expert_socket, "welcome")
    await expert_socket.send_json_to({"type": "shift.start"})
    await receive_until(expert_socket, "shift")
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Broken hinge"})
    conversation_id = (await receive_until(customer, "conversation"))["conversation"]["id"]
    await receive_until(expert_socket, "chat.assigned")

    await expert_socket.disconnect()
    told = await receive_until(customer, "expert.presence")
    assert told == {"type": "expert.presence", "conversation": conversation_id, "online": False}

    # A widget that reconnects meanwhile hears it on resume.
    await customer.disconnect()
    returning = await widget()
    token = await database_sync_to_async(
        lambda: selectors.visitor_token(Conversation.objects.get(pk=conversation_id).visitor)
    )()
    await greet(returning, token)
    await returning.send_json_to({"type": "resume", "conversation": conversation_id, "last_seq": 0})
    assert (await receive_until(returning, "expert.presence"))["online"] is False

    # The expert comes back: the customer hears that too.
    back = await console(expert.user)
    await receive_until(back, "welcome")
    assert (await receive_until(returning, "expert.presence"))["online"] is True
    for socket in (returning, back):
        await socket.disconnect()


def test_a_killed_console_is_announced_to_its_customers_by_the_sweep(
    make_expert, make_visitor, listen, settings
):
    expert = make_expert(connected=False)
    community_services.expert_console_connected(expert=expert, channel_name="daphne-2!xyz")
    community_services.expert_shift_start(expert=expert)
    chat = services.conversation_start(visitor=make_visitor(), topic="Receipt")
    listener = listen(broadcast.conversation_group(chat.pk))
    _process_died(expert, seconds_ago=30)
    community_services.expired_leases_sweep()
    frames = [f for f in listener.frames() if f["type"] == "expert.presence"]
    assert frames == [{"type": "expert.presence", "conversation": chat.pk, "online": False}]
