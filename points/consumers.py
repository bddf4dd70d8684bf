"""The live leaderboard, mixed into every socket that shows it."""

from typing import Any

from points import selectors
from points.protocol import Leaderboard
from realtime import broadcast
from realtime.broadcast import database_call

# period -> (ledger entry id the rows include, rows): one query per award and
# process, however many sockets show the board.
_computed: dict[str, tuple[int, list[dict[str, Any]]]] = {}


def _rows_including(period: str, entry_id: int) -> list[dict[str, Any]]:
    cached = _computed.get(period)
    if cached and cached[0] >= entry_id:
        return cached[1]
    rows = selectors.leaderboard(period=period)
    _computed[period] = (entry_id, rows)
    return rows


class LeaderboardFeed:
    """Mixin for a realtime.sockets.FrameSocket; `viewer_id` marks the viewer's own row."""

    leaderboard_period = "week"
    viewer_id: int | None = None

    async def watch_leaderboard(self) -> None:
        await self.join(broadcast.LEADERBOARD)
        await self.send_leaderboard(selectors.leaderboard)

    async def send_leaderboard(self, compute) -> None:
        rows = await database_call(compute, period=self.leaderboard_period)
        await self.send_frame(
            Leaderboard(
                type="leaderboard",
                period=self.leaderboard_period,
                **selectors.leaderboard_view(rows=rows, expert_id=self.viewer_id),
            )
        )

    async def on_leaderboard_watch(self, frame: dict[str, Any]) -> None:
        self.leaderboard_period = frame["period"]
        await self.send_leaderboard(selectors.leaderboard)

    async def forward(self, frame: dict[str, Any]) -> None:
        if frame["type"] != "leaderboard.changed":
            await super().forward(frame)
            return
        entry_id = frame["entry"]
        await self.send_leaderboard(lambda period: _rows_including(period, entry_id))
