"""docs/protocol.md names every frame and event the code sends or accepts, and
nothing the code does not have."""

import re
from pathlib import Path

from chat.protocol import CUSTOMER_FRAMES, EXPERT_FRAMES, STAFF_FRAMES
from points.protocol import LEADERBOARD_FRAMES

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "protocol.md").read_text()
# Not frames: ASGI messages, the relay envelope, the health probe's own event.
NOT_FRAMES = {"websocket.accept", "websocket.close", "relay", "readyz"}
# The first column of the `error` frame's field table.
ERROR_FIELDS = {"client_id", "code", "ref", "retry_after", "id"}


def sent_by_code() -> set[str]:
    types = set()
    for app in ("chat", "community", "points", "rewards", "config", "realtime"):
        for source in (ROOT / app).rglob("*.py"):
            types |= set(re.findall(r'"type": "([a-z_.]+)"', source.read_text()))
    return types - NOT_FRAMES


def accepted_by_code() -> set[str]:
    specs = (CUSTOMER_FRAMES, EXPERT_FRAMES, STAFF_FRAMES, LEADERBOARD_FRAMES)
    return {name for frames in specs for name in frames}


def documented_in_tables() -> set[str]:
    names = set()
    for cell in re.findall(r"^\| (`[^|]+`) ", DOC, flags=re.MULTILINE):
        names |= set(re.findall(r"`([a-z_.]+)[` ]", cell))
    return names - ERROR_FIELDS


def test_every_frame_and_event_in_the_code_is_documented():
    undocumented = {
        name
        for name in sent_by_code() | accepted_by_code()
        if not re.search(rf"`{re.escape(name)}[` ]", DOC)
    }
    assert not undocumented


def test_every_frame_in_the_documents_tables_exists_in_the_code():
    assert not documented_in_tables() - sent_by_code() - accepted_by_code()
