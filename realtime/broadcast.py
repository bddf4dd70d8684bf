"""Channel-layer group names and the one way services broadcast.

The channel layer is a doorbell, never the store: every frame sent here
describes something already committed, and clients recover anything the
layer drops from the database (see docs/protocol.md, "Resume").
"""

import asyncio
import hashlib
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.frames import MonitorChanged, Relay, SessionCheck

T = TypeVar("T")
logger = logging.getLogger(__name__)

# Set while a socket runs database code: committed frames wait here and are sent
# from the event loop, so the single database thread never waits on Redis.
_outbox: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar(
    "realtime_outbox", default=None
)

STAFF = "staff"
LEADERBOARD = "leaderboard"
SHOP = "shop"
WIDGETS = "widgets"
QUEUE = "queue"  # widgets whose chat waits: the queue changed


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def expert_group(expert_id: int) -> str:
    return f"expert.{expert_id}"


def visitor_group(visitor_id: Any) -> str:
    return f"visitor.{visitor_id}"


def user_group(user_id: Any) -> str:
    """Every signed-in socket of a user (console, expert pages, staff)."""
    return f"user.{user_id}"


def session_digest(session_key: str) -> str:
    """Names a session in a broadcast without handing its key to the channel layer."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def ring_user_sockets(user_id: Any, *, ended_session: str | None = None) -> None:
    """After commit, make the user's sockets check their session and right at once
    (realtime.sockets.SignedIn); those of `ended_session` close without asking."""
    frame = SessionCheck(type="session.check")
    if ended_session:
        frame["ended"] = session_digest(ended_session)
    send_after_commit(user_group(user_id), frame)


def send_after_commit(group: str, frame: dict[str, Any]) -> None:
    """Deliver `frame` to every socket in `group` once the transaction commits."""

    transaction.on_commit(lambda: send_committed(group, frame), robust=True)


def send_committed(group: str, frame: dict[str, Any]) -> None:
    """Deliver a frame about committed data now (from a commit hook)."""
    outbox = _outbox.get()
    if outbox is not None:
        outbox.append((group, frame))
    else:
        async_to_sync(get_channel_layer().group_send)(group, Relay(type="relay", frame=frame))


async def database_call(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run sync database code from a socket, then send what it broadcast.

    Frames of transactions that committed are sent even when the call fails later.
    """
    outbox: list[tuple[str, dict[str, Any]]] = []
    token = _outbox.set(outbox)
    try:
        return await database_sync_to_async(func)(*args, **kwargs)
    finally:
        _outbox.reset(token)
        await _send_outbox(outbox)


async def _send_outbox(outbox: list[tuple[str, dict[str, Any]]]) -> None:
    """Each group's frames in the order they were committed, the groups side by side:
    a drain that assigns a hundred chats sends a few hundred frames, and one after
    another they kept the last chat's expert waiting for the first ones' round trips
    (docs/performance.md, "Assignment"). A frame repeated for a group (a doorbell
    such as monitor.changed, rung by several changes) is sent once."""
    per_group: dict[str, list[dict[str, Any]]] = {}
    for group, frame in outbox:
        frames = per_group.setdefault(group, [])
        if frame not in frames:
            frames.append(frame)

    async def send_in_order(group: str, frames: list[dict[str, Any]]) -> None:
        for frame in frames:
            await broadcast(group, frame)

    await asyncio.gather(*(send_in_order(group, frames) for group, frames in per_group.items()))


async def broadcast(group: str, frame: dict[str, Any]) -> None:
    """Deliver a frame about committed data from the event loop."""
    try:
        await get_channel_layer().group_send(group, Relay(type="relay", frame=frame))
    except Exception:  # the data is committed; sockets catch up from it
        logger.exception("could not broadcast to %s", group)


def ring_staff_monitor() -> None:
    """Tell staff monitors that the queue, chats or experts changed (they re-read)."""
    send_after_commit(STAFF, MonitorChanged(type="monitor.changed"))
