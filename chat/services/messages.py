"""Storing and relaying messages and read marks: the PostgreSQL fast path and the ORM path."""

from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from catalog.models import CatalogProduct
from catalog.selectors import product_card
from chat import selectors
from chat.models import (
    Conversation,
    Message,
    Visitor,
)
from chat.services._shared import (
    _announce_message,
    _check_participant,
    _message_frame,
    _message_text,
    _next_seq_sql,
    _read_receipt_frame,
    _take_next_seq,
)
from community.models import Expert
from config.errors import ServiceError
from realtime import async_db, broadcast
from realtime.frames import Relay


def _new_message(
    *,
    conversation_id: int,
    visitor: Visitor | None,
    expert: Expert | None,
    staff_member,
    body: str,
    client_id: str,
    product: str = "",
) -> tuple[Message, tuple[str, Any], str | None]:
    """A checked, unsaved message, who the chat must be open to, and the author's name.
    With `product` (a SKU) it is a product card; only experts and staff send them."""
    card = _product_card(product, conversation_id=conversation_id) if product else None
    if card and visitor:
        raise ServiceError("forbidden", _("Only experts share product cards."))
    if card:
        body = f"{card['name']} {card['url']}"
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
        card=card,
    )
    return message, open_to, author


def _product_card(sku: str, *, conversation_id: int) -> dict[str, Any]:
    """The catalog product as a card whose link tells the shop which chat sent the
    shopper (the `bx_chat` parameter, for chat-assisted sales)."""
    product = CatalogProduct.objects.filter(sku=sku).first()
    if product is None:
        raise ServiceError("not_found", _("This product is not in the catalog."))
    card = product_card(product)
    parts = urlsplit(card["url"])
    query = urlencode([*parse_qsl(parts.query), ("bx_chat", str(conversation_id))])
    return {**card, "url": urlunsplit(parts._replace(query=query))}


def message_post(
    *,
    conversation_id: int,
    visitor: Visitor | None = None,
    expert: Expert | None = None,
    staff_member=None,
    body: str,
    client_id: str,
    product: str = "",
) -> tuple[Message, bool]:
    """Store a message from the customer or the expert; returns (message, created).

    A retry with the same client_id returns the stored message, never a second one.
    """
    participant = {"visitor": visitor, "expert": expert, "staff_member": staff_member}
    message, open_to, author = _new_message(
        conversation_id=conversation_id,
        body=body,
        client_id=client_id,
        product=product,
        **participant,
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
    product: str = "",
) -> Message:
    """`message_post` for sockets, on their event loop.

    On PostgreSQL a new message is one statement awaited on the loop (realtime/async_db.py)
    and broadcast from it. Refusals, retries and SQLite take `message_post` in the
    database thread, which explains the refusal or returns the stored message, and so
    do product cards, which read the catalog.
    """
    participant = {"visitor": visitor, "expert": expert, "staff_member": staff_member}
    if async_db.available() and not product:
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
        message_post,
        conversation_id=conversation_id,
        body=body,
        client_id=client_id,
        product=product,
        **participant,
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


def _check_open(
    *, conversation_id: int, visitor: Visitor | None, expert: Expert | None, staff_member
) -> None:
    """Refuse, saying why, unless the chat is open to this participant."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    _check_participant(
        conversation=conversation, visitor=visitor, expert=expert, staff_member=staff_member
    )
    if conversation.status not in (Conversation.Status.WAITING, Conversation.Status.ACTIVE):
        raise ServiceError("chat_closed", _("This chat has ended."))
    if visitor is not None and conversation.customer_left_at is not None:
        raise ServiceError("chat_closed", _("You left this chat."))


def _refuse_message(
    *, conversation_id: int, visitor: Visitor | None, expert: Expert | None, staff_member
) -> None:
    """Say why a message could not go into this chat."""
    _check_open(
        conversation_id=conversation_id, visitor=visitor, expert=expert, staff_member=staff_member
    )
    raise ServiceError("chat_closed", _("You left this chat."))


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


async def ephemeral_relay(*, conversation_id: int, frame: dict, sender_channel: str) -> None:
    """Typing and delivery receipts: relayed at once to the other side, never stored.

    The caller has already checked that the sender takes part in the chat.
    """
    await get_channel_layer().group_send(
        broadcast.conversation_group(conversation_id),
        Relay(type="relay", frame=frame, skip_channel=sender_channel),
    )
