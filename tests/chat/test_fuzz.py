"""Hostile input: whatever arrives, the answer is a frame or a documented close,
the server stays up and nothing changes in the database."""

import json
import re
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.models import Conversation, Message, Visitor
from chat.protocol import (
    CLOSE_VISITOR_TOKEN_REFUSED,
    CUSTOMER_FRAMES,
    EXPERT_FRAMES,
    STAFF_FRAMES,
)
from realtime.frames import Boolean, Choice, Integer, ProtocolError, Text, parse_frame
from realtime.sockets import FrameSocket
from tests.chat.test_consumers import greet, receive_until, widget

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
frame_types = st.sampled_from(sorted({*CUSTOMER_FRAMES, *EXPERT_FRAMES, *STAFF_FRAMES}))
frames = st.one_of(
    st.text(max_size=200),  # not JSON at all
    json_values.map(json.dumps),
    st.builds(  # well-formed type, arbitrary fields
        lambda kind, fields: json.dumps({**fields, "type": kind}),
        frame_types,
        st.dictionaries(
            st.sampled_from(
                [
                    "conversation",
                    "body",
                    "client_id",
                    "seq",
                    "topic",
                    "rating",
                    "email",
                    "last_seq",
                    "active",
                    "status",
                    "period",
                    "token",
                    "lang",
                    "summary",
                    "expert",
                ]
            ),
            json_values,
            max_size=6,
        ),
    ),
    st.integers(1, 20_000).map(lambda depth: "[" * depth + "]" * depth),  # deep nesting
)


def _valid_value(spec, ids):
    if isinstance(spec, Text):
        return st.text(min_size=spec.min_length, max_size=min(spec.max_length, 300)).filter(
            lambda text: len(text.strip()) >= spec.min_length
        )
    if isinstance(spec, Integer):  # mostly ids of real rows
        return st.sampled_from(ids) | st.integers(spec.minimum, spec.maximum)
    if isinstance(spec, Boolean):
        return st.booleans()
    assert isinstance(spec, Choice)
    return st.sampled_from(spec.choices)


def valid_frames(specs, ids):
    """Frames that pass validation with arbitrary values (numbers mostly from `ids`),
    so handlers and services see them, not just the parser."""

    def of_type(kind):
        fields = specs[kind]
        return st.fixed_dictionaries(
            {name: _valid_value(spec, ids) for name, spec in fields.items() if spec.required},
            optional={
                name: _valid_value(spec, ids) for name, spec in fields.items() if not spec.required
            },
        ).map(lambda frame: json.dumps({**frame, "type": kind}))

    return st.one_of([of_type(kind) for kind in sorted(specs)])


@given(frames)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_parsing_never_fails_with_anything_but_a_protocol_error(raw):
    for specs in (CUSTOMER_FRAMES, EXPERT_FRAMES, STAFF_FRAMES):
        try:
            frame = parse_frame(raw, None, specs)
        except ProtocolError as refused:
            assert refused.code and refused.message
        else:
            assert frame["type"] in specs


def widget_frames_in_the_docs() -> set[str]:
    """The first column of docs/protocol.md's "Server → client" table for the widget."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    widget = doc.split("## Widget (customer) frames")[1].split("\n## ")[0]
    table = widget.split("Server → client:")[1]
    names = set()
    for cell in re.findall(r"^\| ([^|]+) \|", table, flags=re.MULTILINE):
        names |= set(re.findall(r"`([a-z_.]+)`", cell))
    return names


# What the widget may send back to anything at all.
WIDGET_REPLIES = {"error", *widget_frames_in_the_docs()}
# Pushed to a widget through the channel layer when something changes, so one may
# arrive while a later frame is handled: not an answer to that frame.
PUSHED = {
    "queue",
    "availability",
    "conversation",
    "expert.presence",
    "message",
    "typing",
    "receipt",
}


def answers(replies: list[dict]) -> list[dict]:
    return [frame for frame in replies if frame["type"] not in PUSHED]


async def replies_until_pong(socket, pongs: int = 1) -> list[dict] | int:
    """The frames that come before the `pongs`-th pong, or the close code if the
    socket was closed first. Frames are handled in order, so whatever the frames
    sent before a ping caused arrives before its pong."""
    replies = []
    while True:
        output = await socket.receive_output(timeout=3)  # a crash would surface here
        if output["type"] == "websocket.close":
            return output["code"]
        frame = json.loads(output["text"])
        if frame["type"] == "pong":
            pongs -= 1
            if not pongs:
                return replies
            continue
        replies.append(frame)


def conversation_id(frame: dict) -> int | None:
    """The chat a frame is about, if any (refusals say which frame, not which chat)."""
    if frame["type"] == "error":
        return None
    about = frame.get("conversation")
    return about["id"] if isinstance(about, dict) else about


def widget_rows():
    return database_sync_to_async(
        lambda: (Message.objects.count(), Conversation.objects.count(), Visitor.objects.count())
    )()


# Hostile frames (given the id of the sender's own chat) and the error code each must get.
REFUSED_FRAMES = [
    pytest.param(
        lambda chat: json.dumps(
            {"type": "message.send", "conversation": chat, "body": "x" * 50_000, "client_id": "b"}
        ),
        "frame_too_large",
        id="50KB-message",
    ),
    pytest.param(  # a valid message in an oversized frame: stored, if the size went unchecked
        lambda chat: json.dumps(
            {
                "type": "message.send",
                "conversation": chat,
                "body": "Hello",
                "client_id": "padded",
                "padding": "x" * 50_000,
            }
        ),
        "frame_too_large",
        id="50KB-frame-around-a-valid-message",
    ),
    pytest.param(lambda chat: "null", "bad_json", id="null"),
    pytest.param(lambda chat: "[]", "bad_json", id="array"),
    pytest.param(lambda chat: '{"type": 7}', "bad_json", id="numeric-type"),
    pytest.param(lambda chat: "{'type': 'ping'}", "bad_json", id="not-json"),
    pytest.param(lambda chat: "[" * 5_000 + "]" * 5_000, "bad_json", id="deep-nesting"),
    pytest.param(
        lambda chat: json.dumps({"type": "chat.delete", "conversation": chat}),
        "unknown_type",
        id="unknown-type",
    ),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("hostile", "code"), REFUSED_FRAMES)
async def test_widget_refuses_a_hostile_frame_with_the_documented_error(settings, hostile, code):
    """A socket of its own per frame, so the flood limit never hides one from the server."""
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    socket = await widget()
    await greet(socket)
    await socket.send_json_to({"type": "chat.start", "topic": "Pairing help"})
    chat = (await receive_until(socket, "conversation"))["conversation"]["id"]
    await socket.send_json_to({"type": "ping"})
    await replies_until_pong(socket)
    before = await widget_rows()

    await socket.send_to(text_data=hostile(chat))
    await socket.send_json_to({"type": "ping"})  # handled after it: the socket is still up
    replies = await replies_until_pong(socket)

    assert [(frame["type"], frame.get("code")) for frame in answers(replies)] == [("error", code)]
    assert answers(replies)[0]["message"]
    assert await widget_rows() == before
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
async def test_widget_survives_a_stream_of_hostile_frames(settings, monkeypatch):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    monkeypatch.setattr(FrameSocket, "FRAME_BURST", 1_000)  # every frame is handled
    other = await database_sync_to_async(Conversation.objects.create)(
        visitor=await database_sync_to_async(Visitor.objects.create)(), topic="Someone else's"
    )
    samples = [raw for raw in (frames.example() for _ in range(150)) if raw]
    # Valid frames too, aimed at someone else's chat, so the handlers see them.
    samples += [valid_frames(CUSTOMER_FRAMES, [other.pk, 1, 2]).example() for _ in range(100)]
    # What the server must answer to each: what the parser says, except for the known
    # hostile frames, whose code is fixed (a parser that let them through fails here too).
    expected = {raw: None for raw in samples}
    for hostile, code in (case.values for case in REFUSED_FRAMES):
        expected[hostile(other.pk)] = code
    socket = await widget()
    await greet(socket)
    handled = 0
    for raw, refused in expected.items():
        try:
            parsed = parse_frame(raw, None, CUSTOMER_FRAMES)
        except ProtocolError as error:
            parsed, refused = None, refused or error.code
        await socket.send_to(text_data=raw)
        await socket.send_json_to({"type": "ping"})
        # A ping among the samples gets a pong of its own before ours.
        pongs = 2 if parsed and parsed["type"] == "ping" else 1
        replies = await replies_until_pong(socket, pongs)
        handled += 1
        if isinstance(replies, int):  # closed: only for a `hello` whose token we never issued
            hello = parsed if parsed and parsed["type"] == "hello" else {}
            assert (replies, bool(hello.get("token"))) == (CLOSE_VISITOR_TOKEN_REFUSED, True), raw
            socket = await widget()
            await greet(socket)
            continue
        assert {frame["type"] for frame in replies} <= WIDGET_REPLIES, raw
        errors = [frame["code"] for frame in replies if frame["type"] == "error"]
        if refused:  # that error alone, nothing handled
            assert [frame.get("code") for frame in answers(replies)] == [refused], raw
        assert "rate_limited" not in errors
        # Nothing of someone else's chat comes back, whatever the frame asked for.
        assert other.pk not in {conversation_id(frame) for frame in replies}, raw
        assert all(frame["message"] for frame in replies if frame["type"] == "error")
    await socket.disconnect()
    assert handled == len(expected)
    # Whatever the frames said, nobody else's chat changed and nothing oversized was stored.
    assert not await database_sync_to_async(
        Message.objects.filter(client_id__in=["b", "padded"]).exists
    )()
    after = await database_sync_to_async(Conversation.objects.get)(pk=other.pk)
    assert (after.status, after.last_seq, after.rating, after.customer_left_at) == (
        "waiting",
        0,
        None,
        None,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@pytest.mark.parametrize("path", ["/ws/console/", "/ws/staff/"])
async def test_console_and_staff_sockets_survive_a_stream_of_hostile_frames(
    path, settings, monkeypatch, make_expert, make_visitor
):
    from chat import services
    from tests.conftest import create_staff
    from tests.points.test_leaderboard_live import connect

    settings.ALLOWED_HOSTS = ["testserver"]
    monkeypatch.setattr(FrameSocket, "FRAME_BURST", 1_000)  # every frame is handled
    # Bram's live chat: the expert at the fuzzed console has no right to touch it.
    bram = await database_sync_to_async(make_expert)(name="Bram")
    bystander = await database_sync_to_async(services.conversation_start)(
        visitor=await database_sync_to_async(make_visitor)(), topic="Bram's chat"
    )
    anna = await database_sync_to_async(make_expert)(name="Anna")
    user = (
        anna.user
        if path == "/ws/console/"
        else await database_sync_to_async(create_staff)(username="lead")
    )
    specs = EXPERT_FRAMES if path == "/ws/console/" else STAFF_FRAMES
    samples = [raw for raw in (frames.example() for _ in range(100)) if raw]
    # Ids of Bram's chat, its messages' seqs and both experts, so the frames aim at them.
    ids = sorted({bystander.pk, 1, 2, bram.pk, anna.pk})
    samples += [valid_frames(specs, ids).example() for _ in range(150)]
    samples.append(
        json.dumps(
            {"type": "message.send", "conversation": 1, "body": "x" * 50_000, "client_id": "big"}
        )
    )

    socket = await connect(path, user)
    for raw in samples:
        await socket.send_to(text_data=raw)
        # Frames are handled in order: whatever the sample caused arrives before the pong.
        await socket.send_json_to({"type": "ping"})
        while True:
            output = await socket.receive_output(timeout=3)  # a crash would surface here
            assert output["type"] == "websocket.send", output
            frame = json.loads(output["text"])
            if frame["type"] == "pong":
                break
            assert isinstance(frame["type"], str)
            if frame["type"] == "error":
                assert frame["code"] and frame["message"]
    await socket.disconnect()
    assert await database_sync_to_async(Message.objects.filter(client_id="big").count)() == 0
    if path == "/ws/console/":
        after = await database_sync_to_async(Conversation.objects.get)(pk=bystander.pk)
        assert (after.status, after.expert_id, after.last_seq) == ("active", bram.pk, 2)
