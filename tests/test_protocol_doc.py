"""The protocol is declared once: every frame the server sends and every event
between processes is a typed dict in an app's protocol module, the code builds them
only through those, and docs/protocol.md names each of them and nothing else."""

import re
import typing
from pathlib import Path

from chat import protocol as chat_protocol
from chat.protocol import CUSTOMER_FRAMES, EXPERT_FRAMES, STAFF_FRAMES
from community import protocol as community_protocol
from points import protocol as points_protocol
from points.protocol import LEADERBOARD_FRAMES
from realtime import frames as realtime_frames
from rewards import protocol as rewards_protocol

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "protocol.md").read_text()
PROTOCOL_MODULES = (
    chat_protocol,
    community_protocol,
    points_protocol,
    rewards_protocol,
    realtime_frames,
)
APPS = ("chat", "community", "points", "rewards", "backoffice", "realtime", "config")
# Not frames: the relay envelope (its `frame` is one of the others).
NOT_FRAMES = {"relay"}
# The first column of the `error` frame's field table.
ERROR_FIELDS = {"client_id", "code", "ref", "retry_after", "id"}


def declared_outbound() -> dict[str, list[str]]:
    """frame type -> the typed dicts that declare it."""
    declared: dict[str, list[str]] = {}
    for module in PROTOCOL_MODULES:
        for name, value in vars(module).items():
            if typing.is_typeddict(value) and value.__module__ == module.__name__:
                hints = typing.get_type_hints(value)
                for frame_type in typing.get_args(hints["type"]):
                    declared.setdefault(frame_type, []).append(f"{module.__name__}.{name}")
    return declared


def accepted_by_code() -> set[str]:
    specs = (CUSTOMER_FRAMES, EXPERT_FRAMES, STAFF_FRAMES, LEADERBOARD_FRAMES)
    return {name for frames in specs for name in frames}


def documented_in_tables() -> set[str]:
    names = set()
    for cell in re.findall(r"^\| (`[^|]+`) ", DOC, flags=re.MULTILINE):
        names |= set(re.findall(r"`([a-z_.]+)[` ]", cell))
    return names - ERROR_FIELDS


def test_every_frame_and_event_is_documented():
    declared = set(declared_outbound()) - NOT_FRAMES
    undocumented = {
        name
        for name in declared | accepted_by_code()
        if not re.search(rf"`{re.escape(name)}[` ]", DOC)
    }
    assert not undocumented


def test_every_frame_in_the_documents_tables_is_declared_in_the_code():
    assert not documented_in_tables() - set(declared_outbound()) - accepted_by_code()


def test_outbound_frames_are_built_only_through_their_typed_dicts():
    """A dict literal with a "type" outside the protocol modules is a frame nobody declared
    (ASGI's own messages and the health probe aside)."""
    undeclared = []
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            for frame_type in re.findall(r'"type": "([a-z_.]+)"', source.read_text()):
                if not frame_type.startswith("websocket.") and frame_type != "readyz":
                    undeclared.append(f"{source.relative_to(ROOT)}: {frame_type}")
    built = set()
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            built |= set(re.findall(r'\(\s*type="([a-z_.]+)"', source.read_text()))
    assert undeclared == []
    assert built == set(declared_outbound())  # each declared frame is built somewhere
