"""`/ws/staff/`: the live monitor, moderation and the leaderboard for staff."""

import asyncio
from typing import Any

from django.utils.translation import gettext as _

from chat import protocol, selectors, services
from chat.consumers.base import ChatSocket
from community.permissions import may_moderate
from config.errors import ServiceError
from points.consumers import LeaderboardFeed
from points.protocol import LEADERBOARD_FRAMES
from realtime import async_db, broadcast
from realtime.broadcast import database_call


@async_db.read_once_for_all_waiting
async def _monitor_snapshot_shared() -> protocol.Monitor:
    """One snapshot for every staff socket of this process that asked before it was
    read: a change rings every monitor at once, and with 1,000 live chats a snapshot
    is 72 ms of the database thread, which drains also wait for (docs/performance.md,
    "Time per page and frame as the community grows")."""
    return await database_call(selectors.monitor_snapshot)


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
        await self.send_frame(await _monitor_snapshot_shared())

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
            protocol.ConversationFrame(
                type="conversation", conversation=selectors.conversation_data(conversation)
            )
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
