"""WebSocket adapters for the widget and the expert console.

They parse frames (chat/protocol.py), check who is asking, call services and
forward what the channel layer relays. Messages are forwarded strictly in
sequence: a gap in what the layer delivered is filled from the database.
"""

import asyncio
import functools
import logging
import math
import time
import weakref
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from django.utils.translation import gettext as _

from chat import protocol, selectors, services
from chat.models import Visitor
from chat.ordering import Sequencer
from chat.strings import widget_strings
from chat.system_messages import system_text
from community import services as community_services
from community.consumers import ExpertFeed
from community.permissions import may_moderate
from community.selectors import application_invite, next_staffed_shift_start
from config.client_ip import client_ip_from_scope, ip_bucket
from config.errors import ServiceError
from config.limits import RateLimited, limit_retry_after
from points import selectors as points_selectors
from points.consumers import LeaderboardFeed
from points.protocol import LEADERBOARD_FRAMES
from realtime import broadcast
from realtime.broadcast import database_call
from realtime.frames import error_frame
from realtime.sockets import CLOSE_FLOODING, FrameSocket, supported_language

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


def availability_fields(availability: tuple[int, int]) -> dict[str, int]:
    experts_on_shift, version = availability
    return {"experts_on_shift": experts_on_shift, "availability_version": version}


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
        self.waiting: dict[int, set[WidgetConsumer]] = {}
        self.consoles: set[ConsoleConsumer] = set()  # shown how many wait
        self.stale = False
        self.refresh: asyncio.Task | None = None
        self.sent_at = -math.inf

    @classmethod
    def here(cls) -> "QueuePositions":
        loop = asyncio.get_running_loop()
        if loop not in cls._per_loop:
            cls._per_loop[loop] = cls()
        return cls._per_loop[loop]

    def watch(self, conversation_id: int, socket: "WidgetConsumer") -> None:
        self.waiting.setdefault(conversation_id, set()).add(socket)

    def forget(self, socket: "WidgetConsumer | ConsoleConsumer") -> None:
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
            length = {"type": "queue.length", "waiting": len(frames)}
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
        messages = await database_call(
            selectors.messages_after,
            conversation_id=conversation_id,
            last_seq=last_seq,
            for_customer=self.for_customer,
        )
        # Held frames were committed before this read began, so it included them.
        self.sequencer.caught_up(conversation_id, [m["seq"] for m in messages], last_seq=last_seq)
        self.stop_gap_fill(conversation_id)
        if messages or not quiet:
            await self.send_frame(
                {"type": "history", "conversation": conversation_id, "messages": messages}
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
            {"type": "conversation", "conversation": selectors.conversation_data(conversation)}
        )
        await self.follow(conversation.pk, frame["last_seq"])

    async def on_message_send(self, frame: dict[str, Any]) -> None:
        message = await services.message_post_live(
            conversation_id=frame["conversation"],
            body=frame["body"],
            client_id=frame["client_id"],
            **self.participant(),
        )
        await self.send_frame(
            {
                "type": "message.ack",
                "conversation": frame["conversation"],
                "client_id": frame["client_id"],
                "seq": message.seq,
            }
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
            await database_call(community_services.expired_leases_sweep)
            await database_call(services.absent_experts_requeue)
            await database_call(services.customers_away_sweep)
        await self.catch_up()
        await super().on_ping(frame)


def client_network(scope: dict) -> str:
    """The client's IPv4 address or IPv6 /64, "" when the server cannot know it
    (a unix socket with no TRUSTED_PROXIES): one shared bucket would lock everyone out."""
    network = ip_bucket(client_ip_from_scope(scope))
    if network == "unknown":
        _warn_unknown_network()
        return ""
    return network


def site_url(scope: dict) -> str:
    """Where links in mails point: SITE_URL, else this socket's own host if it is
    one of ALLOWED_HOSTS (a forged Host header must not put its link in our mail)."""
    if settings.SITE_URL:
        return settings.SITE_URL
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        raise ServiceError("unavailable", _("Email cannot be sent from here right now."))
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return f"{scheme}://{host}"


@functools.cache
def _warn_unknown_network() -> None:
    logger.warning("client address unknown (set TRUSTED_PROXIES): per-network limits are off")


class WidgetConsumer(ChatSocket):
    """The customer's widget. The first frame is `hello` with the visitor token."""

    frames = protocol.CUSTOMER_FRAMES
    side = "customer"
    for_customer = True

    async def connect(self) -> None:
        self.visitor: Visitor | None = None
        self.greeted = False
        self.language = settings.LANGUAGE_CODE  # until `hello` says otherwise
        self.network = client_network(self.scope)
        await super().connect()
        if self.network:
            # Off the database thread: the shared cache answers in well under a millisecond.
            retry_after = await asyncio.to_thread(limit_retry_after, "widget.socket", self.network)
            if retry_after is not None:
                self.activate_language()
                refusal = RateLimited(retry_after)
                await self.send_frame(error_frame(refusal, ref="connect"))
                await self.close(code=CLOSE_FLOODING)

    def participant(self) -> dict[str, Any]:
        return {"visitor": self.visitor}

    async def check_ready(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind in ("hello", "ping"):
            return
        if not self.greeted:
            raise ServiceError("hello_required", _("Say hello with your visitor token first."))
        if self.visitor is None and kind not in ("chat.start", "offline.send"):
            raise ServiceError("not_found", _("This chat does not exist or is not yours."))

    async def identify(self, visitor: Visitor) -> None:
        self.visitor = visitor
        await self.join(broadcast.visitor_group(visitor.pk))

    async def ensure_visitor(self) -> Visitor:
        """Visitors are created on their first chat or offline message, not on page views."""
        if self.visitor is None:
            visitor = await database_call(services.visitor_create, network=self.network)
            await self.identify(visitor)
            await self.send_frame({"type": "identity", "token": selectors.visitor_token(visitor)})
        return self.visitor

    async def on_hello(self, frame: dict[str, Any]) -> None:
        self.language = supported_language(frame.get("lang"))
        translation.activate(self.language)
        await self.join(broadcast.WIDGETS)
        welcome = await database_call(self.welcome_data, frame.get("token"))
        if frame.get("token") and self.visitor is None:
            await self.close(code=protocol.CLOSE_VISITOR_TOKEN_REFUSED)
            return
        self.greeted = True
        if self.visitor is not None:
            await self.identify(self.visitor)
        await self.send_frame(welcome)

    def welcome_data(self, token: str | None) -> dict[str, Any]:
        self.visitor = selectors.visitor_from_token(token)
        conversation = (
            selectors.visitor_current_conversation(visitor=self.visitor) if self.visitor else None
        )
        next_expert = next_staffed_shift_start()
        return {
            "type": "welcome",
            "token": selectors.visitor_token(self.visitor) if self.visitor else None,
            "visitor": {"name": self.visitor.name, "email": self.visitor.email}
            if self.visitor
            else None,
            "conversation": selectors.conversation_data(conversation) if conversation else None,
            "follow_ups": selectors.visitor_follow_ups(visitor=self.visitor)
            if self.visitor
            else [],
            **availability_fields(selectors.availability()),
            # The widget words it in the customer's own time zone.
            "next_expert_at": next_expert.isoformat() if next_expert else None,
            "language": self.language,
            "max_message_length": protocol.MESSAGE_BODY.max_length,
            "strings": widget_strings(),
        }

    async def forward(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "visitor.revoked":  # erased while this widget was open
            await self.close(code=protocol.CLOSE_VISITOR_TOKEN_REFUSED)
            return
        if frame["type"] == "queue.changed":
            QueuePositions.here().changed()
            return
        if frame["type"] == "conversation" and frame["conversation"]["status"] != "waiting":
            await self.stop_waiting()
        await super().forward(frame)

    async def send_queue_position(self, conversation_id: int) -> None:
        """Its place now, and from here on whenever the queue moves."""
        for frame in await database_call(selectors.queue_frames):
            if frame["conversation"] == conversation_id:
                await self.send_frame(frame)
                QueuePositions.here().watch(conversation_id, self)
                await self.join(broadcast.QUEUE)

    async def send_queue_frame(self, frame: dict[str, Any]) -> None:
        try:
            await self.send_frame(frame)
        except Exception:  # closed meanwhile
            await self.stop_waiting()

    async def stop_waiting(self) -> None:
        QueuePositions.here().forget(self)
        if broadcast.QUEUE in self.joined_groups:
            await self.leave(broadcast.QUEUE)

    async def disconnect(self, code: int) -> None:
        QueuePositions.here().forget(self)

    async def on_resume(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.customer_presence_mark,
            visitor=self.visitor,
            conversation_ids=[frame["conversation"]],
        )
        await super().on_resume(frame)
        await self.send_queue_position(frame["conversation"])
        await self.send_expert_presence(frame["conversation"])

    async def send_expert_presence(self, conversation_id: int) -> None:
        """Only news is sent: an active chat's expert is online unless said otherwise."""
        expert_id = await database_call(
            selectors.active_conversation_expert_id, conversation_id=conversation_id
        )
        if expert_id and not await database_call(selectors.expert_is_online, expert_id=expert_id):
            await self.send_frame(
                {"type": "expert.presence", "conversation": conversation_id, "online": False}
            )

    async def on_ping(self, frame: dict[str, Any]) -> None:
        versions: dict[int, int] = {}
        if self.visitor is not None and self.followed:
            versions = await services.customer_presence_mark_live(
                visitor=self.visitor, conversation_ids=list(self.followed)
            )
        await self.send_newer_state(frame, versions)
        await super().on_ping(frame)

    async def send_newer_state(self, ping: dict[str, Any], versions: dict[int, int]) -> None:
        """A ping carries the versions the widget shows; what changed since (a frame
        the channel layer lost) comes as a fresh snapshot before the pong."""
        current = await current_versions()
        experts_on_shift, version = current["availability"]
        if ping.get("availability_version", version) < version:
            await self.send_frame(
                {"type": "availability", "experts_on_shift": experts_on_shift, "version": version}
            )
        conversation_id = ping.get("conversation")
        if conversation_id not in self.followed:
            return
        shown = ping.get("conversation_version")
        if shown is not None and versions.get(conversation_id, math.inf) > shown:
            await self.send_conversation(conversation_id, newer_than=shown)
        if ping.get("queue_version", current["queue"]) < current["queue"]:
            await self.send_queue_position(conversation_id)

    async def send_conversation(self, conversation_id: int, *, newer_than: int) -> None:
        conversation = await database_call(
            selectors.conversation_get, conversation_id=conversation_id
        )
        if conversation is not None and conversation.state_version > newer_than:
            await self.send_frame(
                {"type": "conversation", "conversation": selectors.conversation_data(conversation)}
            )

    async def on_chat_start(self, frame: dict[str, Any]) -> None:
        visitor = await self.ensure_visitor()
        conversation = await database_call(
            services.conversation_start,
            visitor=visitor,
            topic=frame["topic"],
            name=frame.get("name", ""),
            email=frame.get("email", ""),
            network=self.network,
        )
        await self.send_frame(
            {"type": "conversation", "conversation": selectors.conversation_data(conversation)}
        )
        await self.follow(conversation.pk, 0)
        if conversation.status == conversation.Status.WAITING:
            await self.send_queue_position(conversation.pk)

    async def on_chat_leave(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_leave, conversation_id=frame["conversation"], visitor=self.visitor
        )

    async def on_chat_rate(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_rate,
            conversation_id=frame["conversation"],
            visitor=self.visitor,
            rating=frame["rating"],
            comment=frame.get("comment", ""),
        )

    async def on_transcript_email(self, frame: dict[str, Any]) -> None:
        delivery = await database_call(
            services.transcript_email,
            conversation_id=frame["conversation"],
            visitor=self.visitor,
            network=self.network,
            site_url=site_url(self.scope),
        )
        await self.send_frame(
            {
                "type": "transcript.sent",
                "conversation": frame["conversation"],
                "email": delivery.email,
                "confirmation_needed": delivery.sent_at is None,
            }
        )

    async def on_offline_send(self, frame: dict[str, Any]) -> None:
        visitor = await self.ensure_visitor()
        await database_call(
            services.offline_message_leave,
            visitor=visitor,
            name=frame.get("name", ""),
            email=frame["email"],
            body=frame["body"],
            network=self.network,
        )
        await self.send_frame({"type": "offline.sent"})

    async def on_message_report(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.message_report,
            conversation_id=frame["conversation"],
            seq=frame["seq"],
            visitor=self.visitor,
            reason=frame.get("reason", ""),
        )
        await self.send_frame(
            {"type": "message.reported", "conversation": frame["conversation"], "seq": frame["seq"]}
        )

    async def on_followup_seen(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.followup_mark_seen, follow_up_id=frame["follow_up"], visitor=self.visitor
        )

    async def on_apply_invite(self, frame: dict[str, Any]) -> None:
        invite = await database_call(
            application_invite, conversation_id=frame["conversation"], visitor=self.visitor
        )
        await self.send_frame(
            {"type": "apply.invite", "conversation": frame["conversation"], "invite": invite}
        )

    async def on_followup_dismiss(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.followup_dismiss, follow_up_id=frame["follow_up"], visitor=self.visitor
        )
        await self.send_frame({"type": "followup.dismissed", "follow_up": frame["follow_up"]})

    async def on_followup_helpful(self, frame: dict[str, Any]) -> None:
        follow_up = await database_call(
            services.followup_mark_helpful, follow_up_id=frame["follow_up"], visitor=self.visitor
        )
        data = await database_call(selectors.follow_up_data, follow_up)
        await self.send_frame({"type": "followup", "follow_up": data})


class ConsoleConsumer(ExpertFeed, ChatSocket):
    """The expert console: shift, up to three chats, follow-ups, the leaderboard."""

    frames = {**protocol.EXPERT_FRAMES, **LEADERBOARD_FRAMES}
    side = "expert"

    async def connect(self) -> None:
        # The expert's chats this socket did not follow at the last ping (see
        # repair_lost_chat_frames).
        self.unfollowed_at_last_ping: set[int] = set()
        self.network = client_network(self.scope)
        await super().connect()
        if not await self.admit_expert():
            return
        await database_call(
            community_services.expert_console_connected,
            expert=self.expert,
            channel_name=self.channel_name,
            network=self.network,
        )
        await self.send_frame(await database_call(self.welcome_data))
        QueuePositions.here().consoles.add(self)
        await self.join(broadcast.QUEUE)
        await self.watch_leaderboard()

    def welcome_data(self) -> dict[str, Any]:
        self.expert.refresh_from_db()
        return {
            "type": "welcome",
            "expert": selectors.expert_data(self.expert),
            "on_shift": self.expert.on_shift,
            "shift_version": self.expert.state_version,
            "waiting": len(selectors.waiting_queue()[1]),
            "max_concurrent_chats": self.expert.max_concurrent_chats,
            "conversations": [
                selectors.conversation_data(c)
                for c in selectors.expert_open_conversations(expert=self.expert)
            ],
            "max_message_length": protocol.MESSAGE_BODY.max_length,
            "balance": points_selectors.balance(expert=self.expert),
            # Pings renew the console's lease (CHAT_CONSOLE_LEASE_SECONDS): this often.
            "heartbeat_seconds": settings.CHAT_HEARTBEAT_SECONDS,
        }

    async def send_queue_frame(self, frame: dict[str, Any]) -> None:
        try:
            await self.send_frame(frame)
        except Exception:  # closed meanwhile
            QueuePositions.here().forget(self)

    async def disconnect(self, code: int) -> None:
        QueuePositions.here().forget(self)
        if self.expert is not None:
            await database_call(
                community_services.expert_console_disconnected,
                expert=self.expert,
                channel_name=self.channel_name,
            )

    def participant(self) -> dict[str, Any]:
        return {"expert": self.expert}

    async def check_ready(self, frame: dict[str, Any]) -> None:
        if self.expert is None:
            raise ServiceError("forbidden", _("Only brand experts can use the console."))

    async def forward(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "queue.changed":
            QueuePositions.here().changed()
            return
        if frame["type"] == "chat.assigned":
            conversation_id = frame["conversation"]["id"]
            await self.send_frame(frame)
            if conversation_id not in self.followed:  # a repaired frame may come twice
                await self.follow_without_waiting(conversation_id)
            return
        if frame["type"] == "chat.removed":
            await self.unfollow(frame["conversation"])
        await super().forward(frame)

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await community_services.expert_heartbeat_live(
            expert=self.expert, channel_name=self.channel_name, network=self.network
        )
        await self.repair_lost_chat_frames()
        if frame.get("shift_version") is not None:
            await self.send_newer_shift(frame["shift_version"])
        await super().on_ping(frame)

    async def send_newer_shift(self, shown: int) -> None:
        """A `shift` frame the channel layer lost (a suspension, or the switch moved
        in another tab) comes with the next ping."""
        await database_call(self.expert.refresh_from_db, fields=["on_shift", "state_version"])
        if self.expert.state_version > shown:
            await self.send_frame(community_services.shift_frame(self.expert))

    async def repair_lost_chat_frames(self) -> None:
        """`chat.removed` and `chat.assigned` frames that never came (Redis was
        reconnecting when they were published): without them the expert would keep
        reading a chat that is no longer theirs, or never see a new one.

        A followed chat that left the expert is dropped at once. One they hold that this
        socket does not follow is announced when a second ping still finds it so: its
        frame, or the console's `resume` after `welcome`, may simply be on its way.
        """
        held = await selectors.expert_open_conversation_ids_live(expert=self.expert)
        for conversation_id in sorted(self.followed.keys() - held):
            reason = await database_call(selectors.removal_reason, conversation_id=conversation_id)
            await self.forward(
                {"type": "chat.removed", "conversation": conversation_id, "reason": reason}
            )
        unfollowed = held - self.followed.keys()
        for conversation_id in sorted(unfollowed & self.unfollowed_at_last_ping):
            conversation = await database_call(
                selectors.conversation_get, conversation_id=conversation_id
            )
            still_theirs = conversation is not None and conversation.expert_id == self.expert.pk
            if still_theirs and conversation.status == conversation.Status.ACTIVE:
                snapshot = selectors.conversation_data(conversation)
                await self.forward({"type": "chat.assigned", "conversation": snapshot})
        self.unfollowed_at_last_ping = unfollowed

    async def on_transfer_targets(self, frame: dict[str, Any]) -> None:
        experts = await database_call(selectors.transfer_targets, expert=self.expert)
        await self.send_frame({"type": "transfer.targets", "experts": experts})

    # The answer goes on this socket too: the broadcast alone was lost when Redis
    # had just restarted, and the switch never moved.
    async def on_shift_start(self, frame: dict[str, Any]) -> None:
        expert = await database_call(community_services.expert_shift_start, expert=self.expert)
        await self.send_frame(community_services.shift_frame(expert))

    async def on_shift_end(self, frame: dict[str, Any]) -> None:
        expert = await database_call(community_services.expert_shift_end, expert=self.expert)
        await self.send_frame(community_services.shift_frame(expert))

    async def on_chat_resolve(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_resolve,
            conversation_id=frame["conversation"],
            expert=self.expert,
            summary=frame["summary"],
        )

    async def on_chat_transfer(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_transfer,
            conversation_id=frame["conversation"],
            expert=self.expert,
            to_expert_id=frame["expert"],
            note=frame.get("note", ""),
        )


class StaffConsumer(LeaderboardFeed, ChatSocket):
    """`/ws/staff/`: the live monitor, moderation and the leaderboard for staff."""

    frames = {**protocol.STAFF_FRAMES, **LEADERBOARD_FRAMES}
    side = "staff"
    staff_member = None
    monitoring = False
    monitor_stale = False
    monitor_refresh: asyncio.Task | None = None

    async def connect(self) -> None:
        await super().connect()
        user = self.scope.get("user")
        allowed = user is not None and await database_call(may_moderate, user)
        if await self.refuse_unless(user, allowed=allowed):
            return
        await self.keep_signed_in(user, holds_right=may_moderate)
        self.staff_member = user
        await self.join(broadcast.STAFF)
        await self.watch_leaderboard()

    async def check_ready(self, frame: dict[str, Any]) -> None:
        if self.staff_member is None:
            raise ServiceError("forbidden", _("Only staff can do this."))

    def participant(self) -> dict[str, Any]:
        return {"staff_member": self.staff_member}

    async def forward(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "monitor.changed":
            self.schedule_monitor()
            return
        await super().forward(frame)

    def schedule_monitor(self) -> None:
        """Many changes in a burst become one snapshot; a change that arrives while
        a snapshot is being read marks it stale, and one more follows."""
        if not self.monitoring:
            return
        self.monitor_stale = True
        if self.monitor_refresh is None or self.monitor_refresh.done():
            self.monitor_refresh = asyncio.ensure_future(self.refresh_monitor())

    async def refresh_monitor(self) -> None:
        while self.monitor_stale:
            await asyncio.sleep(0.25)
            self.monitor_stale = False
            await self.send_monitor()

    async def send_monitor(self) -> None:
        await self.send_frame(await database_call(selectors.monitor_snapshot))

    async def disconnect(self, code: int) -> None:
        if self.monitor_refresh:
            self.monitor_refresh.cancel()

    async def on_ping(self, frame: dict[str, Any]) -> None:
        # A `monitor.changed` the channel layer lost is healed by the next ping; staff
        # monitors are few, so a snapshot per ping is cheap.
        self.schedule_monitor()
        await super().on_ping(frame)

    async def on_monitor_watch(self, frame: dict[str, Any]) -> None:
        self.monitoring = True
        await self.send_monitor()

    async def on_chat_open(self, frame: dict[str, Any]) -> None:
        conversation = await database_call(
            selectors.conversation_get, conversation_id=frame["conversation"]
        )
        if conversation is None:
            raise ServiceError("not_found", _("This chat does not exist."))
        await self.send_frame(
            {"type": "conversation", "conversation": selectors.conversation_data(conversation)}
        )
        await self.follow(conversation.pk, 0)

    async def on_chat_close_view(self, frame: dict[str, Any]) -> None:
        await self.unfollow(frame["conversation"])

    async def on_chat_whisper(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.staff_whisper,
            conversation_id=frame["conversation"],
            staff_member=self.staff_member,
            body=frame["body"],
        )

    async def on_chat_take_over(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_take_over,
            conversation_id=frame["conversation"],
            staff_member=self.staff_member,
        )

    async def on_chat_close(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_close_by_staff,
            conversation_id=frame["conversation"],
            staff_member=self.staff_member,
            summary=frame["summary"],
        )

    async def on_message_hide(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.message_hide,
            conversation_id=frame["conversation"],
            seq=frame["seq"],
            staff_member=self.staff_member,
            reason=frame["reason"],
        )
