"""Lines the chat writes are addressed to whoever reads them."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from chat import selectors, services
from community.models import Expert
from tests.chat.test_consumers import assigned_chat, receive_until

pytestmark = pytest.mark.django_db


def last_line(conversation_id: int, *, for_customer: bool) -> str:
    messages = selectors.messages_after(
        conversation_id=conversation_id, last_seq=0, for_customer=for_customer
    )
    return messages[-1]["body"]


def test_a_customer_who_leaves_is_not_told_that_the_customer_left(make_expert, make_visitor):
    make_expert()
    chat = services.conversation_start(visitor=make_visitor(), topic="Hinge")
    services.conversation_leave(conversation_id=chat.pk, visitor=chat.visitor)
    assert last_line(chat.pk, for_customer=True) == "You left the chat."
    assert last_line(chat.pk, for_customer=False) == "The customer left the chat."


def test_an_expert_is_not_told_they_are_first_in_line(make_expert, make_visitor):
    expert = make_expert()
    chat = services.conversation_start(visitor=make_visitor(), topic="Hinge")
    Expert.objects.filter(pk=expert.pk).update(on_shift=False)  # gone: nobody to take it
    with transaction.atomic():
        services.expert_chats_requeue(expert=expert, event="requeued")
    assert "You are first in line" in last_line(chat.pk, for_customer=True)
    expert_line = last_line(chat.pk, for_customer=False)
    assert "first in line" not in expert_line and "front of the queue" in expert_line
    transcript = selectors.transcript_text(conversation=chat)
    assert "You are first in line" in transcript


@pytest.mark.django_db(transaction=True)
async def test_live_lines_are_worded_for_each_side(make_expert, settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver"]
    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)
    await customer.send_json_to({"type": "chat.leave", "conversation": conversation_id})
    customer_line = (await receive_until(customer, "message"))["message"]["body"]
    expert_line = (await receive_until(expert_socket, "message"))["message"]["body"]
    assert (customer_line, expert_line) == ("You left the chat.", "The customer left the chat.")
    await customer.disconnect()
    await expert_socket.disconnect()
