"""WebSocket frames of the points app on the console, expert and staff sockets: what
clients may send (checked specs) and what the server sends; see docs/protocol.md."""

from typing import Any, Literal, TypedDict

from points.selectors import PERIODS
from realtime.frames import Choice, FrameSpecs

LEADERBOARD_FRAMES: FrameSpecs = {
    "leaderboard.watch": {"period": Choice(PERIODS)},
}


class Leaderboard(TypedDict):
    type: Literal["leaderboard"]
    period: str
    rows: list[dict[str, Any]]
    me: dict[str, Any] | None


class Points(TypedDict):
    """To the expert: their balance moved by `entry`."""

    type: Literal["points"]
    balance: int
    entry: dict[str, Any]


class LeaderboardChanged(TypedDict):
    """Between processes: a ledger entry moved the standings."""

    type: Literal["leaderboard.changed"]
    entry: int
