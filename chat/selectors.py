"""Reads for the chat: snapshots and history sent to clients, the queue, visitors.

Longer than most modules (about 600 lines, 40-odd small reads): each read is a few
lines that its writer in chat/services/ and its socket in chat/consumers/ share, and
splitting them by caller would put the same snapshot (conversation_data,
message_data) in several places."""

from datetime import UTC, datetime, timedelta
from functools import cache, reduce
from math import ceil
from operator import or_
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from chat import protocol
from chat.models import (
    ERASED_EMAIL,
    Conversation,
    FollowUp,
    Message,
    OfflineMessage,
    Photo,
    StateCounter,
    TranscriptDelivery,
    Visitor,
)
from chat.system_messages import system_text
from community.models import ConsoleLease, Expert, ExpertApplication, ShiftSlot
from community.selectors import next_staffed_shift_start
from realtime import async_db
from realtime.broadcast import database_call

VISITOR_TOKEN_SALT = "chat.visitor"
DEFAULT_HANDLE_SECONDS = 300
# A closed chat stays in the widget this long so the customer can rate it.
RECENT_CLOSED_WINDOW = timedelta(hours=2)


def visitor_token(visitor: Visitor) -> str:
    """A signed, timestamped token: valid for VISITOR_TOKEN_MAX_AGE_DAYS from when it
    was issued (each `welcome` issues a fresh one) and until the visitor's generation
    is raised."""
    return signing.dumps(
        [str(visitor.pk), visitor.token_generation], salt=VISITOR_TOKEN_SALT, compress=True
    )


TRANSCRIPT_CONFIRM_SALT = "chat.transcript-confirm"


def transcript_delivery_from_token(*, token: str) -> TranscriptDelivery | None:
    try:
        delivery_id = signing.loads(
            token,
            salt=TRANSCRIPT_CONFIRM_SALT,
            max_age=timedelta(seconds=settings.TRANSCRIPT_CONFIRM_MAX_AGE_SECONDS),
        )
    except signing.BadSignature:
        return None
    return (
        TranscriptDelivery.objects.select_related("conversation__visitor")
        .filter(pk=delivery_id)
        .first()
    )


def visitor_from_token(token: str | None) -> Visitor | None:
    """The token's visitor; None for no token and for a forged, expired or revoked one."""
    if not token:
        return None
    try:
        payload = signing.loads(
            token,
            salt=VISITOR_TOKEN_SALT,
            max_age=timedelta(days=settings.VISITOR_TOKEN_MAX_AGE_DAYS),
        )
    except signing.BadSignature:  # SignatureExpired included
        return None
    # Tokens issued before generations existed carry the id alone: generation 0.
    visitor_id, generation = (payload, 0) if isinstance(payload, str) else payload
    return Visitor.objects.filter(pk=visitor_id, token_generation=generation).first()


PHOTO_LINK_SALT = "chat.photo"


def photo_links(photo_id: int) -> dict[str, str]:
    """Paths to a photo and its thumbnail, signed and expiring after
    CHAT_PHOTO_URL_MAX_AGE_SECONDS: they go only to the chat's participants and staff,
    in the frames that show the photo, and each replay signs them afresh."""
    sign = signing.dumps
    return {
        variant: reverse("chat_photo", args=[sign([photo_id, variant], salt=PHOTO_LINK_SALT)])
        for variant in ("url", "thumbnail")
    }


def photo_from_link(token: str) -> tuple[Photo, str] | None:
    """The photo and variant ("url" or "thumbnail") a link names; None for a forged
    or expired one."""
    try:
        photo_id, variant = signing.loads(
            token, salt=PHOTO_LINK_SALT, max_age=settings.CHAT_PHOTO_URL_MAX_AGE_SECONDS
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    photo = Photo.objects.select_related("message", "conversation").filter(pk=photo_id).first()
    return (photo, variant) if photo is not None else None


def matching_address(field: str, addresses: set[str]) -> Q:
    """`field` equals one of `addresses`, ignoring case."""
    return reduce(or_, (Q(**{f"{field}__iexact": address}) for address in addresses))


def customer_records(*, email: str) -> tuple[set, set[str]]:
    """Every visitor id and address one customer used, starting from one address.

    Addresses lead to visitors (their own email, offline messages, applications);
    visitors lead to the addresses they left there; repeated until nothing new turns up.
    """
    addresses, visitor_ids = {email.strip().lower()}, set()
    while True:
        by_address = (
            set(
                Visitor.objects.filter(matching_address("email", addresses)).values_list(
                    "pk", flat=True
                )
            )
            | set(
                OfflineMessage.objects.filter(matching_address("email", addresses))
                .exclude(visitor=None)
                .values_list("visitor_id", flat=True)
            )
            | set(
                ExpertApplication.objects.filter(matching_address("email", addresses))
                .exclude(visitor=None)
                .values_list("visitor_id", flat=True)
            )
        )
        found_visitors = visitor_ids | by_address
        used = [
            *Visitor.objects.filter(pk__in=found_visitors).values_list("email", flat=True),
            *OfflineMessage.objects.filter(visitor__in=found_visitors).values_list(
                "email", flat=True
            ),
            *ExpertApplication.objects.filter(visitor__in=found_visitors).values_list(
                "email", flat=True
            ),
            *Visitor.objects.filter(pk__in=found_visitors).values_list(
                "confirmed_email", flat=True
            ),
            *TranscriptDelivery.objects.filter(
                conversation__visitor__in=found_visitors
            ).values_list("email", flat=True),
        ]
        found_addresses = addresses | {a.lower() for a in used if a and a != ERASED_EMAIL}
        if (found_visitors, found_addresses) == (visitor_ids, addresses):
            return visitor_ids, addresses
        visitor_ids, addresses = found_visitors, found_addresses


def offline_messages_for_expert(*, expert: Expert, limit: int = 20) -> list[dict[str, Any]]:
    """Open offline messages nobody else answers; the address only on the ones this
    expert took (staff see every address on their own pages)."""
    messages = OfflineMessage.objects.filter(handled_at__isnull=True).filter(
        Q(claimed_by__isnull=True) | Q(claimed_by=expert)
    )
    return [
        {
            "id": message.pk,
            "name": message.name,
            "body": message.body,
            "created_at": message.created_at,
            "email": message.email if message.claimed_by_id == expert.pk else None,
        }
        for message in messages.order_by("-created_at")[:limit]
    ]


def user_name(user) -> str:
    return user.get_full_name() or user.get_username()


def author_name(message: Message) -> str | None:
    if not message.author_id:
        return None
    # Staff who also have an expert profile write as staff under their own name.
    is_expert = message.sender == Message.Sender.EXPERT
    expert = getattr(message.author, "expert", None) if is_expert else None
    return expert.display_name if expert is not None else user_name(message.author)


# What `messages_after_live` reads of each message and of its author (author_name).
_MESSAGE_COLUMNS = (
    "seq",
    "sender",
    "author_id",
    "body",
    "whisper",
    "card",
    "photo_id",
    "hidden_at",
    "system_event",
    "system_params",
    "created_at",
)
_AUTHOR_COLUMNS = ("author__first_name", "author__last_name", "author__expert__display_name")


def message_data(
    message: Message, *, author: str | None = None, reader: str = "expert"
) -> dict[str, Any]:
    """A message as sockets send it to `reader`; `author` saves looking up the
    author's name."""
    data = {
        "seq": message.seq,
        "sender": message.sender,
        "author": author if author is not None else author_name(message),
        "body": message.body,
        "at": message.created_at.isoformat(),
    }
    if message.whisper:
        data["whisper"] = True
    if message.card:
        data["card"] = message.card
    if message.photo_id:
        data["photo"] = photo_links(message.photo_id)
    if message.hidden_at:
        data["hidden"] = True
        if reader == "customer":  # a placeholder shows where it was; the words are gone
            data["body"] = ""
            data.pop("card", None)
            data.pop("photo", None)
    if message.system_event:
        data["event"] = message.system_event
        data["params"] = message.system_params
        data["body"] = system_text(message.system_event, message.system_params, reader=reader)
    return data


def last_seqs(*, conversation_ids: list[int]) -> dict[int, int]:
    return dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("pk", "last_seq"))


async def last_seqs_live(*, conversation_ids: list[int]) -> dict[int, int]:
    """`last_seqs` for sockets: on PostgreSQL, read on their event loop (config/async_db)."""
    if not async_db.available():
        return await database_call(last_seqs, conversation_ids=conversation_ids)
    table = Conversation._meta.db_table
    sql = f"SELECT id, last_seq FROM {table} WHERE id = ANY(%s)"  # one statement, any count
    return dict(await async_db.fetch(sql, [conversation_ids]))


def customer_visible(messages):
    """Whispers to the expert and messages staff hid never reach the customer."""
    return messages.filter(whisper=False, hidden_at__isnull=True)


def _messages_after(*, conversation_id: int, last_seq: int, for_customer: bool):
    messages = Message.objects.filter(conversation_id=conversation_id, seq__gt=last_seq)
    if for_customer:  # hidden messages come as placeholders (message_data)
        messages = messages.filter(whisper=False)
    return messages.order_by("seq")


def messages_after(
    *, conversation_id: int, last_seq: int, for_customer: bool = False
) -> list[dict[str, Any]]:
    reader = "customer" if for_customer else "expert"
    return [
        message_data(m, reader=reader)
        for m in _messages_after(
            conversation_id=conversation_id, last_seq=last_seq, for_customer=for_customer
        ).select_related("author__expert")
    ]


@cache
def _messages_after_sql(*, for_customer: bool) -> tuple[str, list[Any]]:
    """The query of `messages_after_live`, compiled once, with the names of its two
    arguments in the place of their parameters. Compiling the ORM query for every
    read was a tenth of a Daphne's event loop in a burst of new chats."""
    stand_ins = {7_310_101: "conversation_id", 7_310_102: "last_seq"}
    username = f"author__{get_user_model().USERNAME_FIELD}"
    query = (
        _messages_after(conversation_id=7_310_101, last_seq=7_310_102, for_customer=for_customer)
        .values_list(*_MESSAGE_COLUMNS, *_AUTHOR_COLUMNS, username)
        .query
    )
    sql, params = query.get_compiler(connection=async_db.sql_connection()).as_sql()
    return sql, [stand_ins.get(param, param) for param in params]


async def messages_after_live(
    *, conversation_id: int, last_seq: int, for_customer: bool = False
) -> list[dict[str, Any]]:
    """`messages_after` for sockets: on PostgreSQL the same query, one statement on
    their event loop. Every socket that follows a chat reads it: in a burst of new
    chats, each customer's widget and each expert's console (docs/performance.md,
    "Assignment")."""
    arguments = {"conversation_id": conversation_id, "last_seq": last_seq}
    if not async_db.available():
        return await database_call(messages_after, **arguments, for_customer=for_customer)
    sql, params = _messages_after_sql(for_customer=for_customer)
    params = [arguments.get(param, param) for param in params]
    reader = "customer" if for_customer else "expert"
    messages = []
    for row in await async_db.fetch(sql, params):
        message = Message(**dict(zip(_MESSAGE_COLUMNS, row, strict=False)))
        message.created_at = message.created_at.astimezone(UTC)  # as the ORM reads it
        first_name, last_name, display_name, login = row[len(_MESSAGE_COLUMNS) :]
        if message.author_id:
            # What author_name reads through the relations, from this row instead.
            user = get_user_model()(
                pk=message.author_id, first_name=first_name, last_name=last_name
            )
            setattr(user, get_user_model().USERNAME_FIELD, login)
            expert = Expert(display_name=display_name) if display_name is not None else None
            user._meta.get_field("expert").set_cached_value(user, expert)
            Message._meta.get_field("author").set_cached_value(message, user)
        messages.append(message_data(message, reader=reader))
    return messages


def expert_data(expert: Expert | None) -> dict[str, Any] | None:
    if expert is None:
        return None
    return {"id": expert.pk, "name": expert.display_name, "initials": expert.initials}


def staff_data(conversation: Conversation) -> dict[str, Any] | None:
    """The team member who took the chat over, as the customer sees them."""
    if conversation.staff_member_id is None:
        return None
    name = user_name(conversation.staff_member)
    initials = "".join(part[0] for part in name.split()[:2]).upper()
    return {"name": name, "initials": initials}


def conversation_data(conversation: Conversation, *, with_pages: bool = True) -> dict[str, Any]:
    """The chat's snapshot. `with_pages=False` leaves out the page trail (up to 20
    pages), for lists of many chats that do not show it (the staff monitor)."""
    visitor = conversation.visitor
    data = {
        "id": conversation.pk,
        "topic": conversation.topic,
        "status": conversation.status,
        # The customer's language ("" unknown): the console's saved replies follow it.
        "language": conversation.language,
        # No email: every side following the chat gets this, and experts never need it.
        "customer": {"name": visitor.name},
        "expert": expert_data(conversation.expert),
        "staff": staff_data(conversation),
        "created_at": conversation.created_at.isoformat(),
        "assigned_at": conversation.assigned_at.isoformat() if conversation.assigned_at else None,
        "customer_left": conversation.customer_left_at is not None,
        # No widget open for a while: the expert may resolve without waiting for them.
        "customer_gone": conversation.customer_gone_at is not None,
        "last_seq": conversation.last_seq,
        "customer_read_seq": conversation.customer_read_seq,
        "expert_read_seq": conversation.expert_read_seq,
        "rating": conversation.rating,
        "summary": conversation.resolution_summary,
        "version": conversation.state_version,
    }
    if with_pages:
        data["pages"] = conversation.pages
    return data


def conversation_get(*, conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_related("visitor", "expert", "staff_member")
        .filter(pk=conversation_id)
        .first()
    )


def visitor_current_conversation(*, visitor: Visitor) -> Conversation | None:
    """The open chat, or one closed recently enough to still rate."""
    recent = timezone.now() - RECENT_CLOSED_WINDOW
    return (
        Conversation.objects.select_related("visitor", "expert", "staff_member")
        .filter(visitor=visitor)
        .filter(Q(status__in=["waiting", "active"]) | Q(resolved_at__gte=recent))
        .order_by("-created_at")
        .first()
    )


def follow_up_data(follow_up: FollowUp) -> dict[str, Any]:
    return {
        "id": follow_up.pk,
        "conversation": follow_up.conversation_id,
        "topic": follow_up.conversation.topic,
        "expert": follow_up.expert.display_name,
        "body": follow_up.body,
        "at": follow_up.created_at.isoformat(),
        "seen": follow_up.seen_at is not None,
        "helpful": follow_up.marked_helpful_at is not None,
    }


def visitor_follow_ups(*, visitor: Visitor) -> list[dict[str, Any]]:
    follow_ups = FollowUp.objects.filter(
        conversation__visitor=visitor, dismissed_at__isnull=True
    ).select_related("conversation", "expert")
    return [follow_up_data(f) for f in follow_ups.order_by("-created_at")[:20]]


def live_lease_exists() -> Exists:
    return Exists(ConsoleLease.objects.filter(expert=OuterRef("pk"), expires_at__gt=timezone.now()))


def available_experts():
    """Experts who may take a new chat now: on shift, with a console whose lease is
    live, and a free slot."""
    return Expert.objects.filter(
        live_lease_exists(),
        on_shift=True,
        suspended_at__isnull=True,
        open_chat_count__lt=F("max_concurrent_chats"),
    )


def active_conversation_expert_id(*, conversation_id: int) -> int | None:
    return (
        Conversation.objects.filter(pk=conversation_id, status=Conversation.Status.ACTIVE)
        .values_list("expert_id", flat=True)
        .first()
    )


def live_lease_networks(*, expert_ids: list[int]) -> list[tuple[int, str]]:
    """(expert, network) of the experts' live consoles: routing never gives a chat to
    an expert whose console is on the network the chat was started from."""
    return list(
        ConsoleLease.objects.filter(expert_id__in=expert_ids, expires_at__gt=timezone.now())
        .exclude(network="")
        .values_list("expert_id", "network")
    )


def expert_is_online(*, expert_id: int) -> bool:
    return ConsoleLease.objects.filter(expert_id=expert_id, expires_at__gt=timezone.now()).exists()


def availability() -> tuple[int, int]:
    """(experts on shift, version): one statement, so the count is of that version."""
    totals = Expert.objects.aggregate(
        on_shift=Count("pk", filter=Q(on_shift=True, suspended_at__isnull=True)),
        version=Coalesce(Sum("state_version"), 0),
    )
    return totals["on_shift"], totals["version"]


# `availability` as two columns of one statement on an event loop (async_db).
_AVAILABILITY_COLUMNS = (
    f"(SELECT count(*) FROM {Expert._meta.db_table} WHERE on_shift AND suspended_at IS NULL),"
    f" (SELECT coalesce(sum(state_version), 0) FROM {Expert._meta.db_table})"
)


def welcome_availability() -> tuple[int, int, datetime | None]:
    """(experts on shift, availability version, start of the next shift with experts
    signed up): what a widget's `welcome` says about who can answer."""
    return (*availability(), next_staffed_shift_start())


@async_db.read_once_for_all_waiting
async def welcome_availability_live() -> tuple[int, int, datetime | None]:
    """`welcome_availability` for a socket: on PostgreSQL one statement on its event
    loop, shared by the hellos that came while the one before ran. A first-time
    shopper's `hello` then needs nothing else from the database, and no trip through
    the process's one database thread (docs/performance.md, "Handshakes")."""
    if not async_db.available():
        return await database_call(welcome_availability)
    slots, signed_up = ShiftSlot._meta.db_table, ShiftSlot.experts.through._meta.db_table
    [(on_shift, version, next_shift)] = await async_db.fetch(
        f"SELECT {_AVAILABILITY_COLUMNS},"
        f" (SELECT min(s.starts_at) FROM {slots} s WHERE s.starts_at > now()"
        f"  AND EXISTS (SELECT 1 FROM {signed_up} e WHERE e.shiftslot_id = s.id))",
        [],
    )
    return on_shift, int(version), next_shift


def experts_on_shift_count() -> int:
    return availability()[0]


def availability_frame() -> protocol.Availability:
    experts_on_shift, version = availability()
    return protocol.Availability(
        type="availability", experts_on_shift=experts_on_shift, version=version
    )


def waiting_queue() -> tuple[int, list[int]]:
    """(queue version, waiting chat ids in order), read in one statement."""
    version = StateCounter.objects.filter(name=StateCounter.QUEUE).values("version")[:1]
    rows = list(
        Conversation.objects.filter(status=Conversation.Status.WAITING)
        .order_by("queued_at", "id")
        .annotate(queue_version=Coalesce(Subquery(version), 0))
        .values_list("id", "queue_version")
    )
    if not rows:
        return queue_version(), []
    return rows[0][1], [conversation_id for conversation_id, _ in rows]


def queue_version() -> int:
    counter = StateCounter.objects.filter(name=StateCounter.QUEUE).first()
    return counter.version if counter else 0


def state_versions() -> dict[str, Any]:
    experts_on_shift, version = availability()
    return {"queue": queue_version(), "availability": (experts_on_shift, version)}


async def state_versions_live() -> dict[str, Any]:
    """`state_versions` for pings: on PostgreSQL one statement on the event loop."""
    if not async_db.available():
        return await database_call(state_versions)
    [(queue, experts_on_shift, version)] = await async_db.fetch(
        f"SELECT (SELECT version FROM {StateCounter._meta.db_table} WHERE name = %s),"
        f" {_AVAILABILITY_COLUMNS}",
        [StateCounter.QUEUE],
    )
    return {"queue": queue or 0, "availability": (experts_on_shift, int(version))}


def average_handle_seconds() -> float:
    recent = Conversation.objects.filter(
        status=Conversation.Status.RESOLVED, assigned_at__isnull=False
    ).order_by("-resolved_at")[:50]
    durations = [
        (c.resolved_at - c.assigned_at).total_seconds()
        for c in recent.only("resolved_at", "assigned_at")
    ]
    return sum(durations) / len(durations) if durations else DEFAULT_HANDLE_SECONDS


def queue_frames() -> list[protocol.Queue]:
    """A `queue` frame for every waiting chat: its place, estimated wait and the
    queue's version (screens keep the newest, whatever order frames arrive in)."""
    version, waiting = waiting_queue()
    if not waiting:
        return []
    capacity = (
        Expert.objects.filter(on_shift=True, suspended_at__isnull=True).aggregate(
            slots=Sum("max_concurrent_chats")
        )["slots"]
        or 0
    )
    handle = average_handle_seconds()
    frames = []
    for index, conversation_id in enumerate(waiting):
        rounds = ceil((index + 1) / capacity) if capacity else None
        frames.append(
            protocol.Queue(
                type="queue",
                conversation=conversation_id,
                position=index + 1,
                estimated_wait_seconds=int(rounds * handle) if rounds else -1,
                version=version,
            )
        )
    return frames


def transfer_targets(*, expert: Expert) -> list[dict[str, Any]]:
    return [expert_data(e) for e in available_experts().exclude(pk=expert.pk)]


def expert_open_conversation_ids(*, expert: Expert) -> set[int]:
    return set(
        Conversation.objects.filter(expert=expert, status=Conversation.Status.ACTIVE).values_list(
            "pk", flat=True
        )
    )


async def expert_open_conversation_ids_live(*, expert: Expert) -> set[int]:
    """`expert_open_conversation_ids` for the console's pings: on PostgreSQL, read on
    its event loop (config/async_db)."""
    if not async_db.available():
        return await database_call(expert_open_conversation_ids, expert=expert)
    table = Conversation._meta.db_table
    rows = await async_db.fetch(
        f"SELECT id FROM {table} WHERE expert_id = %s AND status = %s",
        [expert.pk, Conversation.Status.ACTIVE],
    )
    return {conversation_id for (conversation_id,) in rows}


def removal_reason(*, conversation_id: int) -> str:
    """Why a chat left its expert, as `chat.removed` words it, read from its state."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None or conversation.status == Conversation.Status.WAITING:
        return "requeued"
    if conversation.status != Conversation.Status.ACTIVE:
        return "resolved"
    return "taken_over" if conversation.staff_member_id else "transferred"


def expert_open_conversations(*, expert: Expert) -> list[Conversation]:
    return list(
        Conversation.objects.select_related("visitor", "expert", "staff_member")
        .filter(expert=expert, status=Conversation.Status.ACTIVE)
        .order_by("assigned_at")
    )


def expert_past_conversations(*, expert: Expert, limit: int = 30) -> list[Conversation]:
    return list(
        Conversation.objects.select_related("visitor", "expert", "staff_member")
        .filter(expert=expert, status=Conversation.Status.RESOLVED)
        .order_by("-resolved_at")[:limit]
    )


def customer_earlier_chats(*, conversation_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The customer's chats before this one, newest first: what the next expert should
    not ask again (topic, when, who, the summary, the rating, follow-ups sent)."""
    this = Conversation.objects.filter(pk=conversation_id).values("visitor_id", "created_at")
    this = this.first() or {"visitor_id": None, "created_at": None}
    earlier = (
        Conversation.objects.filter(
            visitor_id=this["visitor_id"], created_at__lt=this["created_at"]
        )
        .exclude(status=Conversation.Status.WAITING)
        .select_related("expert")
        .annotate(follow_ups_sent=Count("follow_ups"))
        .order_by("-created_at")[:limit]
    )
    return [
        {
            "id": chat.pk,
            "topic": chat.topic,
            "created_at": chat.created_at.isoformat(),
            "status": chat.status,
            "expert": chat.expert.display_name if chat.expert else None,
            "summary": chat.resolution_summary,
            "rating": chat.rating,
            "follow_ups": chat.follow_ups_sent,
        }
        for chat in earlier
    ]


def transcript_text(*, conversation: Conversation) -> str:
    """Plain-text transcript as the customer saw it."""
    lines = [f"{conversation.topic}", conversation.created_at.strftime("%Y-%m-%d %H:%M UTC"), ""]
    for message in (
        customer_visible(conversation.messages).select_related("author__expert").order_by("seq")
    ):
        # System lines worded for the customer, in the reader's language.
        data = message_data(message, reader="customer")
        who = data["author"] or message.get_sender_display()
        lines.append(f"[{message.created_at:%H:%M}] {who}: {data['body']}")
    return "\n".join(lines) + "\n"


def participant_conversation(
    *, conversation_id: int, visitor: Visitor | None = None, expert: Expert | None = None
) -> Conversation | None:
    """The conversation if the asker takes part in it now, else None."""
    conversation = conversation_get(conversation_id=conversation_id)
    if conversation is None:
        return None
    if visitor is not None and conversation.visitor_id == visitor.pk:
        return conversation
    if expert is not None and conversation.expert_id == expert.pk:
        return conversation
    return None


def monitor_snapshot() -> protocol.Monitor:
    """What the staff live monitor shows; a fixed number of queries."""
    now = timezone.now()
    live = list(
        Conversation.objects.filter(status__in=["waiting", "active"])
        .select_related("visitor", "expert", "staff_member")
        .defer("pages")  # up to 20 pages a chat, which the monitor's list does not show
        .order_by("queued_at", "pk")
    )
    waiting = [c for c in live if c.status == "waiting"]
    experts = Expert.objects.filter(
        Q(on_shift=True) | Q(open_chat_count__gt=0), suspended_at__isnull=True
    ).order_by("display_name")
    return protocol.Monitor(
        type="monitor",
        queue_length=len(waiting),
        longest_wait_seconds=int((now - waiting[0].queued_at).total_seconds()) if waiting else 0,
        conversations=[
            {
                **conversation_data(c, with_pages=False),
                "staff": (c.staff_member.get_full_name() or c.staff_member.get_username())
                if c.staff_member_id
                else None,
                "waiting_seconds": int((now - c.queued_at).total_seconds()),
            }
            for c in live
        ],
        experts=[
            {
                **expert_data(e),
                "on_shift": e.on_shift,
                "open_chats": e.open_chat_count,
                "max_chats": e.max_concurrent_chats,
            }
            for e in experts
        ],
    )
