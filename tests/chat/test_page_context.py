"""The expert sees the shop page the customer is on during the chat: URL, title and
product only, only while the chat is open, and checked like any other input."""

import pytest

from chat import services
from chat.models import Conversation
from config.errors import ServiceError
from realtime import broadcast

pytestmark = pytest.mark.django_db

PAGE = {"url": "https://shop.example/p/stride?colour=black", "title": "Stride Buds"}


@pytest.fixture
def chat(make_expert, make_visitor):
    make_expert(name="Anna de Vries")
    return services.conversation_start(visitor=make_visitor(name="Sam"), topic="Earbuds?")


def note(chat, **page):
    return services.conversation_page_note(
        conversation_id=chat.pk, visitor=chat.visitor, **{**PAGE, **page}
    )


def test_the_page_reaches_everyone_following_the_chat(
    chat, listen, django_capture_on_commit_callbacks
):
    followers = listen(broadcast.conversation_group(chat.pk))
    with django_capture_on_commit_callbacks(execute=True):
        page = note(chat, product="STR-BUDS")
    assert followers.frames() == [{"type": "page", "conversation": chat.pk, "page": page}]
    assert page["product"] == "STR-BUDS" and page["at"]
    chat.refresh_from_db()
    assert chat.pages == [page]


def test_a_reload_adds_nothing_and_the_trail_keeps_the_last_twenty(chat):
    assert note(chat) is not None
    assert note(chat) is None  # the same page again: a reload, a second tab
    for n in range(25):
        note(chat, url=f"https://shop.example/p/{n}")
    chat.refresh_from_db()
    assert len(chat.pages) == 20
    assert chat.pages[-1]["url"] == "https://shop.example/p/24"


def test_credentials_and_fragments_never_reach_the_expert(chat):
    page = note(chat, url="https://sam:secret@shop.example:8443/p/stride?x=1#reviews")
    assert page["url"] == "https://shop.example:8443/p/stride?x=1"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "ftp://shop.example/", "https:///nohost"]
)
def test_anything_but_a_web_address_is_refused_and_stored_nowhere(chat, url):
    with pytest.raises(ServiceError) as refused:
        note(chat, url=url)
    assert refused.value.code == "bad_field"
    chat.refresh_from_db()
    assert chat.pages == []


def test_nobody_adds_pages_to_someone_elses_chat_or_to_a_closed_one(chat, make_visitor):
    with pytest.raises(ServiceError) as refused:
        services.conversation_page_note(conversation_id=chat.pk, visitor=make_visitor(), **PAGE)
    assert refused.value.code == "not_found"
    services.conversation_leave(conversation_id=chat.pk, visitor=chat.visitor)
    Conversation.objects.filter(pk=chat.pk).update(status=Conversation.Status.RESOLVED)
    assert note(chat) is None
    chat.refresh_from_db()
    assert chat.pages == []


def test_erasing_the_customer_erases_the_pages_they_looked_at(chat, django_user_model):
    from tests.conftest import create_staff

    chat.visitor.email = "sam@example.com"
    chat.visitor.save()
    note(chat)
    staff = create_staff(username="lead", email="lead@shop.test", password="pw-123456")
    services.visitor_erase(email="sam@example.com", staff_member=staff)
    chat.refresh_from_db()
    assert chat.pages == []


def test_earlier_chats_are_the_customers_own_newest_first(chat, make_visitor):
    from datetime import timedelta

    from django.utils import timezone

    from chat import selectors

    def past(visitor, topic, days, **fields):
        return Conversation.objects.create(
            visitor=visitor,
            topic=topic,
            created_at=timezone.now() - timedelta(days=days),
            **{"status": Conversation.Status.RESOLVED, **fields},
        )

    for days in range(1, 8):
        past(chat.visitor, f"Earlier {days}", days, rating=4)
    past(make_visitor(), "Someone else's", 1)
    earlier = selectors.customer_earlier_chats(conversation_id=chat.pk)
    assert [c["topic"] for c in earlier] == [f"Earlier {d}" for d in range(1, 6)]
    assert earlier[0]["rating"] == 4 and earlier[0]["follow_ups"] == 0


@pytest.mark.django_db(transaction=True)
async def test_an_expert_reads_the_history_of_their_own_chats_only(make_expert, settings):
    from channels.db import database_sync_to_async

    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    from tests.chat.test_consumers import assigned_chat, receive_until

    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)
    await expert_socket.send_json_to({"type": "customer.history", "conversation": conversation_id})
    answer = await receive_until(expert_socket, "customer.history")
    assert answer == {"type": "customer.history", "conversation": conversation_id, "chats": []}
    await expert_socket.send_json_to(
        {"type": "customer.history", "conversation": conversation_id + 1, "id": "h-1"}
    )
    refused = await receive_until(expert_socket, "error")
    assert (refused["code"], refused["id"]) == ("not_found", "h-1")
    for socket in (customer, expert_socket):
        await socket.disconnect()
