"""Messages: stored before anyone hears of them, numbered without gaps, never doubled."""

import pytest
from django.conf import settings

from chat import selectors, services
from chat.models import Conversation, FollowUp, Message
from config import realtime
from config.errors import ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_chat(make_expert, make_visitor):
    expert = make_expert(name="Anna de Vries")
    chat = services.conversation_start(visitor=make_visitor(name="Sam"), topic="Pairing help")
    return chat, expert


def test_messages_are_numbered_in_order_and_broadcast_after_commit(
    live_chat, listen, django_capture_on_commit_callbacks
):
    chat, expert = live_chat
    inbox = listen(realtime.conversation_group(chat.pk))
    with django_capture_on_commit_callbacks(execute=False) as pending:
        services.message_post(
            conversation_id=chat.pk, visitor=chat.visitor, body="Hello?", client_id="c1"
        )
    # Nothing is announced before the commit.
    assert inbox.frames(wait=0.1) == []
    for callback in pending:
        callback()
    [frame] = inbox.frames()
    assert frame["type"] == "message" and frame["conversation"] == chat.pk
    assert frame["message"]["seq"] == 3  # topic (1) and "joined" (2) came first
    assert frame["message"]["body"] == "Hello?" and frame["message"]["sender"] == "customer"

    services.message_post(conversation_id=chat.pk, expert=expert, body="Hi Sam!", client_id="e1")
    assert list(chat.messages.values_list("seq", flat=True)) == [1, 2, 3, 4]


def test_retried_send_is_stored_once(live_chat):
    chat, _ = live_chat
    first, created = services.message_post(
        conversation_id=chat.pk, visitor=chat.visitor, body="Hello", client_id="same"
    )
    again, created_again = services.message_post(
        conversation_id=chat.pk, visitor=chat.visitor, body="Hello", client_id="same"
    )
    assert created and not created_again and first.pk == again.pk
    assert Message.objects.filter(conversation=chat, body="Hello").count() == 1


def test_oversized_message_is_refused_and_nothing_is_stored(live_chat):
    chat, _ = live_chat
    before = Conversation.objects.get(pk=chat.pk).last_seq
    with pytest.raises(ServiceError) as refused:
        services.message_post(
            conversation_id=chat.pk,
            visitor=chat.visitor,
            body="x" * (settings.CHAT_MAX_MESSAGE_LENGTH + 1),
            client_id="big",
        )
    assert refused.value.code == "too_long"
    assert Conversation.objects.get(pk=chat.pk).last_seq == before
    assert not Message.objects.filter(client_id="big").exists()


def test_a_stranger_cannot_post_into_someone_elses_chat(live_chat, make_visitor):
    chat, _ = live_chat
    with pytest.raises(ServiceError) as refused:
        services.message_post(
            conversation_id=chat.pk, visitor=make_visitor(), body="hi", client_id="x"
        )
    assert refused.value.code == "not_found"
    assert Message.objects.filter(conversation=chat).count() == 2


def test_no_messages_after_resolve(live_chat):
    chat, expert = live_chat
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    with pytest.raises(ServiceError) as refused:
        services.message_post(
            conversation_id=chat.pk, visitor=chat.visitor, body="one more", client_id="late"
        )
    assert refused.value.code == "chat_closed"


def test_replay_returns_exactly_the_gap(live_chat):
    chat, expert = live_chat
    for n in range(5):
        services.message_post(
            conversation_id=chat.pk, expert=expert, body=f"m{n}", client_id=f"e{n}"
        )
    missed = selectors.messages_after(conversation_id=chat.pk, last_seq=4)
    assert [m["seq"] for m in missed] == [5, 6, 7]
    assert [m["body"] for m in missed] == ["m2", "m3", "m4"]


def test_read_marks_only_move_forward(live_chat):
    chat, expert = live_chat
    services.conversation_mark_read(conversation_id=chat.pk, expert=expert, seq=2)
    services.conversation_mark_read(conversation_id=chat.pk, expert=expert, seq=1)
    services.conversation_mark_read(conversation_id=chat.pk, expert=expert, seq=99)
    chat.refresh_from_db()
    assert chat.expert_read_seq == 2  # capped at last_seq, never backwards


def test_rating_once_and_only_with_an_expert(live_chat, make_visitor):
    chat, expert = live_chat
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    services.conversation_rate(conversation_id=chat.pk, visitor=chat.visitor, rating=5)
    with pytest.raises(ServiceError) as refused:
        services.conversation_rate(conversation_id=chat.pk, visitor=chat.visitor, rating=1)
    assert refused.value.code == "already_rated"
    assert Conversation.objects.get(pk=chat.pk).rating == 5


def test_follow_up_reaches_the_customer_and_their_inbox(
    live_chat, listen, mailoutbox, django_capture_on_commit_callbacks
):
    chat, expert = live_chat
    chat.visitor.email = "sam@example.com"
    chat.visitor.save()
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    inbox = listen(realtime.visitor_group(chat.visitor_id))
    with django_capture_on_commit_callbacks(execute=True):
        services.followup_send(conversation_id=chat.pk, expert=expert, body="A better fix: ...")
    [frame] = inbox.frames()
    assert frame["type"] == "followup" and frame["follow_up"]["body"] == "A better fix: ..."
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["sam@example.com"]


def test_follow_up_needs_a_resolved_chat_and_content(live_chat):
    chat, expert = live_chat
    with pytest.raises(ServiceError):
        services.followup_send(conversation_id=chat.pk, expert=expert, body="too early")
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    with pytest.raises(ServiceError):
        services.followup_send(conversation_id=chat.pk, expert=expert, body="   ")
    assert not FollowUp.objects.exists()


def test_transcript_download_needs_the_visitor_token(live_chat, client, make_visitor):
    chat, _ = live_chat
    url = f"/widget/transcript/{chat.pk}/"
    assert client.get(url).status_code == 404
    stranger = selectors.visitor_token(make_visitor())
    assert client.get(url, headers={"X-Visitor-Token": stranger}).status_code == 404
    token = selectors.visitor_token(chat.visitor)
    response = client.get(url, headers={"X-Visitor-Token": token})
    assert response.status_code == 200
    assert "Pairing help" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_message_is_one_statement_with_the_same_rules(
    live_chat, make_visitor, django_assert_num_queries
):
    """Sockets post outside any transaction, where PostgreSQL numbers and stores a
    message in one statement; the rules are the same as above."""
    chat, expert = live_chat
    visitor = chat.visitor
    with django_assert_num_queries(1):
        message, created = services.message_post(
            conversation_id=chat.pk, visitor=visitor, body="Hello?", client_id="c1"
        )
    stored = Message.objects.get(pk=message.pk)
    assert created and (stored.seq, stored.body, stored.sender) == (3, "Hello?", "customer")
    assert not stored.whisper and stored.system_params == {} and stored.created_at
    again, created_again = services.message_post(
        conversation_id=chat.pk, visitor=chat.visitor, body="Hello?", client_id="c1"
    )
    assert not created_again and again.pk == message.pk
    reply, _ = services.message_post(
        conversation_id=chat.pk, expert=expert, body="Hi!", client_id="c1"
    )
    assert (reply.seq, reply.author_id) == (4, expert.user_id)

    with pytest.raises(ServiceError) as stranger:
        services.message_post(
            conversation_id=chat.pk, visitor=make_visitor(), body="Hi", client_id="s1"
        )
    assert stranger.value.code == "not_found"
    services.conversation_leave(conversation_id=chat.pk, visitor=chat.visitor)
    with pytest.raises(ServiceError) as left:
        services.message_post(
            conversation_id=chat.pk, visitor=chat.visitor, body="Wait", client_id="c2"
        )
    assert left.value.code == "chat_closed"
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="Paired.")
    with pytest.raises(ServiceError) as closed:
        services.message_post(conversation_id=chat.pk, expert=expert, body="Bye", client_id="e2")
    assert closed.value.code == "chat_closed"
    refused_bodies = {"Hi", "Wait", "Bye"}
    assert not Message.objects.filter(conversation=chat, body__in=refused_bodies).exists()
    last_seq = Conversation.objects.get(pk=chat.pk).last_seq
    assert last_seq == Message.objects.filter(conversation=chat).count()  # no gaps
