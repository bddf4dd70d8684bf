"""The live leaderboard, mixed into every socket that shows it."""

import asyncio
from collections import OrderedDict
from typing import Any

from points import selectors
from points.protocol import Leaderboard
from realtime import broadcast
from realtime.broadcast import database_call

# (period, ledger entry id) -> the board read once that entry's frame reached this
# process: every socket showing the board awaits the same read, so an award costs one
# query and one trip to the database thread per process, not one trip per socket.
_reads: OrderedDict[tuple[str, int], asyncio.Task] = OrderedDict()
_READS_KEPT = 32


def _board_read_after(period: str, entry_id: int) -> asyncio.Task:
    key = (period, entry_id)
    read = _reads.get(key)
    if read is None or read.get_loop() is not asyncio.get_running_loop():
        read = asyncio.ensure_future(database_call(selectors.leaderboard, period=period))
        _reads[key] = read
        while len(_reads) > _READS_KEPT:
            _reads.popitem(last=False)
    return read


class LeaderboardFeed:
    """Mixin for a realtime.sockets.FrameSocket; `viewer_id` marks the viewer's own row."""

    leaderboard_period = "week"
    viewer_id: int | None = None

    async def watch_leaderboard(self) -> None:
        await self.join(broadcast.LEADERBOARD)
        await self.send_leaderboard()

    async def send_leaderboard(self, rows: list[dict[str, Any]] | None = None) -> None:
        if rows is None:
            rows = await database_call(selectors.leaderboard, period=self.leaderboard_period)
        await self.send_frame(
            Leaderboard(
                type="leaderboard",
                period=self.leaderboard_period,
                **selectors.leaderboard_view(rows=rows, expert_id=self.viewer_id),
            )
        )

    async def on_leaderboard_watch(self, frame: dict[str, Any]) -> None:
        self.leaderboard_period = frame["period"]
        await self.send_leaderboard()

    async def forward(self, frame: dict[str, Any]) -> None:
        if frame["type"] != "leaderboard.changed":
            await super().forward(frame)
            return
        # Shielded: a socket closing must not cancel the read the others wait for.
        read = _board_read_after(self.leaderboard_period, frame["entry"])
        await self.send_leaderboard(await asyncio.shield(read))
