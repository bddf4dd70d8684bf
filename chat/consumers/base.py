"""What the chat sockets share: following chats and forwarding their messages in
sequence (the order itself is chat/ordering.py), the frames both sides send, and
the sweeps and versions a ping triggers."""

import asyncio
import logging
import math
import time
import weakref
from typing import Any

from django.db import DatabaseError
from django.utils.translation import gettext as _

from chat import protocol, selectors, services
from chat.ordering import Sequencer
from chat.system_messages import system_text
from community import services as community_services
from config.errors import ServiceError
from realtime import broadcast
from realtime.broadcast import database_call
from realtime.sockets import FrameSocket

logger = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 2.0
_last_sweep = 0.0


def _sweep_due() -> bool:
    """At most one sweep of absent experts and customers per process every few seconds."""
    global _last_sweep
    now = time.monotonic()
    if now - _last_sweep < SWEEP_INTERVAL_SECONDS:
        return False
    _last_sweep = now
    return True


_sweeping: set[asyncio.Task] = set()  # referenced until done, or the loop may drop them


async def _sweep() -> None:
    try:
        await database_call(community_services.expired_leases_sweep)
        await database_call(services.absent_experts_requeue)
        await database_call(services.customers_away_sweep)
    except DatabaseError:  # the next ping's sweep tries again
        logger.exception("could not sweep absent experts and customers")


def _sweep_beside_pings() -> None:
    """The sweep runs beside the ping that found it due: its pong, and the pings
    behind it on this socket, never wait for the database (issue 19)."""
    task = asyncio.ensure_future(_sweep())
    _sweeping.add(task)
    task.add_done_callback(_sweeping.discard)


VERSIONS_FRESH_SECONDS = 1.0


_versions: dict[str, Any] = {}


_versions_read_at = -math.inf


async def current_versions() -> dict[str, Any]:
    """The queue and availability versions, read at most once a second per process
    however many widgets ping: a lost frame is healed by a ping at most a second later."""
    global _versions, _versions_read_at
    now = time.monotonic()
    if now - _versions_read_at >= VERSIONS_FRESH_SECONDS:
        _versions, _versions_read_at = await selectors.state_versions_live(), now
    return _versions


class QueuePositions:
    """This process's widgets whose chat waits. However often the queue changes, they
    are told their place at most once a second, from one read of the queue for all."""

    INTERVAL_SECONDS = 1.0
    _per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, QueuePositions]" = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self.waiting: dict[int, set[ChatSocket]] = {}  # widgets whose chat waits
        self.consoles: set[ChatSocket] = set()  # shown how many wait
        self.stale = False
        self.refresh: asyncio.Task | None = None
        self.sent_at = -math.inf

    @classmethod
    def here(cls) -> "QueuePositions":
        loop = asyncio.get_running_loop()
        if loop not in cls._per_loop:
            cls._per_loop[loop] = cls()
        return cls._per_loop[loop]

    def watch(self, conversation_id: int, socket: "ChatSocket") -> None:
        self.waiting.setdefault(conversation_id, set()).add(socket)

    def forget(self, socket: "ChatSocket") -> None:
        self.consoles.discard(socket)
        for conversation_id in [c for c, sockets in self.waiting.items() if socket in sockets]:
            self.waiting[conversation_id].discard(socket)
            if not self.waiting[conversation_id]:
                del self.waiting[conversation_id]

    def changed(self) -> None:
        self.stale = True
        if self.refresh is None or self.refresh.done():
            self.refresh = asyncio.ensure_future(self.send())

    async def send(self) -> None:
        while self.stale and (self.waiting or self.consoles):
            await asyncio.sleep(max(0.0, self.sent_at + self.INTERVAL_SECONDS - time.monotonic()))
            self.stale = False  # a change from here on is read next round
            self.sent_at = time.monotonic()
            try:
                frames = await database_call(selectors.queue_frames)
            except DatabaseError:  # the widgets' pings ask again
                logger.exception("could not read the queue")
                return
            for frame in frames:
                for socket in list(self.waiting.get(frame["conversation"], ())):
                    await socket.send_queue_frame(frame)
            length = protocol.QueueLength(type="queue.length", waiting=len(frames))
            for console in list(self.consoles):
                await console.send_queue_frame(length)


class ChatSocket(FrameSocket):
    """Follows conversations and forwards their messages strictly in sequence."""

    for_customer = False  # customers never receive whispers or hidden messages
    # Frames relayed by two processes can overtake each other: one that arrives
    # early waits this long for the missing ones before they are read from the store.
    REORDER_WAIT_SECONDS = 0.25

    async def connect(self) -> None:
        self.sequencer = Sequencer()
        # Waits for a missing frame, per chat, then reads the store (fill_gap_later).
        self.gap_fills: dict[int, asyncio.Task] = {}
        # Frame handlers run one at a time; gap fills run beside them.
        self.delivering = asyncio.Lock()
        await self.accept()

    @property
    def followed(self) -> dict[int, int]:
        """Chats this socket follows -> the highest seq it sent."""
        return self.sequencer.delivered

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        for task in self.gap_fills.values():
            task.cancel()
        await super().websocket_disconnect(message)

    async def forward(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            async with self.delivering:
                await self.forward_message(frame)
        else:
            await self.send_frame(frame)

    async def forward_message(self, frame: dict[str, Any]) -> None:
        conversation_id = frame["conversation"]
        ready, gap = self.sequencer.receive(frame)
        for next_frame in ready:
            await self.send_message(next_frame)
        if gap and conversation_id not in self.gap_fills:
            self.gap_fills[conversation_id] = asyncio.ensure_future(
                self.fill_gap_later(conversation_id)
            )
        elif not gap:
            self.stop_gap_fill(conversation_id)

    def stop_gap_fill(self, conversation_id: int) -> None:
        if task := self.gap_fills.pop(conversation_id, None):
            task.cancel()

    async def send_message(self, frame: dict[str, Any]) -> None:
        """Send the next message in sequence (whispers never reach customers)."""
        message = frame["message"]
        if self.for_customer and message.get("whisper"):
            return
        if "event" in message:  # worded by the sender's process: reword for this reader
            frame = {
                **frame,
                "message": {
                    **message,
                    "body": system_text(message["event"], message["params"], reader=self.side),
                },
            }
        await self.send_frame(frame)

    async def fill_gap_later(self, conversation_id: int, *, wait: float | None = None) -> None:
        """The missing frames did not come: the layer dropped them, read the store."""
        await asyncio.sleep(self.REORDER_WAIT_SECONDS if wait is None else wait)
        async with self.delivering:
            del self.gap_fills[conversation_id]  # done waiting: do not cancel this task
            if not self.sequencer.following(conversation_id) or self.ended:
                return
            try:
                await self.send_history(conversation_id, self.followed[conversation_id])
            except DatabaseError:
                logger.exception("database unavailable while filling a gap")
            except Exception:  # noqa: BLE001 - a task nobody awaits must not lose its error
                logger.exception("could not fill a gap in chat %s", conversation_id)

    async def follow(self, conversation_id: int, last_seq: int) -> None:
        """Subscribe first, then read: nothing committed in between is missed."""
        await self.join(broadcast.conversation_group(conversation_id))
        async with self.delivering:
            try:
                await self.send_history(conversation_id, last_seq)
            except DatabaseError:
                # Followed all the same: live frames are held as a gap, and the next
                # ping's catch-up sends what this read could not.
                if not self.sequencer.following(conversation_id):
                    self.sequencer.start(conversation_id, last_seq)
                raise

    async def follow_without_waiting(self, conversation_id: int) -> None:
        """`follow`, with the history read behind the frames that come next: a socket
        handles one frame at a time, and in a burst of new chats an expert's next
        `chat.assigned` waited for the last one's read. Live frames are held meanwhile."""
        await self.join(broadcast.conversation_group(conversation_id))
        # No await from here on, so no lock: a gap fill may hold it while it reads.
        self.stop_gap_fill(conversation_id)
        self.sequencer.start(conversation_id, 0)
        self.gap_fills[conversation_id] = asyncio.ensure_future(
            self.fill_gap_later(conversation_id, wait=0)
        )

    async def unfollow(self, conversation_id: int) -> None:
        async with self.delivering:  # a gap fill in flight must not follow it again
            self.sequencer.stop(conversation_id)
            self.stop_gap_fill(conversation_id)
        await self.leave(broadcast.conversation_group(conversation_id))

    async def send_history(self, conversation_id: int, last_seq: int, *, quiet: bool = False):
        """Send every message after `last_seq` from the store (hold the delivering lock)."""
        messages = await selectors.messages_after_live(
            conversation_id=conversation_id,
            last_seq=last_seq,
            for_customer=self.for_customer,
        )
        # Held frames were committed before this read began, so it included them.
        self.sequencer.caught_up(conversation_id, [m["seq"] for m in messages], last_seq=last_seq)
        self.stop_gap_fill(conversation_id)
        if messages or not quiet:
            await self.send_frame(
                protocol.History(type="history", conversation=conversation_id, messages=messages)
            )

    async def catch_up(self) -> None:
        """Send whatever the layer failed to ring for (it may drop, or be restarting)."""
        if not self.followed:
            return
        latest = await selectors.last_seqs_live(conversation_ids=list(self.followed))
        async with self.delivering:  # live frames keep flowing during the read above
            for conversation_id, seen in self.sequencer.behind(latest).items():
                await self.send_history(conversation_id, seen, quiet=True)
                # Whispers and hidden messages are not in a customer's history.
                self.sequencer.skip_to(conversation_id, latest[conversation_id])

    # -- frames both sides send ---------------------------------------------------

    def participant(self) -> dict[str, Any]:
        raise NotImplementedError

    async def on_resume(self, frame: dict[str, Any]) -> None:
        conversation = await database_call(
            selectors.participant_conversation,
            conversation_id=frame["conversation"],
            **self.participant(),
        )
        if conversation is None:
            raise ServiceError("not_found", _("This chat does not exist or is not yours."))
        if frame["last_seq"] > conversation.last_seq:
            # Accepted, it would make this socket drop every message up to that number.
            raise ServiceError(
                "seq_ahead",
                _("This chat has no message %(seq)d yet. Resume from %(last)d or lower.")
                % {"seq": frame["last_seq"], "last": conversation.last_seq},
            )
        await self.send_frame(
            protocol.ConversationFrame(
                type="conversation", conversation=selectors.conversation_data(conversation)
            )
        )
        await self.follow(conversation.pk, frame["last_seq"])

    async def on_message_send(self, frame: dict[str, Any]) -> None:
        message = await services.message_post_live(
            conversation_id=frame["conversation"],
            body=frame["body"],
            client_id=frame["client_id"],
            product=frame.get("product", ""),
            **self.participant(),
        )
        await self.send_frame(
            protocol.MessageAck(
                type="message.ack",
                conversation=frame["conversation"],
                client_id=frame["client_id"],
                seq=message.seq,
            )
        )

    def require_following(self, conversation_id: int) -> None:
        if not self.sequencer.following(conversation_id):
            raise ServiceError("not_found", _("This chat does not exist or is not yours."))

    async def on_typing(self, frame: dict[str, Any]) -> None:
        self.require_following(frame["conversation"])
        await services.ephemeral_relay(
            conversation_id=frame["conversation"],
            frame={**frame, "who": self.side},
            sender_channel=self.channel_name,
        )

    async def on_receipt(self, frame: dict[str, Any]) -> None:
        self.require_following(frame["conversation"])
        if frame["status"] == "read":
            await services.conversation_mark_read_live(
                conversation_id=frame["conversation"],
                seq=frame["seq"],
                **self.participant(),
            )
        else:
            await services.ephemeral_relay(
                conversation_id=frame["conversation"],
                frame={**frame, "reader": self.side},
                sender_channel=self.channel_name,
            )

    async def on_ping(self, frame: dict[str, Any]) -> None:
        if _sweep_due():
            _sweep_beside_pings()
        await self.catch_up()
        await super().on_ping(frame)
