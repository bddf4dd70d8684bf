"""Starting chats, the FIFO queue, resolving, transferring, leaving and rating;
presence of experts and customers."""

import asyncio
import logging
import weakref
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import events, protocol, selectors, text
from chat.models import (
    Conversation,
    Message,
    Visitor,
)
from chat.services._shared import (
    _announce_conversation,
    _announce_queue,
    _append_message,
    _lock_network,
    _lock_routing,
    _locked_active,
    _locked_for_customer,
    _message_frame,
    _message_text,
    _network_lock_keys,
    _post_system_message,
    _release_slot,
    announce_availability,
    queue_drain,
)
from community.models import Expert
from config.errors import ServiceError
from config.limits import RateLimited, enforce_limit, limit_give_back, wait_text
from realtime import async_db, broadcast

logger = logging.getLogger(__name__)


def visitor_create(*, network: str) -> Visitor:
    """A new anonymous visitor, at most RATE_LIMITS["widget.visitor"] per network."""
    if network:
        enforce_limit("widget.visitor", network)
    return Visitor.objects.create()


async def visitor_create_live(*, network: str) -> Visitor:
    """`visitor_create` for sockets: on PostgreSQL one INSERT on their event loop."""
    if not async_db.available():
        return await broadcast.database_call(visitor_create, network=network)
    if network:
        await asyncio.to_thread(enforce_limit, "widget.visitor", network)
    visitor = Visitor()
    await async_db.fetch(*_insert_select_sql(visitor))
    visitor._state.adding = False
    return visitor


def _refuse_crowding(*, visitor: Visitor, network: str) -> None:
    """One visitor, or one network of fresh visitors, cannot fill the queue."""
    hour_ago = timezone.now() - timedelta(hours=1)
    recent = list(
        Conversation.objects.filter(visitor=visitor, created_at__gte=hour_ago)
        .order_by("created_at")
        .values_list("created_at", flat=True)[: settings.CHAT_NEW_CHATS_PER_VISITOR_PER_HOUR]
    )
    if len(recent) >= settings.CHAT_NEW_CHATS_PER_VISITOR_PER_HOUR:
        raise _too_many_chats(oldest=recent[0], hour_ago=hour_ago)
    if not network:
        return
    waiting = Conversation.objects.filter(
        status=Conversation.Status.WAITING, customer_network=network
    ).count()
    if waiting >= settings.CHAT_MAX_WAITING_PER_NETWORK:
        raise _network_crowded()
    enforce_limit("widget.chat", network)


def _too_many_chats(*, oldest: datetime, hour_ago: datetime) -> RateLimited:
    retry_after = max(1, int((oldest - hour_ago).total_seconds()))
    return RateLimited(
        retry_after,
        _("You started many chats in a short time. Try again in %(wait)s.")
        % {"wait": wait_text(retry_after)},
    )


def _network_crowded() -> RateLimited:
    retry_after = settings.CHAT_ABANDON_AFTER_SECONDS
    return RateLimited(
        retry_after,
        _(
            "Several chats from your network are already waiting for an expert. "
            "Try again in %(wait)s."
        )
        % {"wait": wait_text(retry_after)},
    )


def _start_topic(*, topic: str, email: str) -> str:
    """The first message as stored; refused, like a bad email, before anything is written."""
    topic = _message_text(topic, empty=_("A message cannot be empty."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ServiceError("bad_field", _("Enter a valid email address.")) from None
    return topic


def conversation_start(
    *,
    visitor: Visitor,
    topic: str,
    name: str = "",
    email: str = "",
    network: str = "",
    language: str = "",
) -> Conversation:
    """Open a chat for the visitor, or return the one already open (double clicks).

    `network` is the customer's IPv4 address or IPv6 /64 ("" when unknown): new
    chats and waiting chats are capped per network as well as per visitor.
    `language` is the widget's (one of settings.LANGUAGES; "" when unknown).
    Only the queueing takes the routing lock, and the chat's place in the queue is
    stamped under it, so queue order is still commit order: the checks and writes
    before it run beside other customers' (docs/performance.md, "Assignment").
    Sockets on PostgreSQL use `conversation_start_live`, the same rules in SQL.
    """
    topic = _start_topic(topic=topic, email=email)
    with transaction.atomic():
        # One start at a time per visitor, and per network for its cap on waiting chats.
        Visitor.objects.select_for_update().filter(pk=visitor.pk).exists()
        _lock_network(network)
        open_chat = Conversation.objects.filter(
            visitor=visitor, status__in=["waiting", "active"]
        ).first()
        if open_chat:
            return selectors.conversation_get(conversation_id=open_chat.pk)
        _refuse_crowding(visitor=visitor, network=network)
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
            language=language,
        )
        _append_message(
            conversation_id=conversation.pk,
            sender=Message.Sender.CUSTOMER,
            author=None,
            body=topic,
        )
        # The drain stamps the chat's place in the queue under the routing lock.
        if not queue_drain():
            _announce_queue()
    # Read with what a socket shows of it, so the widget needs no second trip.
    return selectors.conversation_get(conversation_id=conversation.pk)


async def conversation_start_live(
    *,
    visitor: Visitor,
    topic: str,
    name: str = "",
    email: str = "",
    network: str = "",
    language: str = "",
) -> Conversation:
    """`conversation_start` for sockets, off the process's one database thread.

    On PostgreSQL the chat and its first message are written on the socket's event
    loop (realtime/async_db.py) in one transaction of three statements sent in one
    round trip, none under the routing lock: the visitor and network locks; the
    checks and the inserts in one statement, whose snapshot is taken after those
    locks; the commit. The chat is queued unstamped (`queued_at` equal to
    `created_at`): the drain stamps it under the routing lock. One drain in the
    database thread then serves every chat this process queued meanwhile
    (docs/performance.md, "Assignment")."""
    if not async_db.available():
        return await broadcast.database_call(
            conversation_start,
            visitor=visitor,
            topic=topic,
            name=name,
            email=email,
            network=network,
            language=language,
        )
    topic = _start_topic(topic=topic, email=email)
    # The network's limit is counted before the transaction, and given back if no
    # chat comes of it: the transaction holds one of the loop's few connections, and
    # a burst of starts queued for them (docs/performance.md, "Assignment").
    counted = await asyncio.to_thread(enforce_limit, "widget.chat", network) if network else ""
    new_id = None
    try:
        conversation, first = _new_chat(
            visitor=visitor, topic=topic, network=network, language=language
        )
        hour_ago = conversation.created_at - timedelta(hours=1)
        async with async_db.transaction() as tx:
            try:
                # One round trip with the commit; the checks still run once the locks
                # are held.
                (
                    locked,
                    [(open_id, recent, oldest, network_waiting, new_id)],
                ) = await tx.fetch_together(
                    [
                        _start_lock_sql(visitor=visitor, network=network),
                        _start_sql(conversation, first, hour_ago=hour_ago, name=name, email=email),
                    ],
                    commit=True,
                )
            except IntegrityError:  # the visitor was erased meanwhile: no row to lock
                locked = []
        if not locked:
            raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    finally:
        if counted and new_id is None:
            await asyncio.to_thread(limit_give_back, counted)
    if open_id is not None:
        return await broadcast.database_call(selectors.conversation_get, conversation_id=open_id)
    if new_id is None and recent >= settings.CHAT_NEW_CHATS_PER_VISITOR_PER_HOUR:
        raise _too_many_chats(oldest=oldest, hour_ago=hour_ago)
    if new_id is None:
        raise _network_crowded()
    visitor.name, visitor.email = name or visitor.name, email or visitor.email
    first.conversation_id = new_id
    await broadcast.broadcast(broadcast.conversation_group(new_id), _message_frame(first))
    return await _Drains.here().serve(new_id)


def _new_chat(
    *, visitor: Visitor, topic: str, network: str, language: str
) -> tuple[Conversation, Message]:
    """The unsaved chat, not yet in its place in the queue (queue_drain stamps it), and
    its first message, numbered 1 (as `_append_message` would)."""
    now = timezone.now()
    conversation = Conversation(
        visitor_id=visitor.pk,
        topic=topic,
        created_at=now,
        queued_at=now,
        customer_seen_at=now,
        customer_network=network,
        language=language,
        last_seq=1,
    )
    first = Message(seq=1, sender=Message.Sender.CUSTOMER, body=topic, created_at=now)
    return conversation, first


def _start_lock_sql(*, visitor: Visitor, network: str) -> tuple[str, list]:
    """One start at a time per visitor (double clicks), then per network (its cap on
    waiting chats), in that order as in `conversation_start`. No row: no such visitor."""
    rows = f"SELECT id FROM {Visitor._meta.db_table} WHERE id = %s FOR UPDATE"
    if not network:
        return rows, [visitor.pk]
    # The row lock is taken in the subquery, before the outer row is computed.
    return (
        f"SELECT pg_advisory_xact_lock(%s, %s)::text FROM ({rows}) AS visitor",
        [*_network_lock_keys(network), visitor.pk],
    )


def _insert_select_sql(
    instance: Any, *, source: str = "", taken: dict[str, str] | None = None
) -> tuple[str, list]:
    """INSERT of `instance`, with `source` (a CTE) as one row per row of it, whose
    columns `taken` names as expressions; the rest are the instance's values. Returns
    its id (a database-generated one is not bound)."""
    sql, fields = _insert_select_template(type(instance), source, tuple((taken or {}).items()))
    database = async_db.sql_connection()
    return sql, [f.get_db_prep_save(getattr(instance, f.attname), database) for f in fields]


@cache
def _insert_select_template(
    model: type, source: str, taken: tuple[tuple[str, str], ...]
) -> tuple[str, tuple]:
    """The statement of `_insert_select_sql` and the fields it binds: the same for
    every start, and building it was 4% of a Daphne's time in a burst of starts."""
    database, columns_taken = async_db.sql_connection(), dict(taken)
    fields = tuple(
        f
        for f in model._meta.concrete_fields
        if not f.db_returning and f.column not in columns_taken
    )
    columns = [*columns_taken, *(database.ops.quote_name(f.column) for f in fields)]
    values = [*columns_taken.values(), *(f"%s::{f.db_type(database)}" for f in fields)]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)})"
        f" SELECT {', '.join(values)}{f' FROM {source}' if source else ''} RETURNING id"
    )
    return sql, fields


def _start_sql(
    conversation: Conversation, first: Message, *, hour_ago: datetime, name: str, email: str
) -> tuple[str, list]:
    """`conversation_start`'s checks and writes in one statement: the open chat, the
    visitor's chats this hour and the network's waiting ones are read, and only when
    none refuses are the chat, its first message and the visitor's name written.
    Returns (open chat, chats this hour, the oldest of them, network's waiting, new chat)."""
    table = Conversation._meta.db_table
    visitor_id, network = conversation.visitor_id, conversation.customer_network
    chat_insert, chat_params = _insert_select_sql(conversation, source="go")
    message_insert, message_params = _insert_select_sql(
        first, source="chat", taken={"conversation_id": "chat.id"}
    )
    named, named_params = "", []
    if name or email:
        named = (
            f", named AS (UPDATE {Visitor._meta.db_table}"
            " SET name = COALESCE(NULLIF(%s, ''), name), email = COALESCE(NULLIF(%s, ''), email)"
            " WHERE id = %s AND EXISTS (SELECT FROM go))"
        )
        named_params = [name, email, visitor_id]
    sql = (
        f"WITH open_chat AS (SELECT id FROM {table} WHERE visitor_id = %s"
        " AND status IN ('waiting', 'active') ORDER BY id LIMIT 1),"
        f" recent AS (SELECT created_at FROM {table} WHERE visitor_id = %s"
        " AND created_at >= %s ORDER BY created_at LIMIT %s),"
        " crowd AS (SELECT (SELECT id FROM open_chat) AS open_id,"
        " (SELECT count(*) FROM recent) AS recent, (SELECT min(created_at) FROM recent) AS oldest,"
        f" (SELECT count(*) FROM {table} WHERE status = 'waiting' AND customer_network = %s)"
        " AS network_waiting),"
        " go AS (SELECT FROM crowd WHERE open_id IS NULL AND recent < %s"
        " AND (%s = '' OR network_waiting < %s)),"
        f" chat AS ({chat_insert}), first AS ({message_insert}){named}"
        " SELECT open_id, recent, oldest, network_waiting, (SELECT id FROM chat) FROM crowd"
    )
    limit = settings.CHAT_NEW_CHATS_PER_VISITOR_PER_HOUR
    params = [visitor_id, visitor_id, hour_ago, limit, network, limit, network]
    params += [settings.CHAT_MAX_WAITING_PER_NETWORK, *chat_params, *message_params]
    return sql, params + named_params


def queue_serve(*, conversation_ids: list[int]) -> dict[int, Conversation]:
    """Serve the queue after new chats were queued; those chats as they are now."""
    with transaction.atomic():
        if not queue_drain():
            _announce_queue()
    return {
        c.pk: c
        for c in Conversation.objects.select_related("visitor", "expert", "staff_member").filter(
            pk__in=conversation_ids
        )
    }


class _Drains:
    """One drain in the database thread at a time per event loop, for every chat
    queued before it began: in a burst of starts they share a few drains instead of
    queueing one each behind the others in that thread."""

    _per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Drains]" = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self.wanted: dict[int, asyncio.Future] = {}
        self.running: asyncio.Task | None = None

    @classmethod
    def here(cls) -> "_Drains":
        loop = asyncio.get_running_loop()
        if loop not in cls._per_loop:
            cls._per_loop[loop] = cls()
        return cls._per_loop[loop]

    async def serve(self, conversation_id: int) -> Conversation:
        """After the chat committed: served, or still waiting if no expert is free."""
        served = asyncio.get_running_loop().create_future()
        self.wanted[conversation_id] = served
        if self.running is None or self.running.done():
            self.running = asyncio.ensure_future(self.drain())
        try:
            return await served
        except (DatabaseError, ServiceError):
            # The chat is queued all the same; the next routing change serves it.
            logger.exception("could not serve the queue after chat %s", conversation_id)
            return await broadcast.database_call(
                selectors.conversation_get, conversation_id=conversation_id
            )

    async def drain(self) -> None:
        while self.wanted:
            batch, self.wanted = self.wanted, {}
            try:
                chats = await broadcast.database_call(queue_serve, conversation_ids=list(batch))
            except Exception as error:  # noqa: BLE001 - each start says it
                for served in batch.values():
                    if not served.done():
                        served.set_exception(error)
                continue
            for conversation_id, served in batch.items():
                if not served.done():
                    served.set_result(chats[conversation_id])


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
    events.chat_resolved.send(sender=Conversation, conversation=conversation)
    broadcast.send_after_commit(
        broadcast.expert_group(expert.pk),
        protocol.ChatRemoved(type="chat.removed", conversation=conversation.pk, reason="resolved"),
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
        protocol.ChatRemoved(
            type="chat.removed", conversation=conversation.pk, reason="transferred"
        ),
    )
    broadcast.send_after_commit(
        broadcast.expert_group(target.pk),
        protocol.ChatAssigned(
            type="chat.assigned", conversation=selectors.conversation_data(conversation)
        ),
    )
    _announce_conversation(conversation)
    queue_drain()
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
    events.chat_rated.send(sender=Conversation, conversation=conversation)
    _announce_conversation(conversation)
    return conversation


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
            protocol.ChatRemoved(
                type="chat.removed", conversation=conversation.pk, reason="requeued"
            ),
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
            protocol.ExpertPresence(
                type="expert.presence", conversation=conversation_id, online=online
            ),
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


def unserved_starts_drain() -> int:
    """Chats a socket committed (`conversation_start_live`) that no drain has found a
    few seconds later: their process died, or its drain failed, before serving them.
    Served as their start would have; safe to run in every process at once. Returns
    how many there were."""
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_HEARTBEAT_SECONDS)
    unserved = Conversation.objects.filter(
        status=Conversation.Status.WAITING, queued_at=F("created_at"), created_at__lt=cutoff
    ).count()
    if unserved:
        with transaction.atomic():
            if not queue_drain():
                _announce_queue()
    return unserved


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
