"""Hostile input: whatever arrives, the answer is a frame or a documented close,
the server stays up and nothing changes in the database."""

import json

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
from tests.chat.test_consumers import greet, widget

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
async def test_widget_survives_a_stream_of_hostile_frames(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    samples = [raw for raw in (frames.example() for _ in range(150)) if raw]
    samples += [
        json.dumps(
            {"type": "message.send", "conversation": 1, "body": "x" * 50_000, "client_id": "big"}
        ),
        "null",
        "[]",
        '{"type": 7}',
    ]

    other = await database_sync_to_async(Conversation.objects.create)(
        visitor=await database_sync_to_async(Visitor.objects.create)(), topic="Someone else's"
    )
    socket = await widget()
    await greet(socket)
    for raw in samples:
        await socket.send_to(text_data=raw)
        output = await socket.receive_output(timeout=3)
        if output["type"] == "websocket.close":  # only documented closes
            # flooding, or a `hello` whose token is not one we issued
            assert output["code"] in (4429, CLOSE_VISITOR_TOKEN_REFUSED)
            break
        frame = json.loads(output["text"])
        assert frame["type"] in {
            "error",
            "pong",
            "welcome",
            "identity",
            "conversation",
            "history",
            "queue",
            "offline.sent",
            "message.ack",
        }
    await socket.disconnect()
    # Whatever the frames said, nobody else's chat changed and nothing oversized was stored.
    assert await database_sync_to_async(Message.objects.filter(client_id="big").count)() == 0
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
