"""Messages: stored before anyone hears of them, numbered without gaps, never doubled."""

import threading
from datetime import timedelta

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chat import selectors, services
from chat.models import Conversation, FollowUp, Message
from config.errors import ServiceError
from realtime import broadcast
from tests.conftest import run_jobs

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
    inbox = listen(broadcast.conversation_group(chat.pk))
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["conversation_mark_read", "conversation_mark_read_live"])
def test_read_marks_only_move_forward_and_are_announced_once(path, live_chat, make_visitor, listen):
    """Sockets mark a chat read on their event loop (conversation_mark_read_live), as
    one statement; the rules are those of the database-thread path."""

    def mark_read(**fields) -> None:
        if path == "conversation_mark_read":
            services.conversation_mark_read(**fields)
        else:
            async_to_sync(services.conversation_mark_read_live)(**fields)

    chat, expert = live_chat
    inbox = listen(broadcast.conversation_group(chat.pk))
    mark_read(conversation_id=chat.pk, expert=expert, seq=1)
    mark_read(conversation_id=chat.pk, expert=expert, seq=1)  # a double send
    mark_read(conversation_id=chat.pk, expert=expert, seq=99)  # past the last message
    mark_read(conversation_id=chat.pk, expert=expert, seq=1)  # late, out of order
    mark_read(conversation_id=chat.pk, visitor=chat.visitor, seq=2)
    with pytest.raises(ServiceError) as stranger:
        mark_read(conversation_id=chat.pk, visitor=make_visitor(), seq=2)
    assert stranger.value.code == "not_found"
    chat.refresh_from_db()
    assert (chat.expert_read_seq, chat.customer_read_seq) == (2, 2)  # capped, never back
    assert [(f["reader"], f["seq"]) for f in inbox.frames()] == [
        ("expert", 1),
        ("expert", 2),
        ("customer", 2),
    ]


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
    inbox = listen(broadcast.visitor_group(chat.visitor_id))
    with django_capture_on_commit_callbacks(execute=True):
        services.followup_send(
            conversation_id=chat.pk, expert=expert, body="A better fix: update the firmware."
        )
    [frame] = inbox.frames()
    assert frame["type"] == "followup"
    assert frame["follow_up"]["body"] == "A better fix: update the firmware."
    assert mailoutbox == []  # sent by the worker, not by the socket's thread
    run_jobs()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["sam@example.com"]


def test_a_follow_up_whose_transaction_rolls_back_sends_no_mail(live_chat, mailoutbox):
    chat, expert = live_chat
    chat.visitor.email = "sam@example.com"
    chat.visitor.save()
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.followup_send(
            conversation_id=chat.pk, expert=expert, body="A better fix: update the firmware."
        )
        raise RuntimeError("something later in the same transaction failed")
    run_jobs()
    assert mailoutbox == [] and not FollowUp.objects.exists()


def test_a_mail_that_fails_is_sent_again_later(live_chat, mailoutbox, monkeypatch):
    """The mail server is an edge we do not own: it refuses once, then accepts."""
    from django.core.mail.backends.locmem import EmailBackend

    refusals = []

    def flaky_send(self, messages):
        if not refusals:
            refusals.append(messages)
            raise ConnectionRefusedError("mail server down")
        return original_send(self, messages)

    original_send = EmailBackend.send_messages
    monkeypatch.setattr(EmailBackend, "send_messages", flaky_send)
    chat, expert = live_chat
    chat.visitor.email = "sam@example.com"
    chat.visitor.save()
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    services.followup_send(
        conversation_id=chat.pk, expert=expert, body="A better fix: update the firmware."
    )
    run_jobs()
    assert len(refusals) == 1 and mailoutbox == []
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after > timezone.now() + timedelta(seconds=20)  # backs off, not at once
    run_jobs()
    assert mailoutbox == []  # not due yet
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())  # time passes
    run_jobs()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["sam@example.com"]


def test_follow_up_needs_a_resolved_chat_and_content(live_chat):
    chat, expert = live_chat
    with pytest.raises(ServiceError):
        services.followup_send(
            conversation_id=chat.pk, expert=expert, body="Too early for a follow-up, surely."
        )
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
@pytest.mark.parametrize("path", ["message_post", "message_post_live"])
def test_outside_a_transaction_a_message_is_one_statement_with_the_same_rules(
    path, live_chat, make_visitor, listen, django_assert_num_queries
):
    """Sockets post outside any transaction, where PostgreSQL numbers and stores a
    message in one statement: in the database thread (message_post) or awaited on
    the socket's event loop (message_post_live). The rules are the same as above."""

    def post(**fields) -> Message:
        if path == "message_post":
            return services.message_post(**fields)[0]
        return async_to_sync(services.message_post_live)(**fields)

    chat, expert = live_chat
    visitor = chat.visitor
    inbox = listen(broadcast.conversation_group(chat.pk))
    if path == "message_post":
        with django_assert_num_queries(1):
            message = post(conversation_id=chat.pk, visitor=visitor, body="Hello?", client_id="c1")
    else:
        message = post(conversation_id=chat.pk, visitor=visitor, body="Hello?", client_id="c1")
    stored = Message.objects.get(pk=message.pk)
    assert (stored.seq, stored.body, stored.sender) == (3, "Hello?", "customer")
    assert not stored.whisper and stored.system_params == {} and stored.created_at
    again = post(conversation_id=chat.pk, visitor=chat.visitor, body="Hello?", client_id="c1")
    assert again.pk == message.pk and again.seq == 3
    reply = post(conversation_id=chat.pk, expert=expert, body="Hi!", client_id="c1")
    assert (reply.seq, reply.author_id) == (4, expert.user_id)
    # Each new message is broadcast once, with the author's name; the retry is not.
    assert [(f["message"]["seq"], f["message"]["author"]) for f in inbox.frames()] == [
        (3, None),
        (4, "Anna de Vries"),
    ]

    with pytest.raises(ServiceError) as stranger:
        post(conversation_id=chat.pk, visitor=make_visitor(), body="Hi", client_id="s1")
    assert stranger.value.code == "not_found"
    with pytest.raises(ServiceError) as empty:
        post(conversation_id=chat.pk, visitor=visitor, body="  ", client_id="c9")
    assert empty.value.code == "bad_field"
    services.conversation_leave(conversation_id=chat.pk, visitor=chat.visitor)
    with pytest.raises(ServiceError) as left:
        post(conversation_id=chat.pk, visitor=chat.visitor, body="Wait", client_id="c2")
    assert left.value.code == "chat_closed"
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="Paired.")
    with pytest.raises(ServiceError) as closed:
        post(conversation_id=chat.pk, expert=expert, body="Bye", client_id="e2")
    assert closed.value.code == "chat_closed"
    refused_bodies = {"Hi", "Wait", "Bye"}
    assert not Message.objects.filter(conversation=chat, body__in=refused_bodies).exists()
    last_seq = Conversation.objects.get(pk=chat.pk).last_seq
    assert last_seq == Message.objects.filter(conversation=chat).count()  # no gaps


@pytest.mark.django_db(transaction=True)
async def test_a_socket_message_does_not_queue_behind_the_database_thread(live_chat):
    """Slow work in a process's one database thread (a catch-up read, a drop) does not
    hold up chat messages: sockets store them on the event loop."""
    chat, _ = live_chat
    visitor = await database_sync_to_async(lambda: chat.visitor)()
    release = threading.Event()
    busy = SyncToAsync.single_thread_executor.submit(release.wait, 30)
    try:
        message = await services.message_post_live(
            conversation_id=chat.pk, visitor=visitor, body="Still there?", client_id="c1"
        )
        stored_while_busy = not busy.done()
    finally:
        release.set()
    assert stored_while_busy and message.seq == 3
    stored = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert (stored.seq, stored.body) == (3, "Still there?")


@pytest.mark.django_db(transaction=True)
async def test_a_socket_message_survives_its_idle_connection_being_cut(live_chat):
    """A database restart or a firewall's idle timeout kills idle connections: the
    next message goes through on a new one instead of failing."""
    chat, _ = live_chat
    visitor = await database_sync_to_async(lambda: chat.visitor)()
    first = await services.message_post_live(
        conversation_id=chat.pk, visitor=visitor, body="One", client_id="c1"
    )

    def cut_the_sockets_connections() -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND query LIKE 'WITH bumped%%'"
            )
            return cursor.rowcount

    assert await database_sync_to_async(cut_the_sockets_connections)() >= 1
    second = await services.message_post_live(
        conversation_id=chat.pk, visitor=visitor, body="Two", client_id="c2"
    )
    assert (first.seq, second.seq) == (3, 4)
    bodies = await database_sync_to_async(
        lambda: list(Message.objects.filter(conversation=chat, seq__gte=3).values_list("body"))
    )()
    assert bodies == [("One",), ("Two",)]
