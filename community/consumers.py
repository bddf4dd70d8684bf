"""The staff socket: what staff pages watch live."""

from typing import Any

from chat.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ChatSocket
from config import realtime
from points.consumers import LeaderboardFeed
from points.protocol import LEADERBOARD_FRAMES


class StaffConsumer(LeaderboardFeed, ChatSocket):
    frames = {"ping": {}, **LEADERBOARD_FRAMES}

    async def connect(self) -> None:
        await super().connect()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not user.is_staff:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(realtime.STAFF, self.channel_name)
        await self.watch_leaderboard()

    async def forward(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "leaderboard.changed":
            await self.leaderboard_changed(frame["entry"])
            return
        await self.send_frame(frame)

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.send_frame({"type": "pong"})
