"""Frames that used to be accepted silently and lose messages."""

import pytest
from channels.db import database_sync_to_async

from chat.models import Message
from tests.chat.test_consumers import assigned_chat, receive_until

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _widget_origin(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


async def test_resume_beyond_the_last_seq_is_refused_and_nothing_is_skipped(make_expert):
    """Before: accepted, and the socket then dropped every message up to that seq."""
    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)
    await customer.send_json_to({"type": "resume", "conversation": conversation_id, "last_seq": 50})
    refused = await receive_until(customer, "error")
    assert (refused["code"], refused["ref"]) == ("seq_ahead", "resume")

    await customer.send_json_to({"type": "resume", "conversation": conversation_id, "last_seq": 0})
    await receive_until(customer, "history")
    send = {"type": "message.send", "conversation": conversation_id, "client_id": "e1"}
    await expert_socket.send_json_to({**send, "body": "Here is my answer"})
    message = await receive_until(customer, "message")
    assert message["message"]["body"] == "Here is my answer"
    for socket in (customer, expert_socket):
        await socket.disconnect()


async def test_one_client_id_with_two_bodies_is_a_clear_error(make_expert):
    """Before: the second body got the first one's seq and was dropped without notice."""
    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)
    send = {"type": "message.send", "conversation": conversation_id, "client_id": "tab-1"}
    await customer.send_json_to({**send, "body": "From the first tab"})
    first = await receive_until(customer, "message.ack")
    await customer.send_json_to({**send, "body": "From the first tab"})  # a retry: same seq
    assert (await receive_until(customer, "message.ack"))["seq"] == first["seq"]
    await customer.send_json_to({**send, "body": "From the second tab"})
    refused = await receive_until(customer, "error")
    assert (refused["code"], refused["client_id"]) == ("duplicate_client_id", "tab-1")
    bodies = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(conversation_id=conversation_id, client_id="tab-1").values_list(
                "body", flat=True
            )
        )
    )()
    assert bodies == ["From the first tab"]
    for socket in (customer, expert_socket):
        await socket.disconnect()


async def test_the_shift_answer_comes_on_the_socket_even_when_the_broadcast_is_lost(make_expert):
    """Before: the `shift` answer came only by broadcast; after a Redis restart the
    socket was not subscribed any more and the switch never moved."""
    from channels.layers import get_channel_layer

    from tests.chat.test_consumers import console

    expert = await database_sync_to_async(make_expert)(on_shift=False)
    socket = await console(expert.user)
    await receive_until(socket, "welcome")
    # What a Redis restart does to the socket's subscriptions.
    layer = get_channel_layer()
    await layer.flush()
    await socket.send_json_to({"type": "shift.start"})
    answer = await receive_until(socket, "shift")
    assert answer["on_shift"] is True
    await socket.disconnect()


async def test_an_error_names_the_request_it_answers(make_expert):
    """Before: errors were matched to requests by type and order, so two refusals of
    the same type in flight could be shown against the wrong request."""
    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)
    await expert_socket.send_json_to(
        {"type": "chat.transfer", "conversation": conversation_id, "expert": 999, "id": "r-1"}
    )
    await expert_socket.send_json_to(
        {"type": "chat.resolve", "conversation": 99999, "summary": "x", "id": "r-2"}
    )
    await expert_socket.send_json_to({"type": "chat.resolve", "id": "r-3"})  # no conversation
    refusals = [await receive_until(expert_socket, "error") for _ in range(3)]
    assert [(r["id"], r["ref"]) for r in refusals] == [
        ("r-1", "chat.transfer"),
        ("r-2", "chat.resolve"),
        ("r-3", "chat.resolve"),
    ]
    assert refusals[2]["code"] == "bad_field"
    for socket in (customer, expert_socket):
        await socket.disconnect()
