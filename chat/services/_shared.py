"""What the chat services share: the routing lock, announcing changes after commit,
system lines, seq numbers and assignment."""

from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import protocol, selectors, text
from chat.models import (
    Conversation,
    Message,
    StateCounter,
    Visitor,
)
from chat.system_messages import system_text
from community.models import Expert
from config.errors import ServiceError
from realtime import async_db, broadcast

ROUTING_LOCK_KEY = 7_310_001


def _lock_routing() -> None:
    """Serialise routing decisions across processes (SQLite already has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROUTING_LOCK_KEY])


def _announce_conversation(conversation: Conversation) -> None:
    # In the changing transaction: the row is ours, so versions follow the changes.
    Conversation.objects.filter(pk=conversation.pk).update(state_version=F("state_version") + 1)
    conversation.refresh_from_db(fields=["state_version"])
    frame = protocol.ConversationFrame(
        type="conversation", conversation=selectors.conversation_data(conversation)
    )
    broadcast.send_after_commit(broadcast.conversation_group(conversation.pk), frame)
    broadcast.ring_staff_monitor()


def state_counter_bump(name: str) -> None:
    """Move a StateCounter after the change it counts has committed: a read that
    sees the new version then sees the change too (both in one statement)."""
    table = StateCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, version) VALUES (%s, 1)"
            f" ON CONFLICT (name) DO UPDATE SET version = {table}.version + 1",
            [name],
        )


def _announce_queue() -> None:
    """One event per change, however long the queue: each process then reads the
    positions once for all its waiting widgets (chat.consumers.base.QueuePositions)."""

    def send() -> None:
        state_counter_bump(StateCounter.QUEUE)
        broadcast.send_committed(broadcast.QUEUE, protocol.QueueChanged(type="queue.changed"))

    transaction.on_commit(send, robust=True)
    broadcast.ring_staff_monitor()


def announce_availability() -> None:
    """Open widgets switch between the chat and the offline form as shifts change.
    Counted after commit: a count read inside two concurrent changes would give
    both the same version."""
    transaction.on_commit(
        lambda: broadcast.send_committed(broadcast.WIDGETS, selectors.availability_frame()),
        robust=True,
    )


def _post_system_message(*, conversation: Conversation, event: str, **params: str) -> Message:
    with translation.override(settings.LANGUAGE_CODE):
        body = system_text(event, params)
    return _append_message(
        conversation_id=conversation.pk,
        sender=Message.Sender.SYSTEM,
        author=None,
        body=body,
        system_event=event,
        system_params=params,
    )


# Who may still write into an open chat, as SQL on the conversation row.
_OPEN_TO = {
    "visitor": "visitor_id = %s AND customer_left_at IS NULL",
    "expert": "expert_id = %s",
    "staff_member": "staff_member_id = %s",
}


def _message_text(body: str, *, empty: str) -> str:
    """Text as stored (chat.text.normalized); refused when nothing of it is visible."""
    body = text.normalized(body)
    if not body:
        raise ServiceError("bad_field", empty)
    if not text.visible_length(body):
        raise ServiceError(
            "no_visible_text", _("This message has no visible characters; write some text.")
        )
    return body


def _next_seq_sql(*, conversation_id: int, open_to: tuple[str, Any] | None) -> tuple[str, list]:
    """UPDATE ... RETURNING last_seq: takes the next message number and locks the row.

    With `open_to` (a participant field and its value) only while the chat is open
    to them.
    """
    sql = f"UPDATE {Conversation._meta.db_table} SET last_seq = last_seq + 1 WHERE id = %s"
    params: list[Any] = [conversation_id]
    if open_to is not None:
        field, value = open_to
        sql += f" AND status IN (%s, %s) AND {_OPEN_TO[field]}"
        params += [
            Conversation.Status.WAITING,
            Conversation.Status.ACTIVE,
            Conversation._meta.get_field(field).get_db_prep_value(
                value.pk, async_db.sql_connection()
            ),
        ]
    return sql + " RETURNING last_seq", params


def _take_next_seq(*, conversation_id: int, open_to: tuple[str, Any] | None = None) -> int | None:
    """The conversation's next message number; its row stays locked until commit."""
    with connection.cursor() as cursor:
        cursor.execute(*_next_seq_sql(conversation_id=conversation_id, open_to=open_to))
        row = cursor.fetchone()
    return row[0] if row else None


def _append_message(
    *, conversation_id: int, sender: str, author, body: str, client_id: str = "", **system
) -> Message:
    """Append with the next sequence number; the row lock is held until commit."""
    message = Message.objects.create(
        conversation_id=conversation_id,
        seq=_take_next_seq(conversation_id=conversation_id),
        sender=sender,
        author=author,
        body=body,
        client_id=client_id,
        **system,
    )
    _announce_message(message)
    return message


def _message_frame(message: Message, author: str | None = None) -> protocol.MessageFrame:
    return protocol.MessageFrame(
        type="message",
        conversation=message.conversation_id,
        message=selectors.message_data(message, author=author),
    )


def _announce_message(message: Message, *, author: str | None = None) -> None:
    broadcast.send_after_commit(
        broadcast.conversation_group(message.conversation_id), _message_frame(message, author)
    )


def _assign(*, conversation: Conversation, expert: Expert) -> bool:
    now = timezone.now()
    # Conditional: even if two routers raced, the slot is only taken while free.
    took_slot = Expert.objects.filter(
        pk=expert.pk, open_chat_count__lt=F("max_concurrent_chats")
    ).update(open_chat_count=F("open_chat_count") + 1, last_assigned_at=now)
    if not took_slot:
        return False
    conversation.status = Conversation.Status.ACTIVE
    conversation.expert = expert
    conversation.assigned_at = now
    conversation.save(update_fields=["status", "expert", "assigned_at"])
    joined = _post_system_message(
        conversation=conversation, event="joined", name=expert.display_name
    )
    conversation.last_seq = joined.seq
    broadcast.send_after_commit(
        broadcast.expert_group(expert.pk),
        protocol.ChatAssigned(
            type="chat.assigned", conversation=selectors.conversation_data(conversation)
        ),
    )
    _announce_conversation(conversation)
    return True


def queue_drain() -> int:
    """Assign waiting chats, oldest first, to the least-loaded available experts.

    Must run inside a transaction; returns how many chats were assigned.
    """
    _lock_routing()
    assigned = 0
    waiting = Conversation.objects.select_related("visitor").filter(
        status=Conversation.Status.WAITING
    )
    # Chats only the experts on their own network could take wait; the next go on.
    passed_over: list[int] = []
    while True:
        conversation = waiting.exclude(pk__in=passed_over).order_by("queued_at", "pk").first()
        if conversation is None:
            break
        expert = (
            selectors.experts_who_may_serve(conversation)
            .order_by("open_chat_count", F("last_assigned_at").asc(nulls_first=True), "pk")
            .first()
        )
        if expert is None:
            if not selectors.available_experts().exists():
                break
            passed_over.append(conversation.pk)
            continue
        if _assign(conversation=conversation, expert=expert):
            assigned += 1
    if assigned:
        _announce_queue()
    return assigned


def _check_participant(
    *,
    conversation: Conversation | None,
    visitor: Visitor | None,
    expert: Expert | None,
    staff_member=None,
) -> Conversation:
    """Refuse anyone who is not this chat's customer, its expert or the staff member
    who took it over."""
    allowed = conversation is not None and (
        (visitor is not None and conversation.visitor_id == visitor.pk)
        or (expert is not None and conversation.expert_id == expert.pk)
        or (staff_member is not None and conversation.staff_member_id == staff_member.pk)
    )
    if not allowed:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    return conversation


def _read_receipt_frame(*, conversation_id: int, by_customer: bool, seq: int) -> protocol.Receipt:
    return protocol.Receipt(
        type="receipt",
        conversation=conversation_id,
        reader="customer" if by_customer else "expert",
        status="read",
        seq=seq,
    )


def _locked_active(*, conversation_id: int, expert: Expert) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or conversation.expert_id != expert.pk:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    if conversation.status != Conversation.Status.ACTIVE:
        raise ServiceError("chat_closed", _("This chat is already closed."))
    return conversation


def _release_slot(expert: Expert) -> None:
    Expert.objects.filter(pk=expert.pk).update(open_chat_count=F("open_chat_count") - 1)


def _locked_for_customer(*, conversation_id: int, visitor: Visitor) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor", "expert", "staff_member")
        .filter(pk=conversation_id, visitor=visitor)
        .first()
    )
    if conversation is None:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    return conversation
