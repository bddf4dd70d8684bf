"""WebSocket frames of the chat: what the widget and the expert console may send.

Documented, with the frames the server sends, in docs/protocol.md.
"""

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
}

EXPERT_FRAMES: FrameSpecs = {
    **SHARED_FRAMES,
    "ping": {"shift_version": VERSION},
    "shift.start": {},
    "shift.end": {},
    "transfer.targets": {},
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
