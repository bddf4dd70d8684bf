"""Channel-layer group names and the one way services broadcast.

The channel layer is a doorbell, never the store: every frame sent here
describes something already committed, and clients recover anything the
layer drops from the database (see docs/protocol.md, "Resume").
"""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

STAFF = "staff"
LEADERBOARD = "leaderboard"
SHOP = "shop"
WIDGETS = "widgets"


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def expert_group(expert_id: int) -> str:
    return f"expert.{expert_id}"


def visitor_group(visitor_id: Any) -> str:
    return f"visitor.{visitor_id}"


def send_after_commit(group: str, frame: dict[str, Any]) -> None:
    """Deliver `frame` to every socket in `group` once the transaction commits."""

    def send() -> None:
        async_to_sync(get_channel_layer().group_send)(group, {"type": "relay", "frame": frame})

    transaction.on_commit(send, robust=True)


def ring_staff_monitor() -> None:
    """Tell staff monitors that the queue, chats or experts changed (they re-read)."""
    send_after_commit(STAFF, {"type": "monitor.changed"})
