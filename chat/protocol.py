"""WebSocket frames of the chat: what the widget and the expert console may send
(checked specs), and what the server sends (typed dicts). All in docs/protocol.md."""

from typing import Any, Literal, TypedDict

from django.conf import settings

from realtime.frames import Boolean, Choice, FrameSpecs, Integer, Text

# The widget's visitor token is expired, revoked (erasure) or forged: the widget drops
# it and connects again without one.
CLOSE_VISITOR_TOKEN_REFUSED = 4410

MESSAGE_BODY = Text(max_length=settings.CHAT_MAX_MESSAGE_LENGTH, min_length=1)
CONVERSATION = Integer(minimum=1)
# The version of a piece of state the client shows (docs/protocol.md, "Versions").
VERSION = Integer(required=False)

SHARED_FRAMES: FrameSpecs = {
    "ping": {},
    "resume": {"conversation": CONVERSATION, "last_seq": Integer()},
    "message.send": {
        "conversation": CONVERSATION,
        "body": MESSAGE_BODY,
        "client_id": Text(max_length=64, min_length=1),
        # A catalog SKU: the message is that product's card (experts and staff only).
        "product": Text(max_length=64, required=False),
    },
    "typing": {"conversation": CONVERSATION, "active": Boolean()},
    "receipt": {
        "conversation": CONVERSATION,
        "seq": Integer(minimum=1),
        "status": Choice(("delivered", "read")),
    },
}

CUSTOMER_FRAMES: FrameSpecs = {
    **SHARED_FRAMES,
    "ping": {
        "conversation": Integer(minimum=1, required=False),
        "conversation_version": VERSION,
        "queue_version": VERSION,
        "availability_version": VERSION,
    },
    "hello": {
        "token": Text(max_length=300, required=False),
        "lang": Text(max_length=16, required=False),
    },
    "chat.start": {
        "topic": Text(max_length=200, min_length=1),
        "name": Text(max_length=80, required=False),
        "email": Text(max_length=254, required=False),
    },
    "chat.leave": {"conversation": CONVERSATION},
    "page.view": {
        "conversation": CONVERSATION,
        "url": Text(max_length=500, min_length=1),
        "title": Text(max_length=200, required=False),
        "product": Text(max_length=64, required=False),
    },
    "chat.rate": {
        "conversation": CONVERSATION,
        "rating": Integer(minimum=1, maximum=5),
        "comment": Text(max_length=1000, required=False),
    },
    "transcript.email": {"conversation": CONVERSATION},
    "offline.send": {
        "name": Text(max_length=80, required=False),
        "email": Text(max_length=254, min_length=3),
        "body": MESSAGE_BODY,
    },
    "message.report": {
        "conversation": CONVERSATION,
        "seq": Integer(minimum=1),
        "reason": Text(max_length=300, required=False),
    },
    "followup.seen": {"follow_up": Integer(minimum=1)},
    "followup.helpful": {"follow_up": Integer(minimum=1)},
    "followup.dismiss": {"follow_up": Integer(minimum=1)},
    "apply.invite": {"conversation": CONVERSATION},
    # The shopper opened the chat panel: `ref` is the widget's public reference.
    "widget.open": {"ref": Text(max_length=64, min_length=8)},
}

EXPERT_FRAMES: FrameSpecs = {
    **SHARED_FRAMES,
    "ping": {"shift_version": VERSION},
    "shift.start": {},
    "shift.end": {},
    "transfer.targets": {},
    "customer.history": {"conversation": CONVERSATION},
    "chat.resolve": {"conversation": CONVERSATION, "summary": Text(max_length=1000, min_length=1)},
    "chat.transfer": {
        "conversation": CONVERSATION,
        "expert": Integer(minimum=1),
        "note": Text(max_length=300, required=False),
    },
}

STAFF_FRAMES: FrameSpecs = {
    "ping": {},
    "monitor.watch": {},
    "chat.open": {"conversation": CONVERSATION},
    "chat.close_view": {"conversation": CONVERSATION},
    "chat.whisper": {"conversation": CONVERSATION, "body": MESSAGE_BODY},
    "chat.take_over": {"conversation": CONVERSATION},
    "chat.close": {"conversation": CONVERSATION, "summary": Text(max_length=1000, min_length=1)},
    "message.send": SHARED_FRAMES["message.send"],
    "message.hide": {
        "conversation": CONVERSATION,
        "seq": Integer(minimum=1),
        "reason": Text(max_length=300, min_length=1),
    },
}


# -- what the server sends, and the events between processes (docs/protocol.md) ------
# Every outbound frame and event is built through one of these; snapshots inside them
# (conversation, message, follow-up) are the selectors' *_data dicts.

Data = dict[str, Any]


class MessageFrame(TypedDict):
    type: Literal["message"]
    conversation: int
    message: Data


class MessageAck(TypedDict):
    type: Literal["message.ack"]
    conversation: int
    client_id: str
    seq: int


class History(TypedDict):
    type: Literal["history"]
    conversation: int
    messages: list[Data]


class ConversationFrame(TypedDict):
    type: Literal["conversation"]
    conversation: Data


class Receipt(TypedDict):
    type: Literal["receipt"]
    conversation: int
    reader: Literal["customer", "expert"]
    status: Literal["read"]
    seq: int


class ChatAssigned(TypedDict):
    type: Literal["chat.assigned"]
    conversation: Data


class ChatRemoved(TypedDict):
    type: Literal["chat.removed"]
    conversation: int
    reason: Literal["resolved", "transferred", "requeued", "taken_over"]


class ExpertPresence(TypedDict):
    type: Literal["expert.presence"]
    conversation: int
    online: bool


class MessageHidden(TypedDict):
    type: Literal["message.hidden"]
    conversation: int
    seq: int


class MessageReported(TypedDict):
    type: Literal["message.reported"]
    conversation: int
    seq: int


class FollowUpFrame(TypedDict):
    type: Literal["followup"]
    follow_up: Data


class FollowUpDismissed(TypedDict):
    type: Literal["followup.dismissed"]
    follow_up: int


class PageFrame(TypedDict):
    """To the chat's followers: the customer is looking at this page now."""

    type: Literal["page"]
    conversation: int
    page: Data


class CustomerHistory(TypedDict):
    """To the expert: the customer's earlier chats (`customer.history`)."""

    type: Literal["customer.history"]
    conversation: int
    chats: list[Data]


class Identity(TypedDict):
    type: Literal["identity"]
    token: str


class WidgetWelcome(TypedDict):
    type: Literal["welcome"]
    token: str | None
    visitor: Data | None
    conversation: Data | None
    follow_ups: list[Data]
    experts_on_shift: int
    availability_version: int
    next_expert_at: str | None
    language: str
    max_message_length: int
    strings: dict[str, str]


class Availability(TypedDict):
    type: Literal["availability"]
    experts_on_shift: int
    version: int


class Queue(TypedDict):
    type: Literal["queue"]
    conversation: int
    position: int
    estimated_wait_seconds: int
    version: int


class QueueLength(TypedDict):
    type: Literal["queue.length"]
    waiting: int


class TranscriptSent(TypedDict):
    type: Literal["transcript.sent"]
    conversation: int
    email: str
    confirmation_needed: bool


class OfflineSent(TypedDict):
    type: Literal["offline.sent"]


class ApplyInvite(TypedDict):
    type: Literal["apply.invite"]
    conversation: int
    invite: str


class Monitor(TypedDict):
    type: Literal["monitor"]
    queue_length: int
    longest_wait_seconds: int
    conversations: list[Data]
    experts: list[Data]


class ReportNew(TypedDict):
    type: Literal["report.new"]
    conversation: int
    seq: int
    id: int


class OfflineNew(TypedDict):
    type: Literal["offline.new"]
    id: int
    email: str


# Events between processes (never sent to a client as they are).


class QueueChanged(TypedDict):
    type: Literal["queue.changed"]


class VisitorRevoked(TypedDict):
    type: Literal["visitor.revoked"]
