"""WebSocket frames of the points app (console and staff sockets); see docs/protocol.md."""

from points.selectors import PERIODS
from realtime.frames import Choice, FrameSpecs

LEADERBOARD_FRAMES: FrameSpecs = {
    "leaderboard.watch": {"period": Choice(PERIODS)},
}
