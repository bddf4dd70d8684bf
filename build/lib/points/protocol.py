"""WebSocket frames of the points app (console and staff sockets); see docs/protocol.md."""

from config.frames import Choice, FrameSpecs
from points.selectors import PERIODS

LEADERBOARD_FRAMES: FrameSpecs = {
    "leaderboard.watch": {"period": Choice(PERIODS)},
}
