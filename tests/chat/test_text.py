"""What people write is stored normalised; text with nothing visible is refused clearly."""

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.models import Conversation, FollowUp, Message, OfflineMessage
from chat.text import normalized, visible_length
from config.errors import ServiceError
from tests.chat.test_consumers import assigned_chat, greet, receive_until, widget

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff \t\n\u202e\u2066\x00\x85"


def test_normalised_text_keeps_what_people_see():
    assert normalized("  Cafe\u0301\r\nline\ttwo\x00\x07\x9b \u202eevil\u202c\u2067x\u2069 ") == (
        "Caf\u00e9\nline\ttwo evilx"
    )
    assert normalized("\u05e9\u05dc\u05d5\u05dd \u200fok") == "\u05e9\u05dc\u05d5\u05dd \u200fok"
    assert visible_length(INVISIBLE) == 0
    assert visible_length("a\u200bb c\u202e") == 3


@pytest.fixture(autouse=True)
def _origins(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver"]


@pytest.mark.django_db(transaction=True)
async def test_messages_are_stored_normalised_and_invisible_ones_refused(make_expert):
    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)

    await customer.send_json_to(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "body": INVISIBLE + "x\u200b",
            "client_id": "c0",
        }
    )
    await receive_until(customer, "message.ack")  # one visible character is enough
    await customer.send_json_to(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "body": INVISIBLE,
            "client_id": "c1",
        }
    )
    refused = await receive_until(customer, "error")
    assert (refused["code"], refused["client_id"]) == ("no_visible_text", "c1")
    await expert_socket.send_json_to(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "body": "\u202eTry \x00this\u202c Cafe\u0301",
            "client_id": "e1",
        }
    )
    shown = await receive_until(customer, "message")
    while shown["message"]["sender"] != "expert":  # the customer's own first
        shown = await receive_until(customer, "message")
    assert shown["message"]["body"] == "Try this Caf\u00e9"
    bodies = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(
                conversation_id=conversation_id, sender__in=["customer", "expert"]
            )
            .order_by("seq")
            .values_list("body", flat=True)
        )
    )()
    assert bodies[-1] == "Try this Caf\u00e9"

    await expert_socket.send_json_to(
        {"type": "chat.resolve", "conversation": conversation_id, "summary": "ok"}
    )
    await receive_until(expert_socket, "chat.removed")
    with pytest.raises(ServiceError) as refused:
        await database_sync_to_async(services.followup_send)(
            conversation_id=conversation_id, expert=expert, body=INVISIBLE
        )
    assert refused.value.code == "no_visible_text"
    assert not await database_sync_to_async(FollowUp.objects.exists)()
    await customer.disconnect()
    await expert_socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_invisible_topics_and_offline_messages_are_refused():
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "\u200b\u2060\u202e"})
    assert (await receive_until(customer, "error"))["code"] == "no_visible_text"
    await customer.send_json_to(
        {"type": "offline.send", "email": "sam@example.com", "body": "\ufeff\u200d\x00"}
    )
    assert (await receive_until(customer, "error"))["code"] == "no_visible_text"
    await customer.send_json_to(
        {"type": "offline.send", "email": "sam@example.com", "body": "Call me\u202e back\x00"}
    )
    await receive_until(customer, "offline.sent")
    stored = await database_sync_to_async(
        lambda: list(OfflineMessage.objects.values_list("body", flat=True))
    )()
    assert stored == ["Call me back"]
    assert not await database_sync_to_async(Conversation.objects.exists)()
    await customer.disconnect()
