"""What the chat services share: the routing lock, announcing changes after commit,
system lines, seq numbers and assignment."""

import heapq
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now
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
from community.models import TURN_ORDER, Expert
from config.errors import ServiceError
from realtime import async_db, broadcast

ROUTING_LOCK_KEY = 7_310_001
NETWORK_LOCK_SPACE = 7_310_002
EARLIEST = datetime.min.replace(tzinfo=UTC)  # never assigned: first in line


def _lock_routing() -> None:
    """Serialise routing decisions across processes (SQLite already has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROUTING_LOCK_KEY])


def _network_lock_keys(network: str) -> list[int]:
    # The two-key form: its own key space, apart from ROUTING_LOCK_KEY.
    return [NETWORK_LOCK_SPACE, zlib.crc32(network.encode()) - 2**31]


def _lock_network(network: str) -> None:
    """Serialise new chats from one network (its cap on waiting chats), not everyone's."""
    if network and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", _network_lock_keys(network))


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


def _may_serve(expert: Expert, conversation: Conversation, networks: dict[int, set[str]]) -> bool:
    """Never an expert who could be the customer: same account email, or a live
    console on the network the chat was started from."""
    email = conversation.visitor.email
    if email and expert.user.email.upper() == email.upper():
        return False
    return conversation.customer_network not in networks.get(expert.pk, ())


class _Pairing(NamedTuple):
    pairs: list[tuple[Conversation, Expert]]
    anyone_passed_over: bool  # an expert was passed over for a chat
    experts_left: bool  # some expert still had a free slot at the end


def _pair_up(
    waiting: list[Conversation], experts: list[Expert], networks: dict[int, set[str]]
) -> _Pairing:
    """Oldest chat first, each to the least-loaded expert who may serve it (then the
    one who waited longest for a chat). A chat only experts on its own network could
    take is passed over; the next one goes on.

    The free experts are kept in a heap in that order: under the routing lock a burst
    pairs hundreds of chats with hundreds of experts, and comparing every pair took
    56 ms for 300 chats and 100 experts."""
    now = timezone.now()

    def ranked(expert: Expert) -> tuple[tuple[int, datetime, int], Expert]:
        # The order of TURN_ORDER, which reads the first experts in turn in SQL.
        return (expert.open_chat_count, expert.last_assigned_at or EARLIEST, expert.pk), expert

    free = [ranked(e) for e in experts if e.open_chat_count < e.max_concurrent_chats]
    heapq.heapify(free)
    pairs: list[tuple[Conversation, Expert]] = []
    anyone_passed_over = False
    for conversation in waiting:
        passed_over = []
        while free and not _may_serve(free[0][1], conversation, networks):
            passed_over.append(heapq.heappop(free))
        if free:
            _rank, expert = heapq.heappop(free)
            expert.open_chat_count += 1
            expert.last_assigned_at = now
            pairs.append((conversation, expert))
            if expert.open_chat_count < expert.max_concurrent_chats:
                heapq.heappush(free, ranked(expert))
        for entry in passed_over:
            heapq.heappush(free, entry)
        anyone_passed_over = anyone_passed_over or bool(passed_over)
        if not free:
            break
    return _Pairing(pairs, anyone_passed_over, experts_left=bool(free))


# A drain reads the first chats in line, and all of them only when free experts are
# left after pairing those.
FIRST_IN_LINE = 100


def _pair_first_in_line(
    in_line: Sequence[Conversation],
    experts_in_turn: Sequence[Expert],
    networks_of: Callable[[list[Conversation], list[Expert]], dict[int, set[str]]],
    *,
    first: int,
) -> list[tuple[Conversation, Expert]]:
    """`_pair_up` for the whole queue and every free expert, reading only the first
    `first` chats in line and as many free experts, first in turn.

    A chat's expert depends only on the chats before it, so the first chats pair as
    they would with the whole queue, and the rest matter only while an expert has a
    free slot after them. Each chat takes at most one expert who has no chat from this
    drain yet, so the first experts in turn, one per chat, are all the pairing can
    pick, unless one of them was passed over (same network or email). When either
    does not hold, it reads them all and pairs again. Reading every waiting chat and
    every free expert under the routing lock was linear in both: with 1,000 experts
    free a lone start held the lock 23 ms (64 ms before the tables were analysed), and
    with 1,000 chats waiting and no expert free every start held it 39 ms
    (docs/performance.md, "Assignment")."""
    waiting = list(in_line[:first])
    if not waiting:
        return []
    experts = list(experts_in_turn[: len(waiting)])
    pairing = _pair_up(waiting, experts, networks_of(waiting, experts))
    experts_cut = len(experts) == len(waiting)
    line_cut = len(waiting) == first
    if line_cut and (pairing.experts_left or experts_cut):
        waiting = list(in_line)
    elif not (pairing.anyone_passed_over and experts_cut):
        return pairing.pairs
    experts = list(experts_in_turn)
    return _pair_up(waiting, experts, networks_of(waiting, experts)).pairs


def _networks(waiting: list[Conversation], experts: list[Expert]) -> dict[int, set[str]]:
    """The networks of each expert's live consoles, when a waiting chat has one."""
    networks: dict[int, set[str]] = {}
    if experts and settings.SAME_NETWORK_CHECKS and any(c.customer_network for c in waiting):
        for expert_id, network in selectors.live_lease_networks(expert_ids=[e.pk for e in experts]):
            networks.setdefault(expert_id, set()).add(network)
    return networks


def queue_drain() -> int:
    """Assign waiting chats, oldest first, to the least-loaded available experts.

    Must run inside a transaction; returns how many chats were assigned. Everything
    here runs under the routing lock, so it reads only the front of the queue and of
    the free experts (`_pair_first_in_line`) and writes a few statements however many
    chats it assigns: in a burst of new chats the work under that lock is what every
    customer waits for (docs/performance.md, "Assignment").
    """
    _lock_routing()
    # Chats a socket queued since the last drain (conversation_start_live) take their
    # place now, behind every chat a drain has seen: queue order is the order in which
    # drains find chats, as if each had been stamped under this lock. One committed
    # after this statement waits for the next drain (its own start asks for one).
    queue = Conversation.objects.filter(status=Conversation.Status.WAITING)
    queue.filter(queued_at=F("created_at")).update(queued_at=Now())
    pairs = _pair_first_in_line(
        queue.exclude(queued_at=F("created_at"))
        .select_related("visitor")
        .order_by("queued_at", "pk"),
        selectors.available_experts().select_related("user").order_by(*TURN_ORDER),
        _networks,
        first=FIRST_IN_LINE,
    )
    if not pairs:
        return 0
    now = timezone.now()
    counts = Counter(expert.pk for _chat, expert in pairs)
    experts_table, table = Expert._meta.db_table, Conversation._meta.db_table
    joined = []
    with connection.cursor() as cursor:
        # One statement for all the experts and one for all the chats, however many:
        # each one in a burst is paid for under the lock.
        # Conditional, like the CHECK on the table: a slot is only taken while free.
        cursor.execute(
            f"UPDATE {experts_table} SET open_chat_count = open_chat_count + v.column2,"
            f" last_assigned_at = %s FROM (VALUES {_rows(len(counts))}) AS v"
            f" WHERE {experts_table}.id = v.column1"
            " AND open_chat_count <= max_concurrent_chats - v.column2",
            [now, *(value for pair in counts.items() for value in pair)],
        )
        if cursor.rowcount != len(counts):
            raise ServiceError("unavailable", _("We could not save that just now. Try again."))
        # Assigned, and each "joined" line's number taken.
        cursor.execute(
            f"UPDATE {table} SET status = %s, expert_id = v.column2, assigned_at = %s,"
            " last_seq = last_seq + 1, state_version = state_version + 1"
            f" FROM (VALUES {_rows(len(pairs))}) AS v WHERE {table}.id = v.column1"
            f" RETURNING {table}.id, last_seq, state_version",
            [
                Conversation.Status.ACTIVE,
                now,
                *(value for chat, expert in pairs for value in (chat.pk, expert.pk)),
            ],
        )
        numbers = {row[0]: row[1:] for row in cursor.fetchall()}
        for conversation, expert in pairs:
            conversation.last_seq, conversation.state_version = numbers[conversation.pk]
            conversation.status, conversation.expert, conversation.assigned_at = (
                Conversation.Status.ACTIVE,
                expert,
                now,
            )
            params = {"name": expert.display_name}
            with translation.override(settings.LANGUAGE_CODE):
                body = system_text("joined", params)
            joined.append(
                Message(
                    conversation_id=conversation.pk,
                    seq=conversation.last_seq,
                    sender=Message.Sender.SYSTEM,
                    body=body,
                    system_event="joined",
                    system_params=params,
                )
            )
    for message in Message.objects.bulk_create(joined):
        _announce_message(message)
    for conversation, expert in pairs:
        data = selectors.conversation_data(conversation)
        broadcast.send_after_commit(
            broadcast.expert_group(expert.pk),
            protocol.ChatAssigned(type="chat.assigned", conversation=data),
        )
        broadcast.send_after_commit(
            broadcast.conversation_group(conversation.pk),
            protocol.ConversationFrame(type="conversation", conversation=data),
        )
    broadcast.ring_staff_monitor()
    _announce_queue()
    return len(pairs)


def _rows(count: int) -> str:
    """`count` rows of two parameters, for a VALUES list."""
    return ", ".join(["(%s, %s)"] * count)


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
