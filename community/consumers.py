"""Sockets of the expert's own pages."""

from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from chat import protocol
from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.consumers.base import ChatSocket, QueuePositions
from chat.consumers.widget import client_network
from chat.protocol import ChatAssigned, ChatRemoved, CustomerHistory
from community import selectors
from community import services as community_services
from community.models import Expert
from community.protocol import ConsoleWelcome, Suspended, TransferTargets
from config.errors import ServiceError
from points import selectors as points_selectors
from points.consumers import LeaderboardFeed
from points.protocol import LEADERBOARD_FRAMES
from realtime import broadcast
from realtime.broadcast import database_call
from realtime.sockets import CLOSE_FORBIDDEN, FrameSocket, language_from_scope


def _is_active_expert(user) -> bool:
    return selectors.active_expert_for_user(user=user) is not None


class ExpertFeed(LeaderboardFeed):
    """An expert's live frames: points, redemption statuses, shop stock, the leaderboard."""

    expert: Expert | None = None

    async def admit_expert(self) -> bool:
        """Accept the socket for an active expert; close it for anyone else."""
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self.expert = await database_call(selectors.active_expert_for_user, user=user)
        if await self.refuse_unless(user, allowed=self.expert is not None):
            return False
        await self.keep_signed_in(
            user, holds_right=_is_active_expert, right_sql=selectors.ACTIVE_EXPERT_SQL
        )
        self.viewer_id = self.expert.pk
        for group in (broadcast.expert_group(self.expert.pk), broadcast.SHOP):
            await self.join(group)
        return True

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """A suspended expert hears so, since when and whom to ask, before the 4403."""
        user = self.scope.get("user")
        if (
            code == CLOSE_FORBIDDEN
            and not self.ended
            and user is not None
            and user.is_authenticated
        ):
            suspension = await database_call(selectors.suspension_for_user, user_id=user.pk)
            if suspension:
                self.activate_language()
                since = suspension["since"]
                await self.send_frame(
                    Suspended(
                        type="suspended",
                        since=since.isoformat(),
                        since_text=formats.date_format(timezone.localtime(since), "j F Y, H:i T"),
                        contact=suspension["contact"],
                    )
                )
        await super().close(code=code, reason=reason)


class ExpertPageConsumer(ExpertFeed, FrameSocket):
    """`/ws/expert/`: the expert's other pages (no live chats, no presence)."""

    frames = {"ping": {}, **LEADERBOARD_FRAMES}

    async def connect(self) -> None:
        await self.accept()
        if await self.admit_expert():
            await self.watch_leaderboard()


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

    def welcome_data(self) -> ConsoleWelcome:
        self.expert.refresh_from_db()
        return ConsoleWelcome(
            type="welcome",
            expert=chat_selectors.expert_data(self.expert),
            on_shift=self.expert.on_shift,
            shift_version=self.expert.state_version,
            waiting=len(chat_selectors.waiting_queue()[1]),
            max_concurrent_chats=self.expert.max_concurrent_chats,
            conversations=[
                chat_selectors.conversation_data(c)
                for c in chat_selectors.expert_open_conversations(expert=self.expert)
            ],
            max_message_length=protocol.MESSAGE_BODY.max_length,
            balance=points_selectors.balance(expert=self.expert),
            # Pings renew the console's lease (CHAT_CONSOLE_LEASE_SECONDS): this often.
            heartbeat_seconds=settings.CHAT_HEARTBEAT_SECONDS,
            saved_replies=selectors.saved_replies_for(
                expert=self.expert, language=self.language or language_from_scope(self.scope)
            ),
        )

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
        held = await chat_selectors.expert_open_conversation_ids_live(expert=self.expert)
        for conversation_id in sorted(self.followed.keys() - held):
            reason = await database_call(
                chat_selectors.removal_reason, conversation_id=conversation_id
            )
            await self.forward(
                ChatRemoved(type="chat.removed", conversation=conversation_id, reason=reason)
            )
        unfollowed = held - self.followed.keys()
        for conversation_id in sorted(unfollowed & self.unfollowed_at_last_ping):
            conversation = await database_call(
                chat_selectors.conversation_get, conversation_id=conversation_id
            )
            still_theirs = conversation is not None and conversation.expert_id == self.expert.pk
            if still_theirs and conversation.status == conversation.Status.ACTIVE:
                snapshot = chat_selectors.conversation_data(conversation)
                await self.forward(ChatAssigned(type="chat.assigned", conversation=snapshot))
        self.unfollowed_at_last_ping = unfollowed

    async def on_customer_history(self, frame: dict[str, Any]) -> None:
        self.require_following(frame["conversation"])
        chats = await database_call(
            chat_selectors.customer_earlier_chats, conversation_id=frame["conversation"]
        )
        await self.send_frame(
            CustomerHistory(
                type="customer.history", conversation=frame["conversation"], chats=chats
            )
        )

    async def on_transfer_targets(self, frame: dict[str, Any]) -> None:
        experts = await database_call(chat_selectors.transfer_targets, expert=self.expert)
        await self.send_frame(TransferTargets(type="transfer.targets", experts=experts))

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
            chat_services.conversation_resolve,
            conversation_id=frame["conversation"],
            expert=self.expert,
            summary=frame["summary"],
        )

    async def on_chat_transfer(self, frame: dict[str, Any]) -> None:
        await database_call(
            chat_services.conversation_transfer,
            conversation_id=frame["conversation"],
            expert=self.expert,
            to_expert_id=frame["expert"],
            note=frame.get("note", ""),
        )
