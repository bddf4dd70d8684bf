"""Writes of the chat: starting chats, the FIFO queue, messages, closing and rating.

Routing changes (assign, resolve, transfer, requeue) run under one routing
lock per database, so the queue is served strictly first come, first served;
the CHECK on Expert.open_chat_count is the last line that keeps the cap.
"""

import logging
import uuid
from datetime import timedelta
from functools import cache, reduce
from operator import or_
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import selectors, text
from chat.models import (
    ERASED_EMAIL,
    Conversation,
    FollowUp,
    Message,
    MessageReport,
    OfflineMessage,
    StateCounter,
    TranscriptDelivery,
    Visitor,
)
from chat.system_messages import system_text
from community.audit import audit_record
from community.models import AuditEntry, Expert, ExpertApplication
from config import jobs
from config.errors import ServiceError
from config.limits import RateLimited, enforce_limit, wait_text
from points import services as points_services
from realtime import async_db, broadcast

logger = logging.getLogger(__name__)

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
    frame = {"type": "conversation", "conversation": selectors.conversation_data(conversation)}
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
    positions once for all its waiting widgets (chat.consumers.QueuePositions)."""

    def send() -> None:
        state_counter_bump(StateCounter.QUEUE)
        broadcast.send_committed(broadcast.QUEUE, {"type": "queue.changed"})

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


def _message_frame(message: Message, author: str | None = None) -> dict[str, Any]:
    return {
        "type": "message",
        "conversation": message.conversation_id,
        "message": selectors.message_data(message, author=author),
    }


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
        {"type": "chat.assigned", "conversation": selectors.conversation_data(conversation)},
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


def visitor_create(*, network: str) -> Visitor:
    """A new anonymous visitor, at most RATE_LIMITS["widget.visitor"] per network."""
    if network:
        enforce_limit("widget.visitor", network)
    return Visitor.objects.create()


def _refuse_crowding(*, visitor: Visitor, network: str) -> None:
    """One visitor, or one network of fresh visitors, cannot fill the queue."""
    hour_ago = timezone.now() - timedelta(hours=1)
    recent = list(
        Conversation.objects.filter(visitor=visitor, created_at__gte=hour_ago)
        .order_by("created_at")
        .values_list("created_at", flat=True)[: settings.CHAT_NEW_CHATS_PER_VISITOR_PER_HOUR]
    )
    if len(recent) >= settings.CHAT_NEW_CHATS_PER_VISITOR_PER_HOUR:
        retry_after = max(1, int((recent[0] - hour_ago).total_seconds()))
        raise RateLimited(
            retry_after,
            _("You started many chats in a short time. Try again in %(wait)s.")
            % {"wait": wait_text(retry_after)},
        )
    if not network:
        return
    waiting = Conversation.objects.filter(
        status=Conversation.Status.WAITING, customer_network=network
    ).count()
    if waiting >= settings.CHAT_MAX_WAITING_PER_NETWORK:
        retry_after = settings.CHAT_ABANDON_AFTER_SECONDS
        raise RateLimited(
            retry_after,
            _(
                "Several chats from your network are already waiting for an expert. "
                "Try again in %(wait)s."
            )
            % {"wait": wait_text(retry_after)},
        )
    enforce_limit("widget.chat", network)


@transaction.atomic
def conversation_start(
    *, visitor: Visitor, topic: str, name: str = "", email: str = "", network: str = ""
) -> Conversation:
    """Open a chat for the visitor, or return the one already open (double clicks).

    `network` is the customer's IPv4 address or IPv6 /64 ("" when unknown): new
    chats and waiting chats are capped per network as well as per visitor.
    The routing lock is taken first, so queue order is commit order.
    """
    topic = _message_text(topic, empty=_("A message cannot be empty."))
    _lock_routing()
    open_chat = Conversation.objects.filter(
        visitor=visitor, status__in=["waiting", "active"]
    ).first()
    if open_chat:
        return selectors.conversation_get(conversation_id=open_chat.pk)
    _refuse_crowding(visitor=visitor, network=network)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ServiceError("bad_field", _("Enter a valid email address.")) from None
    if name or email:
        visitor.name = name or visitor.name
        visitor.email = email or visitor.email
        visitor.save(update_fields=["name", "email"])
    now = timezone.now()
    conversation = Conversation.objects.create(
        visitor=visitor,
        topic=topic,
        created_at=now,
        queued_at=now,
        customer_seen_at=now,
        customer_network=network,
    )
    _append_message(
        conversation_id=conversation.pk, sender=Message.Sender.CUSTOMER, author=None, body=topic
    )
    if not queue_drain():
        _announce_queue()
    # Read with what a socket shows of it, so the widget needs no second trip.
    return selectors.conversation_get(conversation_id=conversation.pk)


def _new_message(
    *,
    conversation_id: int,
    visitor: Visitor | None,
    expert: Expert | None,
    staff_member,
    body: str,
    client_id: str,
) -> tuple[Message, tuple[str, Any], str | None]:
    """A checked, unsaved message, who the chat must be open to, and the author's name."""
    body = _message_text(body, empty=_("A message cannot be empty."))
    if len(body) > settings.CHAT_MAX_MESSAGE_LENGTH:
        raise ServiceError(
            "too_long",
            _("Messages can be at most %(max)d characters.")
            % {"max": settings.CHAT_MAX_MESSAGE_LENGTH},
        )
    if visitor:
        sender, open_to, author = Message.Sender.CUSTOMER, ("visitor", visitor), None
    elif staff_member:
        sender, open_to = Message.Sender.STAFF, ("staff_member", staff_member)
        author = selectors.user_name(staff_member)
    else:
        sender, open_to, author = Message.Sender.EXPERT, ("expert", expert), expert.display_name
    message = Message(
        conversation_id=conversation_id,
        sender=sender,
        author_id=expert.user_id if expert else (staff_member.pk if staff_member else None),
        body=body,
        client_id=client_id,
    )
    return message, open_to, author


def message_post(
    *,
    conversation_id: int,
    visitor: Visitor | None = None,
    expert: Expert | None = None,
    staff_member=None,
    body: str,
    client_id: str,
) -> tuple[Message, bool]:
    """Store a message from the customer or the expert; returns (message, created).

    A retry with the same client_id returns the stored message, never a second one.
    """
    participant = {"visitor": visitor, "expert": expert, "staff_member": staff_member}
    message, open_to, author = _new_message(
        conversation_id=conversation_id, body=body, client_id=client_id, **participant
    )
    try:
        stored = _store_with_next_seq(message, open_to=open_to)
    except IntegrityError:
        # The unique client_id: a retry of a message that is already stored.
        existing = Message.objects.filter(
            conversation_id=conversation_id, sender=message.sender, client_id=client_id
        ).first()
        if existing is None:
            raise
        if existing.body != message.body:
            # Two tabs reusing an id: the second text would silently vanish.
            raise ServiceError(
                "duplicate_client_id",
                _("Another message was already sent with this id. Send it again."),
            ) from None
        return existing, False
    if not stored:
        _refuse_message(conversation_id=conversation_id, **participant)
    _announce_message(message, author=author)
    return message, True


async def message_post_live(
    *,
    conversation_id: int,
    visitor: Visitor | None = None,
    expert: Expert | None = None,
    staff_member=None,
    body: str,
    client_id: str,
) -> Message:
    """`message_post` for sockets, on their event loop.

    On PostgreSQL a new message is one statement awaited on the loop (realtime/async_db.py)
    and broadcast from it. Refusals, retries and SQLite take `message_post` in the
    database thread, which explains the refusal or returns the stored message.
    """
    participant = {"visitor": visitor, "expert": expert, "staff_member": staff_member}
    if async_db.available():
        message, open_to, author = _new_message(
            conversation_id=conversation_id, body=body, client_id=client_id, **participant
        )
        try:
            rows = await async_db.fetch(*_store_statement(message, open_to=open_to))
        except IntegrityError:  # the unique client_id: a retry
            rows = []
        if rows:
            _mark_stored(message, *rows)
            await broadcast.broadcast(
                broadcast.conversation_group(conversation_id), _message_frame(message, author)
            )
            return message
    message, _created = await broadcast.database_call(
        message_post, conversation_id=conversation_id, body=body, client_id=client_id, **participant
    )
    return message


def _store_with_next_seq(message: Message, *, open_to: tuple[str, Any]) -> bool:
    """Number and store a message if the chat is open to its sender; False if not.

    On PostgreSQL outside a transaction this is one statement (_store_statement), so
    one round trip and its own transaction.
    """
    if connection.vendor != "postgresql" or not connection.get_autocommit():
        with transaction.atomic():
            message.seq = _take_next_seq(conversation_id=message.conversation_id, open_to=open_to)
            if message.seq is not None:
                message.save(force_insert=True)
        return message.seq is not None
    with connection.cursor() as cursor:
        cursor.execute(*_store_statement(message, open_to=open_to))
        row = cursor.fetchone()
    if row is None:
        return False
    _mark_stored(message, row)
    return True


def _mark_stored(message: Message, row: tuple[int, int]) -> None:
    """Take the id and seq that _store_statement returned."""
    message.id, message.seq = row
    message._state.adding = False


def _store_statement(message: Message, *, open_to: tuple[str, Any]) -> tuple[str, list]:
    """PostgreSQL: number and insert a message in one statement, returning (id, seq),
    or no row when the chat is not open to its sender."""
    bump, bump_params = _next_seq_sql(conversation_id=message.conversation_id, open_to=open_to)
    insert, fields = _insert_after_bump_sql()
    database = async_db.sql_connection()
    params = [f.get_db_prep_save(getattr(message, f.attname), database) for f in fields]
    return f"WITH bumped AS ({bump}) {insert}", [*bump_params, *params]


@cache
def _insert_after_bump_sql() -> tuple[str, list]:
    """INSERT of a message numbered by the `bumped` UPDATE, and the fields it binds."""
    fields = [f for f in Message._meta.concrete_fields if f.name not in ("id", "seq")]
    database = async_db.sql_connection()
    columns = ", ".join(database.ops.quote_name(f.column) for f in fields)
    values = ", ".join(f"%s::{f.db_type(database)}" for f in fields)
    sql = (
        f"INSERT INTO {Message._meta.db_table} (seq, {columns}) "
        f"SELECT last_seq, {values} FROM bumped RETURNING id, seq"
    )
    return sql, fields


def _refuse_message(
    *, conversation_id: int, visitor: Visitor | None, expert: Expert | None, staff_member
) -> None:
    """Say why a message could not go into this chat."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    _check_participant(
        conversation=conversation, visitor=visitor, expert=expert, staff_member=staff_member
    )
    if conversation.status not in (Conversation.Status.WAITING, Conversation.Status.ACTIVE):
        raise ServiceError("chat_closed", _("This chat has ended."))
    raise ServiceError("chat_closed", _("You left this chat."))


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


@transaction.atomic
def conversation_mark_read(
    *, conversation_id: int, visitor: Visitor | None = None, expert: Expert | None = None, seq: int
) -> None:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    _check_participant(conversation=conversation, visitor=visitor, expert=expert)
    field = "customer_read_seq" if visitor else "expert_read_seq"
    seq = min(seq, conversation.last_seq)
    if seq <= getattr(conversation, field):
        return
    Conversation.objects.filter(pk=conversation_id).update(**{field: Greatest(F(field), seq)})
    broadcast.send_after_commit(
        broadcast.conversation_group(conversation_id),
        _read_receipt_frame(conversation_id=conversation_id, by_customer=bool(visitor), seq=seq),
    )


async def conversation_mark_read_live(
    *, conversation_id: int, visitor: Visitor | None = None, expert: Expert | None = None, seq: int
) -> None:
    """`conversation_mark_read` for sockets, on their event loop.

    Clients send one per batch of messages they display, so on PostgreSQL it is one
    statement awaited on the loop (realtime/async_db.py), like a message. A receipt that
    moves nothing, or from someone not in the chat, takes the database thread, which
    explains the refusal or does nothing.
    """
    if async_db.available():
        field = "customer_read_seq" if visitor else "expert_read_seq"
        reader_column, reader = ("visitor_id", visitor.pk) if visitor else ("expert_id", expert.pk)
        rows = await async_db.fetch(
            f"UPDATE {Conversation._meta.db_table} SET {field} = LEAST(%s, last_seq)"
            f" WHERE id = %s AND {reader_column} = %s AND {field} < LEAST(%s, last_seq)"
            f" RETURNING {field}",
            [seq, conversation_id, reader, seq],
        )
        if rows:
            await broadcast.broadcast(
                broadcast.conversation_group(conversation_id),
                _read_receipt_frame(
                    conversation_id=conversation_id, by_customer=bool(visitor), seq=rows[0][0]
                ),
            )
            return
    await broadcast.database_call(
        conversation_mark_read,
        conversation_id=conversation_id,
        visitor=visitor,
        expert=expert,
        seq=seq,
    )


def _read_receipt_frame(*, conversation_id: int, by_customer: bool, seq: int) -> dict[str, Any]:
    return {
        "type": "receipt",
        "conversation": conversation_id,
        "reader": "customer" if by_customer else "expert",
        "status": "read",
        "seq": seq,
    }


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


@transaction.atomic
def conversation_resolve(*, conversation_id: int, expert: Expert, summary: str) -> Conversation:
    """Close the chat as resolved, free the expert's slot and serve the queue."""
    _lock_routing()
    conversation = _locked_active(conversation_id=conversation_id, expert=expert)
    conversation.status = Conversation.Status.RESOLVED
    conversation.resolved_at = timezone.now()
    conversation.resolution_summary = summary
    conversation.save(update_fields=["status", "resolved_at", "resolution_summary"])
    _release_slot(expert)
    _post_system_message(conversation=conversation, event="resolved")
    conversation.refresh_from_db()
    points_services.points_award_for_resolved_chat(conversation=conversation)
    broadcast.send_after_commit(
        broadcast.expert_group(expert.pk),
        {"type": "chat.removed", "conversation": conversation.pk, "reason": "resolved"},
    )
    _announce_conversation(conversation)
    queue_drain()
    return conversation


@transaction.atomic
def conversation_transfer(
    *, conversation_id: int, expert: Expert, to_expert_id: int, note: str = ""
) -> Conversation:
    """Hand a live chat to another expert with a free slot; a note goes with it to
    the experts only (a whisper: the customer never receives it)."""
    _lock_routing()
    conversation = _locked_active(conversation_id=conversation_id, expert=expert)
    target = selectors.available_experts().exclude(pk=expert.pk).filter(pk=to_expert_id).first()
    if target is None:
        raise ServiceError(
            "expert_unavailable", _("That expert is not on shift or has no free chat slot.")
        )
    took_slot = Expert.objects.filter(
        pk=target.pk, open_chat_count__lt=F("max_concurrent_chats")
    ).update(open_chat_count=F("open_chat_count") + 1, last_assigned_at=timezone.now())
    if not took_slot:
        raise ServiceError(
            "expert_unavailable", _("That expert is not on shift or has no free chat slot.")
        )
    _release_slot(expert)
    conversation.expert = target
    conversation.save(update_fields=["expert"])
    _post_system_message(
        conversation=conversation,
        event="transferred",
        **{"from": expert.display_name, "to": target.display_name},
    )
    if note := text.normalized(note).strip():
        _append_message(
            conversation_id=conversation.pk,
            sender=Message.Sender.EXPERT,
            author=expert.user,
            body=note[:300],
            whisper=True,
        )
    conversation.refresh_from_db()
    broadcast.send_after_commit(
        broadcast.expert_group(expert.pk),
        {"type": "chat.removed", "conversation": conversation.pk, "reason": "transferred"},
    )
    broadcast.send_after_commit(
        broadcast.expert_group(target.pk),
        {"type": "chat.assigned", "conversation": selectors.conversation_data(conversation)},
    )
    _announce_conversation(conversation)
    queue_drain()
    return conversation


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


@transaction.atomic
def conversation_leave(*, conversation_id: int, visitor: Visitor) -> Conversation:
    """The customer ends the chat: a waiting chat leaves the queue, an active one
    stays with the expert until they resolve it."""
    _lock_routing()
    conversation = _locked_for_customer(conversation_id=conversation_id, visitor=visitor)
    if conversation.status == Conversation.Status.WAITING:
        conversation.status = Conversation.Status.ABANDONED
        conversation.save(update_fields=["status"])
        _announce_queue()
    elif conversation.status == Conversation.Status.ACTIVE and not conversation.customer_left_at:
        conversation.customer_left_at = timezone.now()
        conversation.save(update_fields=["customer_left_at"])
        _post_system_message(conversation=conversation, event="customer_left")
    else:
        return conversation
    conversation.refresh_from_db()
    _announce_conversation(conversation)
    return conversation


@transaction.atomic
def conversation_rate(
    *, conversation_id: int, visitor: Visitor, rating: int, comment: str = ""
) -> Conversation:
    conversation = _locked_for_customer(conversation_id=conversation_id, visitor=visitor)
    if conversation.expert_id is None and conversation.staff_member_id is None:
        raise ServiceError("invalid_state", _("Only a chat someone answered can be rated."))
    if conversation.rating is not None:
        raise ServiceError("already_rated", _("You already rated this chat. Thank you!"))
    conversation.rating = rating
    conversation.rating_comment = comment
    conversation.rated_at = timezone.now()
    conversation.save(update_fields=["rating", "rating_comment", "rated_at"])
    points_services.points_award_for_rating(conversation=conversation)
    _announce_conversation(conversation)
    return conversation


@transaction.atomic
def transcript_email(
    *, conversation_id: int, visitor: Visitor, network: str, site_url: str
) -> TranscriptDelivery:
    """Mail the transcript to the visitor's address, once per chat and address.

    An address the visitor has not confirmed first gets a short mail with a link
    (and no text the customer typed); the transcript follows when it is opened.
    """
    conversation = Conversation.objects.filter(pk=conversation_id, visitor=visitor).first()
    if conversation is None:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    visitor.refresh_from_db(fields=["email", "confirmed_email"])  # confirmed in a browser
    if not visitor.email:
        raise ServiceError("no_email", _("Leave your email address first."))
    delivery, created = TranscriptDelivery.objects.get_or_create(
        conversation=conversation, email=visitor.email
    )
    if not created:
        if delivery.sent_at:
            raise ServiceError(
                "already_sent",
                _("The transcript of this chat was already sent to %(email)s.")
                % {"email": delivery.email},
            )
        raise ServiceError(
            "confirmation_pending",
            _("We already sent a link to %(email)s. Open it to receive the transcript.")
            % {"email": delivery.email},
        )
    if network:
        enforce_limit("widget.transcript", network)
    if visitor.confirmed_email == visitor.email:
        _transcript_send(delivery)
    else:
        link = site_url.rstrip("/") + reverse(
            "transcript_confirm",
            kwargs={"token": signing.dumps(delivery.pk, salt=selectors.TRANSCRIPT_CONFIRM_SALT)},
        )
        jobs.mail_enqueue(
            subject=_("Confirm your email address for %(brand)s") % {"brand": settings.BRAND_NAME},
            message=_(
                "Someone asked for a chat transcript from %(brand)s to be sent to this "
                "address. If that was you, open this link within two days:\n\n%(link)s\n\n"
                "If it was not you, ignore this mail: nothing more will be sent."
            )
            % {"brand": settings.BRAND_NAME, "link": link},
            to=[delivery.email],
        )
    return delivery


def _transcript_send(delivery: TranscriptDelivery) -> None:
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["sent_at"])
    transcript = selectors.transcript_text(conversation=delivery.conversation)
    jobs.mail_enqueue(
        # Never the topic: a subject line must carry nothing a stranger typed.
        subject=_("Your chat transcript from %(brand)s") % {"brand": settings.BRAND_NAME},
        message=transcript,
        to=[delivery.email],
    )


@transaction.atomic
def transcript_confirm(*, token: str) -> TranscriptDelivery:
    """The link in the confirmation mail was opened: the address is the visitor's,
    and the transcript goes out (once)."""
    delivery = selectors.transcript_delivery_from_token(token=token)
    if delivery is None:
        raise ServiceError("bad_link", _("This link is invalid or has expired."))
    delivery = TranscriptDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.sent_at is None:
        Visitor.objects.filter(pk=delivery.conversation.visitor_id).update(
            confirmed_email=delivery.email
        )
        _transcript_send(delivery)
    return delivery


@transaction.atomic
def followup_send(
    *, conversation_id: int, expert: Expert, body: str, request_key: uuid.UUID | None = None
) -> FollowUp:
    """A follow-up after a resolved chat; the customer sees it on the next visit.
    The same request_key again returns the follow-up it already sent."""
    if request_key is not None:
        already = FollowUp.objects.filter(expert=expert, request_key=request_key).first()
        if already is not None:
            return already
    conversation = (
        Conversation.objects.select_related("visitor")
        .filter(pk=conversation_id, expert=expert)
        .first()
    )
    if conversation is None:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    if conversation.status != Conversation.Status.RESOLVED:
        raise ServiceError("invalid_state", _("Follow-ups are for resolved chats."))
    body = _message_text(body, empty=_("A follow-up cannot be empty."))
    minimum = points_services.MIN_FOLLOW_UP_CHARACTERS
    if text.visible_length(body) < minimum:
        raise ServiceError(
            "too_short",
            _("A follow-up needs real content: at least %(min)d characters, not counting spaces.")
            % {"min": minimum},
        )
    try:
        with transaction.atomic():
            follow_up = FollowUp.objects.create(
                conversation=conversation, expert=expert, body=body, request_key=request_key
            )
    except IntegrityError:  # the same form, posted twice at once
        return FollowUp.objects.get(expert=expert, request_key=request_key)
    points_services.points_award_for_follow_up(follow_up=follow_up)
    broadcast.send_after_commit(
        broadcast.visitor_group(conversation.visitor_id),
        {"type": "followup", "follow_up": selectors.follow_up_data(follow_up)},
    )
    visitor = conversation.visitor
    if visitor.email:
        # What the customer typed goes only to an address they proved is theirs.
        about = f"{conversation.topic}\n\n" if visitor.confirmed_email == visitor.email else ""
        jobs.mail_enqueue(
            subject=_("%(name)s followed up on your question") % {"name": expert.display_name},
            message=f"{about}{body}",
            to=[visitor.email],
        )
    return follow_up


def followup_mark_seen(*, follow_up_id: int, visitor: Visitor) -> None:
    FollowUp.objects.filter(
        pk=follow_up_id, conversation__visitor=visitor, seen_at__isnull=True
    ).update(seen_at=timezone.now())


def followup_dismiss(*, follow_up_id: int, visitor: Visitor) -> None:
    """The customer closes a follow-up: it leaves the widget, in every open tab."""
    dismissed = FollowUp.objects.filter(
        pk=follow_up_id, conversation__visitor=visitor, dismissed_at__isnull=True
    ).update(dismissed_at=timezone.now())
    if dismissed:
        broadcast.send_after_commit(
            broadcast.visitor_group(visitor.pk),
            {"type": "followup.dismissed", "follow_up": follow_up_id},
        )


@transaction.atomic
def followup_mark_helpful(*, follow_up_id: int, visitor: Visitor) -> FollowUp:
    """The customer found a follow-up helpful: once per follow-up."""
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("conversation", "expert")
        .filter(pk=follow_up_id, conversation__visitor=visitor)
        .first()
    )
    if follow_up is None:
        raise ServiceError("not_found", _("This follow-up does not exist or is not yours."))
    if follow_up.marked_helpful_at is None:
        follow_up.marked_helpful_at = timezone.now()
        follow_up.seen_at = follow_up.seen_at or follow_up.marked_helpful_at
        follow_up.save(update_fields=["marked_helpful_at", "seen_at"])
        points_services.points_award_for_helpful_follow_up(follow_up=follow_up)
    return follow_up


def offline_message_leave(
    *, visitor: Visitor, name: str, email: str, body: str, network: str = ""
) -> OfflineMessage:
    try:
        validate_email(email)
    except ValidationError:
        raise ServiceError("bad_field", _("Enter a valid email address.")) from None
    body = _message_text(body, empty=_("A message cannot be empty."))
    if network:
        enforce_limit("widget.offline", network)
    message = OfflineMessage.objects.create(visitor=visitor, name=name, email=email, body=body)
    broadcast.send_after_commit(
        broadcast.STAFF, {"type": "offline.new", "id": message.pk, "email": email}
    )
    return message


def offline_message_claim(*, message_id: int, expert: Expert) -> None:
    """The expert takes an offline message to answer; from now on only they (and
    staff) see the customer's address. One expert per message."""
    claimed = OfflineMessage.objects.filter(
        pk=message_id, handled_at__isnull=True, claimed_by__isnull=True
    ).update(claimed_by=expert, claimed_at=timezone.now())
    if not claimed and not OfflineMessage.objects.filter(pk=message_id, claimed_by=expert).exists():
        raise ServiceError("not_found", _("Another expert already answers this message."))


def offline_message_mark_answered(*, message_id: int, expert: Expert) -> None:
    answered = OfflineMessage.objects.filter(
        pk=message_id, claimed_by=expert, handled_at__isnull=True
    ).update(handled_at=timezone.now())
    if not answered:
        raise ServiceError("not_found", _("This message is not yours to answer."))


@transaction.atomic
def expert_chats_requeue(*, expert: Expert, event: str) -> int:
    """Put the expert's open chats back at the front of the queue."""
    _lock_routing()
    conversations = list(
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor")
        .filter(expert=expert, status=Conversation.Status.ACTIVE)
    )
    for conversation in conversations:
        conversation.status = Conversation.Status.WAITING
        conversation.expert = None
        conversation.save(update_fields=["status", "expert"])
        _post_system_message(conversation=conversation, event=event)
        broadcast.send_after_commit(
            broadcast.expert_group(expert.pk),
            {"type": "chat.removed", "conversation": conversation.pk, "reason": "requeued"},
        )
        conversation.refresh_from_db()
        _announce_conversation(conversation)
    Expert.objects.filter(pk=expert.pk).update(open_chat_count=0)
    if not queue_drain():
        _announce_queue()
    return len(conversations)


def announce_expert_presence(*, expert_id: int, online: bool) -> None:
    """Tell the customers in the expert's open chats that their console is gone
    (the chat keeps its place) or back."""
    for conversation_id in Conversation.objects.filter(
        expert_id=expert_id, status=Conversation.Status.ACTIVE
    ).values_list("pk", flat=True):
        broadcast.send_after_commit(
            broadcast.conversation_group(conversation_id),
            {"type": "expert.presence", "conversation": conversation_id, "online": online},
        )


def absent_experts_requeue() -> int:
    """Requeue the chats of experts with no live console lease past the grace period."""
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_DISCONNECT_GRACE_SECONDS)
    absent = Expert.objects.filter(
        ~selectors.live_lease_exists(), open_chat_count__gt=0, last_seen_at__lt=cutoff
    )
    requeued = 0
    for expert in absent:
        with transaction.atomic():
            Expert.objects.filter(pk=expert.pk).update(
                on_shift=False, state_version=F("state_version") + 1
            )
            requeued += expert_chats_requeue(expert=expert, event="requeued")
            announce_availability()
    return requeued


def customer_presence_mark(*, visitor: Visitor, conversation_ids: list[int]) -> dict[int, int]:
    """The customer has these chats open in a widget right now (resume and pings).
    Returns the state version of each chat still open."""
    open_chats = Conversation.objects.filter(
        pk__in=conversation_ids,
        visitor=visitor,
        status__in=[Conversation.Status.WAITING, Conversation.Status.ACTIVE],
    )
    open_chats.update(customer_seen_at=timezone.now())
    for conversation_id in open_chats.filter(customer_gone_at__isnull=False).values_list(
        "pk", flat=True
    ):
        _customer_back(conversation_id=conversation_id)
    return dict(open_chats.values_list("pk", "state_version"))


async def customer_presence_mark_live(
    *, visitor: Visitor, conversation_ids: list[int]
) -> dict[int, int]:
    """`customer_presence_mark` for the widget's pings: on PostgreSQL one statement
    on the socket's event loop; only a customer coming back takes the database thread."""
    if not async_db.available():
        return await broadcast.database_call(
            customer_presence_mark, visitor=visitor, conversation_ids=conversation_ids
        )
    rows = await async_db.fetch(
        f"UPDATE {Conversation._meta.db_table} SET customer_seen_at = %s"
        " WHERE id = ANY(%s) AND visitor_id = %s AND status IN ('waiting', 'active')"
        " RETURNING id, customer_gone_at IS NOT NULL, state_version",
        [timezone.now(), conversation_ids, visitor.pk],
    )
    versions = {}
    for conversation_id, was_gone, version in rows:
        versions[conversation_id] = version
        if was_gone:
            await broadcast.database_call(_customer_back, conversation_id=conversation_id)
    return versions


@transaction.atomic
def _customer_back(*, conversation_id: int) -> None:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor", "expert", "staff_member")
        .filter(pk=conversation_id, customer_gone_at__isnull=False)
        .first()
    )
    if conversation is None:
        return
    conversation.customer_gone_at = None
    conversation.save(update_fields=["customer_gone_at"])
    _post_system_message(conversation=conversation, event="customer_back")
    conversation.refresh_from_db()
    _announce_conversation(conversation)


def customers_away_sweep() -> int:
    """Chats whose customer has had no widget open for CHAT_ABANDON_AFTER_SECONDS:
    a waiting one leaves the queue as abandoned, an active one is shown to the
    expert as gone. Safe to run in every process at once. Returns how many changed."""
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_ABANDON_AFTER_SECONDS)
    away = Conversation.objects.filter(customer_seen_at__lt=cutoff)
    changed = 0
    if away.filter(status=Conversation.Status.WAITING).exists():
        with transaction.atomic():
            _lock_routing()
            for conversation in (
                away.select_for_update(of=("self",))
                .select_related("visitor", "expert", "staff_member")
                .filter(status=Conversation.Status.WAITING)
            ):
                conversation.status = Conversation.Status.ABANDONED
                conversation.save(update_fields=["status"])
                _post_system_message(conversation=conversation, event="abandoned")
                conversation.refresh_from_db()
                _announce_conversation(conversation)
                changed += 1
            if changed:
                _announce_queue()
    gone = away.filter(
        status=Conversation.Status.ACTIVE,
        customer_gone_at__isnull=True,
        customer_left_at__isnull=True,
    )
    for conversation_id in gone.values_list("pk", flat=True):
        with transaction.atomic():
            conversation = (
                gone.select_for_update(of=("self",), skip_locked=True)
                .select_related("visitor", "expert", "staff_member")
                .filter(pk=conversation_id)
                .first()
            )
            if conversation is None:  # resumed, resolved or swept elsewhere meanwhile
                continue
            conversation.customer_gone_at = timezone.now()
            conversation.save(update_fields=["customer_gone_at"])
            _post_system_message(conversation=conversation, event="customer_gone")
            conversation.refresh_from_db()
            _announce_conversation(conversation)
            changed += 1
    return changed


async def ephemeral_relay(*, conversation_id: int, frame: dict, sender_channel: str) -> None:
    """Typing and delivery receipts: relayed at once to the other side, never stored.

    The caller has already checked that the sender takes part in the chat.
    """
    await get_channel_layer().group_send(
        broadcast.conversation_group(conversation_id),
        {"type": "relay", "frame": frame, "skip_channel": sender_channel},
    )


# -- staff moderation -------------------------------------------------------------


@transaction.atomic
def staff_whisper(*, conversation_id: int, staff_member, body: str) -> Message:
    """A note to the expert inside the chat; the customer never receives it."""
    body = _message_text(body, empty=_("A message cannot be empty."))
    conversation = (
        Conversation.objects.select_for_update(of=("self",)).filter(pk=conversation_id).first()
    )
    if conversation is None or conversation.status != Conversation.Status.ACTIVE:
        raise ServiceError("chat_closed", _("You can only whisper into a live chat."))
    message = _append_message(
        conversation_id=conversation.pk,
        sender=Message.Sender.STAFF,
        author=staff_member,
        body=body[: settings.CHAT_MAX_MESSAGE_LENGTH],
        whisper=True,
    )
    audit_record(actor=staff_member, action="whisper", subject=conversation)
    return message


@transaction.atomic
def conversation_take_over(*, conversation_id: int, staff_member) -> Conversation:
    """Staff take the chat from the expert, whose slot is freed for the queue."""
    _lock_routing()
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor", "expert", "staff_member")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or conversation.status != Conversation.Status.ACTIVE:
        raise ServiceError("chat_closed", _("This chat is not live."))
    if conversation.staff_member_id:
        raise ServiceError("invalid_state", _("Staff already took this chat over."))
    expert = conversation.expert
    _release_slot(expert)
    conversation.expert = None
    conversation.staff_member = staff_member
    conversation.save(update_fields=["expert", "staff_member"])
    name = staff_member.get_full_name() or staff_member.get_username()
    _post_system_message(conversation=conversation, event="taken_over", name=name)
    conversation.refresh_from_db()
    broadcast.send_after_commit(
        broadcast.expert_group(expert.pk),
        {"type": "chat.removed", "conversation": conversation.pk, "reason": "taken_over"},
    )
    _announce_conversation(conversation)
    audit_record(actor=staff_member, action="take_over", subject=conversation)
    queue_drain()
    return conversation


@transaction.atomic
def message_hide(*, conversation_id: int, seq: int, staff_member, reason: str) -> Message:
    """Hide a message from the customer and the transcript; it is kept for audit."""
    if not reason.strip():
        raise ServiceError("bad_field", _("Say why the message is hidden."))
    message = (
        Message.objects.select_for_update()
        .filter(conversation_id=conversation_id, seq=seq, hidden_at__isnull=True)
        .first()
    )
    if message is None:
        raise ServiceError("not_found", _("No such message, or it is already hidden."))
    message.hidden_at = timezone.now()
    message.hidden_by = staff_member
    message.hidden_reason = reason.strip()[:300]
    message.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    MessageReport.objects.filter(message=message, handled_at__isnull=True).update(
        handled_at=message.hidden_at, handled_by=staff_member
    )
    frame = {"type": "message.hidden", "conversation": conversation_id, "seq": seq}
    broadcast.send_after_commit(broadcast.conversation_group(conversation_id), frame)
    broadcast.send_after_commit(broadcast.STAFF, frame)
    audit_record(actor=staff_member, action="hide_message", subject=message, reason=reason)
    return message


def message_report(
    *, conversation_id: int, seq: int, visitor: Visitor, reason: str
) -> MessageReport:
    """A customer reports a message they were shown; once per message and customer."""
    message = (
        Message.objects.filter(
            conversation_id=conversation_id,
            conversation__visitor=visitor,
            seq=seq,
            whisper=False,
        )
        .exclude(sender=Message.Sender.CUSTOMER)
        .first()
    )
    if message is None:
        raise ServiceError("not_found", _("This message does not exist or is not yours."))
    report, created = MessageReport.objects.get_or_create(
        message=message, visitor=visitor, defaults={"reason": reason.strip()[:300]}
    )
    if created:
        broadcast.send_after_commit(
            broadcast.STAFF,
            {"type": "report.new", "conversation": conversation_id, "seq": seq, "id": report.pk},
        )
    return report


@transaction.atomic
def conversation_close_by_staff(
    *, conversation_id: int, staff_member, summary: str
) -> Conversation:
    """Staff end a chat they took over (no points: no expert resolved it)."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor")
        .filter(pk=conversation_id, staff_member=staff_member, status=Conversation.Status.ACTIVE)
        .first()
    )
    if conversation is None:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    conversation.status = Conversation.Status.RESOLVED
    conversation.resolved_at = timezone.now()
    conversation.resolution_summary = summary
    conversation.save(update_fields=["status", "resolved_at", "resolution_summary"])
    _post_system_message(conversation=conversation, event="closed_by_staff")
    conversation.refresh_from_db()
    _announce_conversation(conversation)
    audit_record(actor=staff_member, action="close_chat", subject=conversation, reason=summary)
    return conversation


def message_report_dismiss(*, report_id: int, staff_member) -> None:
    """The reported message stays visible; the report is closed and audited."""
    with transaction.atomic():
        report = (
            MessageReport.objects.select_for_update()
            .filter(pk=report_id, handled_at__isnull=True)
            .first()
        )
        if report is None:
            raise ServiceError("not_found", _("This report was already handled."))
        report.handled_at = timezone.now()
        report.handled_by = staff_member
        report.save(update_fields=["handled_at", "handled_by"])
        audit_record(actor=staff_member, action="dismiss_report", subject=report)


ERASED = "[erased]"


@transaction.atomic
def visitor_erase(*, email: str, staff_member) -> dict[str, int]:
    """Right to erasure: everything a customer wrote or left, under every address they
    used (chat/selectors.customer_records), and their visitor tokens.

    Conversations, ratings and ledger entries stay, so metrics and balances do not
    change; audit entries keep who did what and when, without the customer's words.
    Returns how many visitors, offline messages and applications were erased.
    """
    visitor_ids, addresses = selectors.customer_records(email=email)
    visitors = list(Visitor.objects.select_for_update().filter(pk__in=visitor_ids))
    conversations = Conversation.objects.filter(visitor__in=visitor_ids)
    messages = Message.objects.filter(conversation__in=conversations)
    reports = MessageReport.objects.filter(visitor__in=visitor_ids)
    offline = OfflineMessage.objects.filter(
        Q(visitor__in=visitor_ids) | selectors.matching_address("email", addresses)
    )
    applications = ExpertApplication.objects.filter(
        Q(visitor__in=visitor_ids) | selectors.matching_address("email", addresses)
    )
    about_customer = [
        ("visitor", [str(pk) for pk in visitor_ids]),
        ("conversation", conversations.values_list("pk", flat=True)),
        ("message", messages.values_list("pk", flat=True)),
        ("messagereport", reports.values_list("pk", flat=True)),
        ("offlinemessage", offline.values_list("pk", flat=True)),
        ("expertapplication", applications.values_list("pk", flat=True)),
    ]
    AuditEntry.objects.filter(
        reduce(
            or_,
            [
                Q(subject_type=kind, subject_id__in=[str(pk) for pk in ids])
                for kind, ids in about_customer
            ]
            + [Q(subject__icontains=a) | Q(reason__icontains=a) for a in addresses],
        )
    ).update(subject=ERASED, reason="")

    messages.exclude(sender=Message.Sender.SYSTEM).update(body=ERASED, client_id="")
    messages.update(hidden_reason="")  # staff may have quoted the customer
    reports.update(reason="")
    FollowUp.objects.filter(conversation__in=conversations).update(body=ERASED)
    conversations.update(
        topic=ERASED, rating_comment="", resolution_summary="", customer_network=""
    )
    TranscriptDelivery.objects.filter(conversation__in=conversations).delete()
    erased = {
        "offline_messages": offline.update(name="", email=ERASED_EMAIL, body=ERASED),
        "applications": applications.update(
            name=ERASED,
            email=ERASED_EMAIL,
            motivation=ERASED,
            product_areas="",
            availability="",
            decision_reason="",
        ),
        "visitors": len(visitors),
    }
    for visitor in visitors:
        visitor.name, visitor.email, visitor.confirmed_email = "", "", ""
        # Old tokens stop working, and an open widget is closed (it starts afresh).
        visitor.token_generation += 1
        visitor.save(update_fields=["name", "email", "confirmed_email", "token_generation"])
        broadcast.send_after_commit(
            broadcast.visitor_group(visitor.pk), {"type": "visitor.revoked"}
        )
        audit_record(actor=staff_member, action="erase_customer", subject=visitor)
    return erased
