"""The widget and console sockets through the real ASGI application and channel layer."""

import asyncio
import json
import time
from datetime import datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from chat.models import Conversation, Message
from community.models import ConsoleLease, Expert, ShiftSlot
from realtime import async_db
from tests.conftest import session_cookie_for

pytestmark = [pytest.mark.django_db(transaction=True)]

SHOP = b"http://shop.example"


@pytest.fixture(autouse=True)
def _widget_origin(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


def app():
    # Built per test so origin settings from fixtures apply.
    from config.asgi import websocket_application

    return websocket_application()


async def widget(origin: bytes = SHOP) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(app(), "/ws/widget/", headers=[(b"origin", origin)])
    connected, _ = await socket.connect()
    assert connected
    return socket


async def console(user) -> WebsocketCommunicator:
    cookie = await database_sync_to_async(session_cookie_for)(user)
    socket = WebsocketCommunicator(
        app(), "/ws/console/", headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)]
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


async def receive_until(socket, kind: str, timeout: float = 3) -> dict:
    """Frames of other types may come first (e.g. a `conversation` before `history`)."""
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def greet(socket, token=None) -> dict:
    await socket.send_json_to({"type": "hello", "token": token, "lang": "en"})
    return await receive_until(socket, "welcome")


async def assigned_chat(expert) -> tuple[WebsocketCommunicator, WebsocketCommunicator, int]:
    """The expert's console and a customer's widget whose new chat went to them."""
    expert_socket = await console(expert.user)
    await receive_until(expert_socket, "welcome")
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Battery"})
    conversation_id = (await receive_until(customer, "conversation"))["conversation"]["id"]
    await receive_until(expert_socket, "history")
    return expert_socket, customer, conversation_id


async def no_more_frames(socket) -> bool:
    """Nothing more arrives, besides the queue counts every console hears."""
    while not await socket.receive_nothing(timeout=0.3):
        if (await socket.receive_json_from())["type"] != "queue.length":
            return False
    return True


async def eventually(read, until, timeout: float = 3) -> object:
    """Read (awaiting `read()`) until `until(value)` holds or `timeout` seconds have
    passed, and return the last value read, for the assertion that follows to check:
    a wait on the condition itself, rather than a guess at how long it takes."""
    deadline = time.monotonic() + timeout
    while not until(value := await read()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return value


async def next_frame(socket) -> dict:
    """The next frame, past the queue counts every console hears as the queue moves."""
    while (frame := await socket.receive_json_from())["type"] == "queue.length":
        pass
    return frame


async def test_customer_and_expert_chat_end_to_end(make_expert):
    expert = await database_sync_to_async(make_expert)(name="Anna de Vries")
    expert_socket = await console(expert.user)
    welcome = await receive_until(expert_socket, "welcome")
    assert welcome["expert"]["name"] == "Anna de Vries"

    customer = await widget()
    hello = await greet(customer)
    assert hello["token"] is None and hello["experts_on_shift"] == 1
    await customer.send_json_to({"type": "chat.start", "topic": "Pairing help", "name": "Sam"})
    identity = await receive_until(customer, "identity")
    state = await receive_until(customer, "conversation")
    assert state["conversation"]["status"] == "active"
    history = await receive_until(customer, "history")
    assert [m["body"] for m in history["messages"]] == [
        "Pairing help",
        "Anna de Vries joined the chat.",
    ]
    conversation_id = state["conversation"]["id"]

    assigned = await receive_until(expert_socket, "chat.assigned")
    assert assigned["conversation"]["customer"]["name"] == "Sam"
    await receive_until(expert_socket, "history")

    await expert_socket.send_json_to(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "body": "Hi Sam!",
            "client_id": "e1",
        }
    )
    ack = await receive_until(expert_socket, "message.ack")
    assert ack["seq"] == 3
    incoming = await receive_until(customer, "message")
    assert incoming["message"] == {
        **incoming["message"],
        "seq": 3,
        "body": "Hi Sam!",
        "sender": "expert",
        "author": "Anna de Vries",
    }

    await customer.send_json_to({"type": "typing", "conversation": conversation_id, "active": True})
    typing = await receive_until(expert_socket, "typing")
    assert typing["who"] == "customer" and typing["active"] is True

    await customer.send_json_to(
        {"type": "receipt", "conversation": conversation_id, "seq": 3, "status": "read"}
    )
    receipt = await receive_until(expert_socket, "receipt")
    assert receipt["reader"] == "customer" and receipt["seq"] == 3

    await expert_socket.send_json_to(
        {"type": "chat.resolve", "conversation": conversation_id, "summary": "Re-paired"}
    )
    removed = await receive_until(expert_socket, "chat.removed")
    assert removed == {
        "type": "chat.removed",
        "conversation": conversation_id,
        "reason": "resolved",
    }
    closed = await receive_until(customer, "conversation")
    assert closed["conversation"]["status"] == "resolved"

    await customer.send_json_to({"type": "chat.rate", "conversation": conversation_id, "rating": 5})
    rated = await receive_until(customer, "conversation")
    assert rated["conversation"]["rating"] == 5

    # A returning visitor gets the chat back with its token.
    await customer.disconnect()
    again = await widget()
    hello = await greet(again, token=identity["token"])
    assert hello["conversation"]["id"] == conversation_id
    await again.disconnect()
    await expert_socket.disconnect()


async def test_resume_after_disconnect_delivers_exactly_the_gap(make_expert):
    expert = await database_sync_to_async(make_expert)()
    expert_socket = await console(expert.user)
    await receive_until(expert_socket, "welcome")
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Battery"})
    token = (await receive_until(customer, "identity"))["token"]
    conversation_id = (await receive_until(customer, "conversation"))["conversation"]["id"]
    seen = (await receive_until(customer, "history"))["messages"][-1]["seq"]
    await receive_until(expert_socket, "history")

    await customer.disconnect()
    for n in range(3):
        await expert_socket.send_json_to(
            {
                "type": "message.send",
                "conversation": conversation_id,
                "body": f"while you were away {n}",
                "client_id": f"a{n}",
            }
        )
        await receive_until(expert_socket, "message.ack")

    back = await widget()
    await greet(back, token=token)
    await back.send_json_to({"type": "resume", "conversation": conversation_id, "last_seq": seen})
    history = await receive_until(back, "history")
    assert [m["body"] for m in history["messages"]] == [
        f"while you were away {n}" for n in range(3)
    ]
    assert [m["seq"] for m in history["messages"]] == [seen + 1, seen + 2, seen + 3]

    # Live messages continue from there, with no duplicates.
    await expert_socket.send_json_to(
        {
            "type": "message.send",
            "conversation": conversation_id,
            "body": "welcome back",
            "client_id": "b",
        }
    )
    live = await receive_until(back, "message")
    assert live["message"]["seq"] == seen + 4
    assert await no_more_frames(back)
    await back.disconnect()
    await expert_socket.disconnect()


async def test_fourth_customer_waits_with_a_position_then_gets_the_freed_slot(make_expert):
    expert = await database_sync_to_async(make_expert)()
    expert_socket = await console(expert.user)
    await receive_until(expert_socket, "welcome")
    customers, ids = [], []
    for n in range(4):
        customer = await widget()
        await greet(customer)
        await customer.send_json_to({"type": "chat.start", "topic": f"Q{n}"})
        ids.append((await receive_until(customer, "conversation"))["conversation"]["id"])
        customers.append(customer)
    queue = await receive_until(customers[3], "queue")
    assert queue["position"] == 1

    await expert_socket.send_json_to(
        {"type": "chat.resolve", "conversation": ids[0], "summary": "ok"}
    )
    assigned = await receive_until(customers[3], "conversation")
    assert assigned["conversation"]["status"] == "active"
    for socket in customers + [expert_socket]:
        await socket.disconnect()


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        (json.dumps({"type": "launch.missiles"}), "unknown_type"),
        (
            json.dumps(
                {"type": "message.send", "conversation": "1", "body": "x", "client_id": "c"}
            ),
            "bad_field",
        ),
        (
            json.dumps(
                {"type": "message.send", "conversation": 1, "body": "x" * 4001, "client_id": "c"}
            ),
            "too_long",
        ),
        ("x" * 20000, "frame_too_large"),
    ],
)
async def test_malformed_frames_get_an_error_and_change_nothing(make_expert, raw, code):
    expert = await database_sync_to_async(make_expert)()
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Q"})
    await receive_until(customer, "history")
    before = await database_sync_to_async(Message.objects.count)()

    await customer.send_to(text_data=raw)
    error = await receive_until(customer, "error")
    assert error["code"] == code and error["message"]
    assert await database_sync_to_async(Message.objects.count)() == before

    # The socket is still usable afterwards.
    await customer.send_json_to({"type": "ping"})
    assert (await receive_until(customer, "pong"))["type"] == "pong"
    await customer.disconnect()
    assert expert


async def test_binary_frames_are_refused():
    customer = await widget()
    await customer.send_to(bytes_data=b"\x00\x01")
    assert (await receive_until(customer, "error"))["code"] == "bad_json"
    await customer.disconnect()


async def test_frames_before_hello_are_refused():
    customer = await widget()
    await customer.send_json_to({"type": "chat.start", "topic": "Q"})
    assert (await receive_until(customer, "error"))["code"] == "hello_required"
    assert not await database_sync_to_async(Conversation.objects.exists)()
    await customer.disconnect()


async def test_each_widget_is_welcomed_in_its_shoppers_language():
    """The widget's words come in `welcome`, worked out once per language: a Dutch
    shopper after an English one still reads Dutch, and the other way round."""
    titles = []
    for lang in ("en", "nl", "en", "nl-BE"):
        customer = await widget()
        await customer.send_json_to({"type": "hello", "token": None, "lang": lang})
        titles.append((await receive_until(customer, "welcome"))["strings"]["title"])
        await customer.disconnect()
    english, dutch = "Ask a brand expert", "Vraag het een merkexpert"
    assert titles == [english, dutch, english, dutch]


async def test_widget_from_a_foreign_origin_is_refused():
    socket = WebsocketCommunicator(
        app(), "/ws/widget/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await socket.connect()
    assert not connected


async def test_console_from_a_widget_origin_is_refused(make_expert):
    expert = await database_sync_to_async(make_expert)()
    cookie = await database_sync_to_async(session_cookie_for)(expert.user)
    socket = WebsocketCommunicator(
        app(), "/ws/console/", headers=[(b"origin", SHOP), (b"cookie", cookie)]
    )
    connected, _ = await socket.connect()
    assert not connected


async def test_console_refuses_anonymous_and_non_experts(make_visitor):
    socket = WebsocketCommunicator(
        app(), "/ws/console/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await socket.connect()
    assert connected  # accepted, then closed with a documented code
    assert (await socket.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4401}

    from django.contrib.auth import get_user_model

    shopper = await database_sync_to_async(get_user_model().objects.create_user)(
        username="not-an-expert", password="pw-123456"
    )
    socket = await console(shopper)
    assert (await socket.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4403}


async def test_customer_cannot_read_or_write_someone_elses_chat(make_expert):
    await database_sync_to_async(make_expert)()
    owner = await widget()
    await greet(owner)
    await owner.send_json_to({"type": "chat.start", "topic": "Mine"})
    conversation_id = (await receive_until(owner, "conversation"))["conversation"]["id"]

    stranger = await widget()
    await greet(stranger)
    await stranger.send_json_to({"type": "chat.start", "topic": "Other"})
    await receive_until(stranger, "history")
    for frame in (
        {"type": "resume", "conversation": conversation_id, "last_seq": 0},
        {"type": "message.send", "conversation": conversation_id, "body": "hi", "client_id": "x"},
        {"type": "typing", "conversation": conversation_id, "active": True},
        {"type": "chat.leave", "conversation": conversation_id},
        {"type": "chat.rate", "conversation": conversation_id, "rating": 1},
    ):
        await stranger.send_json_to(frame)
        assert (await receive_until(stranger, "error"))["code"] == "not_found"
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.last_seq == 2 and conversation.customer_left_at is None
    assert conversation.rating is None
    await owner.disconnect()
    await stranger.disconnect()


async def test_expert_sees_only_chats_assigned_to_them(make_expert):
    anna = await database_sync_to_async(make_expert)(name="Anna")
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Anna's"})
    conversation_id = (await receive_until(customer, "conversation"))["conversation"]["id"]
    bram = await database_sync_to_async(make_expert)(name="Bram")
    bram_socket = await console(bram.user)
    await receive_until(bram_socket, "welcome")
    for frame in (
        {"type": "resume", "conversation": conversation_id, "last_seq": 0},
        {"type": "message.send", "conversation": conversation_id, "body": "hi", "client_id": "x"},
        {"type": "chat.resolve", "conversation": conversation_id, "summary": "mine now"},
    ):
        await bram_socket.send_json_to(frame)
        assert (await receive_until(bram_socket, "error"))["code"] == "not_found"
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert conversation.status == "active" and conversation.expert_id == anna.pk
    await customer.disconnect()
    await bram_socket.disconnect()


async def test_expert_console_disconnect_starts_the_grace_period(make_expert):
    expert = await database_sync_to_async(make_expert)()
    socket = await console(expert.user)
    await receive_until(socket, "welcome")
    await socket.disconnect()
    leases = database_sync_to_async(
        lambda: list(
            ConsoleLease.objects.filter(expert=expert).values_list("channel_name", flat=True)
        )
    )
    # The fixture's console is still open; the socket's lease went with it.
    fixtures_only = [f"test-console-{expert.pk}"]
    assert await eventually(leases, lambda found: found == fixtures_only) == fixtures_only


async def test_invalid_email_at_chat_start_is_a_clear_error(make_expert):
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Q", "email": "a@b"})
    error = await receive_until(customer, "error")
    assert (error["code"], error["ref"]) == ("bad_field", "chat.start")
    assert not await database_sync_to_async(Conversation.objects.exists)()
    await customer.send_json_to({"type": "ping"})  # still connected
    assert (await receive_until(customer, "pong"))["type"] == "pong"
    await customer.disconnect()


async def test_a_dutch_shoppers_chat_gets_the_teams_replies_in_dutch_in_an_english_console(
    make_expert,
):
    """The chat keeps the widget's language; the console has each shared reply in
    every language staff wrote it in, and the console's own language as `body`."""
    from community.models import SavedReply

    expert = await database_sync_to_async(make_expert)()
    await database_sync_to_async(SavedReply.objects.create)(
        shortcut="warranty", body="Two years, {name}.", body_nl="Twee jaar, {name}."
    )
    expert_socket = await console(expert.user)
    welcome = await receive_until(expert_socket, "welcome")
    [reply] = welcome["saved_replies"]
    assert reply["body"] == "Two years, {name}."
    assert reply["bodies"] == {"en": "Two years, {name}.", "nl": "Twee jaar, {name}."}

    customer = await widget()
    await customer.send_json_to({"type": "hello", "token": None, "lang": "nl-BE"})
    await receive_until(customer, "welcome")
    await customer.send_json_to({"type": "chat.start", "topic": "Garantie?"})
    assert (await receive_until(customer, "conversation"))["conversation"]["language"] == "nl"
    assigned = await receive_until(expert_socket, "chat.assigned")
    assert assigned["conversation"]["language"] == "nl"
    stored = await database_sync_to_async(Conversation.objects.get)()
    assert stored.language == "nl"
    await customer.disconnect()
    await expert_socket.disconnect()


async def test_flooding_gets_errors_then_a_documented_close(make_expert):
    customer = await widget()
    await greet(customer)
    for _ in range(60):
        await customer.send_json_to({"type": "ping"})
    codes = []
    while True:
        output = await customer.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            break
        frame = json.loads(output["text"])
        codes.append(frame.get("code") or frame["type"])
    assert output["code"] == 4429
    assert codes.count("pong") == 19  # the burst (20) less the hello
    assert "rate_limited" in codes


async def test_ping_catches_up_on_what_the_layer_never_rang(make_expert):
    """The layer is a doorbell that may drop: a ping still brings the missed message."""
    # As if Redis were down when it committed: stored, never announced.
    customer, _conversation_id, _frames = await started_chat_with_quiet_messages(
        make_expert, ["Try a firmware update."]
    )
    await customer.send_json_to({"type": "ping"})
    history = await receive_until(customer, "history")
    assert [m["body"] for m in history["messages"]] == ["Try a firmware update."]
    assert (await customer.receive_json_from())["type"] == "pong"
    await customer.send_json_to({"type": "ping"})  # nothing is sent twice
    assert (await customer.receive_json_from())["type"] == "pong"
    assert await no_more_frames(customer)
    await customer.disconnect()


async def started_chat_with_quiet_messages(make_expert, bodies: list[str]):
    """A waiting customer's socket, and messages stored but never rung for."""
    from unittest import mock

    from chat import selectors, services

    expert = await database_sync_to_async(make_expert)()
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Battery"})
    conversation_id = (await receive_until(customer, "conversation"))["conversation"]["id"]
    await receive_until(customer, "history")

    def post_quietly() -> list[dict]:
        with mock.patch("realtime.broadcast.send_after_commit"):
            messages = [
                services.message_post(
                    conversation_id=conversation_id, expert=expert, body=body, client_id=body
                )[0]
                for body in bodies
            ]
        return [
            {
                "type": "message",
                "conversation": conversation_id,
                "message": selectors.message_data(m),
            }
            for m in messages
        ]

    frames = await database_sync_to_async(post_quietly)()
    assert await no_more_frames(customer)
    return customer, conversation_id, frames


async def ring(conversation_id: int, frame: dict) -> None:
    from channels.layers import get_channel_layer

    from realtime import broadcast

    await get_channel_layer().group_send(
        broadcast.conversation_group(conversation_id), {"type": "relay", "frame": frame}
    )


async def test_frames_that_overtake_each_other_arrive_in_order(make_expert):
    """Two processes can relay out of order; the socket puts them back in sequence."""
    customer, conversation_id, (first, second) = await started_chat_with_quiet_messages(
        make_expert, ["Is it charging?", "Try another cable."]
    )
    await ring(conversation_id, second)
    await ring(conversation_id, first)
    received = [await customer.receive_json_from(), await customer.receive_json_from()]
    assert [(f["type"], f["message"]["body"]) for f in received] == [
        ("message", "Is it charging?"),
        ("message", "Try another cable."),
    ]
    assert await no_more_frames(customer)  # and nothing was read again from the store
    await customer.disconnect()


async def test_a_frame_the_layer_dropped_is_read_from_the_store(make_expert):
    customer, conversation_id, (_dropped, second) = await started_chat_with_quiet_messages(
        make_expert, ["Is it charging?", "Try another cable."]
    )
    await ring(conversation_id, second)
    history = await customer.receive_json_from(timeout=3)  # nothing went out of order first
    assert history["type"] == "history"
    assert [m["body"] for m in history["messages"]] == ["Is it charging?", "Try another cable."]
    assert await no_more_frames(customer)
    await customer.disconnect()


async def test_a_whisper_the_customer_never_sees_does_not_hold_up_the_next_message(
    make_expert,
):
    from unittest import mock

    from chat import selectors, services
    from tests.conftest import create_staff

    customer, conversation_id, _ = await started_chat_with_quiet_messages(make_expert, [])
    lead = await database_sync_to_async(create_staff)(username="lead")

    def whisper_quietly() -> None:
        with mock.patch("realtime.broadcast.send_after_commit"):
            services.staff_whisper(conversation_id=conversation_id, staff_member=lead, body="Psst")

    await database_sync_to_async(whisper_quietly)()
    await customer.send_json_to({"type": "ping"})  # catches up: nothing to show, but seen
    assert (await customer.receive_json_from())["type"] == "pong"

    def quiet_reply() -> dict:
        conversation = Conversation.objects.get(pk=conversation_id)
        with mock.patch("realtime.broadcast.send_after_commit"):
            message, _ = services.message_post(
                conversation_id=conversation_id,
                expert=conversation.expert,
                body="Try another cable.",
                client_id="r1",
            )
        return {
            "type": "message",
            "conversation": conversation_id,
            "message": selectors.message_data(message),
        }

    await ring(conversation_id, await database_sync_to_async(quiet_reply)())
    frame = await customer.receive_json_from(timeout=3)
    assert (frame["type"], frame["message"]["body"]) == ("message", "Try another cable.")
    await customer.disconnect()


async def test_a_closed_socket_leaves_its_groups_on_redis(make_expert):
    """The pub/sub layer keeps a group subscribed while any member is in it."""
    import redis.asyncio as redis
    from django.conf import settings

    from realtime import broadcast

    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]  # CHANNEL_LAYER_PREFIX
    channel = f"{prefix}__group__{broadcast.conversation_group(conversation_id)}"
    server = redis.Redis.from_url(settings.REDIS_URL)

    async def subscribers() -> int:
        return dict(await server.pubsub_numsub(channel))[channel.encode()]

    assert await subscribers() >= 1
    await customer.disconnect()
    await expert_socket.disconnect()
    assert await eventually(subscribers, lambda count: count == 0) == 0
    await server.aclose()


async def test_open_widgets_learn_when_an_expert_comes_on_shift(make_expert):
    expert = await database_sync_to_async(make_expert)(on_shift=False)
    customer = await widget()
    assert (await greet(customer))["experts_on_shift"] == 0  # the offline form shows
    expert_socket = await console(expert.user)
    await receive_until(expert_socket, "welcome")
    await expert_socket.send_json_to({"type": "shift.start"})
    assert (await receive_until(customer, "availability"))["experts_on_shift"] == 1
    await expert_socket.send_json_to({"type": "shift.end"})
    assert (await receive_until(customer, "availability"))["experts_on_shift"] == 0
    await customer.disconnect()
    await expert_socket.disconnect()


async def test_shoppers_opening_the_widget_together_share_the_read_of_who_is_on_shift(
    make_expert, monkeypatch
):
    """A sale's burst of page views: every shopper is told the expert on shift, from
    a few statements rather than one queued per shopper (docs/performance.md)."""
    assert async_db.available(), "the shared read is on PostgreSQL (set DATABASE_URL)"
    await database_sync_to_async(make_expert)(on_shift=True)
    statements = []
    fetch = async_db.fetch

    async def counted_fetch(sql, params):
        statements.append(sql)
        return await fetch(sql, params)

    monkeypatch.setattr(async_db, "fetch", counted_fetch)
    customers = [await widget() for _ in range(12)]
    welcomes = await asyncio.gather(*(greet(customer) for customer in customers))
    assert [welcome["experts_on_shift"] for welcome in welcomes] == [1] * 12
    assert 1 <= len(statements) <= 3
    for customer in customers:
        await customer.disconnect()


async def test_pings_messages_and_receipts_do_not_wait_for_the_database_thread(make_expert):
    """What every ping, message and read receipt does (presence, catch-up, storing)
    runs on the socket's event loop: one busy database thread holds none of it up."""
    import threading

    from asgiref.sync import SyncToAsync

    from chat.consumers import base as consumers

    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)
    seen_before = await database_sync_to_async(
        lambda: Expert.objects.get(pk=expert.pk).last_seen_at
    )()

    consumers._last_sweep = time.monotonic()  # no absent-expert sweep in this test
    release = threading.Event()
    busy = SyncToAsync.single_thread_executor.submit(release.wait, 30)
    try:
        await expert_socket.send_json_to({"type": "ping"})
        assert (await receive_until(expert_socket, "pong"))["type"] == "pong"
        send = {"type": "message.send", "conversation": conversation_id, "client_id": "e1"}
        await expert_socket.send_json_to({**send, "body": "Hi"})
        await receive_until(expert_socket, "message.ack")
        hi = await receive_until(customer, "message")
        assert hi["message"]["body"] == "Hi"
        read = {"type": "receipt", "conversation": conversation_id, "status": "read"}
        await customer.send_json_to({**read, "seq": hi["message"]["seq"]})
        receipt = await receive_until(expert_socket, "receipt")
        assert (receipt["reader"], receipt["seq"]) == ("customer", hi["message"]["seq"])
        await customer.send_json_to({"type": "ping"})
        await receive_until(customer, "pong")
        answered_while_busy = not busy.done()
    finally:
        release.set()
    assert answered_while_busy
    seen_after = await database_sync_to_async(
        lambda: Expert.objects.get(pk=expert.pk).last_seen_at
    )()
    assert seen_after > seen_before  # the ping noted the expert as present
    await customer.disconnect()
    await expert_socket.disconnect()


async def test_a_burst_of_new_chats_reaches_the_expert_before_their_history(make_expert):
    """Each `chat.assigned` is forwarded at once, and the chats' history follows when
    the database answers: new chats in a burst do not queue behind each other's read."""
    import threading

    from asgiref.sync import SyncToAsync
    from django.db import connection

    from community import services as community_services

    expert = await database_sync_to_async(make_expert)(on_shift=False)
    expert_socket = await console(expert.user)
    await receive_until(expert_socket, "welcome")
    topics = ["Battery", "Sizes", "Returns"]
    for topic in topics:
        customer = await widget()
        await greet(customer)
        await customer.send_json_to({"type": "chat.start", "topic": topic})
        await receive_until(customer, "queue")
        await customer.disconnect()

    def go_on_shift_elsewhere() -> None:  # as another process would: its own connection
        try:
            community_services.expert_shift_start(expert=expert)
        finally:
            connection.close()

    def count(kind: str) -> int:
        return sum(frame["type"] == kind for frame in frames)

    # Every frame, in order: histories are read on the event loop, so they may come
    # between the assignments.
    frames: list[dict] = []
    release = threading.Event()
    busy = SyncToAsync.single_thread_executor.submit(release.wait, 30)
    try:
        await asyncio.to_thread(go_on_shift_elsewhere)
        while count("chat.assigned") < len(topics):
            frames.append(await expert_socket.receive_json_from(timeout=3))
        heard_while_busy = not busy.done()
    finally:
        release.set()
    while count("history") < len(topics):
        frames.append(await expert_socket.receive_json_from(timeout=3))
    assert heard_while_busy
    assigned = [frame for frame in frames if frame["type"] == "chat.assigned"]
    assert [frame["conversation"]["topic"] for frame in assigned] == topics
    for frame in assigned:
        conversation = frame["conversation"]
        [history] = [
            index
            for index, later in enumerate(frames)
            if later["type"] == "history" and later["conversation"] == conversation["id"]
        ]
        assert frames.index(frame) < history  # the chat first, then what was said in it
        assert frames[history]["messages"][0]["body"] == conversation["topic"]
    await expert_socket.disconnect()


async def test_an_assignment_the_layer_never_rang_reaches_the_console_on_a_later_ping(
    make_expert,
):
    """Redis reconnecting loses what was published meanwhile: a chat assigned to the
    expert still reaches the console, once, when a second ping finds it unannounced
    (the first may have raced the frame itself)."""
    from unittest import mock

    from community import services as community_services

    expert = await database_sync_to_async(make_expert)(on_shift=False)
    expert_socket = await console(expert.user)
    await receive_until(expert_socket, "welcome")
    await receive_until(expert_socket, "leaderboard")
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Battery"})
    conversation_id = (await receive_until(customer, "queue"))["conversation"]

    def assign_quietly() -> None:  # as if Redis were down when it committed
        with mock.patch("realtime.broadcast.send_after_commit"):
            community_services.expert_shift_start(expert=expert)

    await database_sync_to_async(assign_quietly)()
    assert await no_more_frames(expert_socket)
    await expert_socket.send_json_to({"type": "ping"})
    assert (await next_frame(expert_socket))["type"] == "pong"
    await expert_socket.send_json_to({"type": "ping"})
    assigned = await receive_until(expert_socket, "chat.assigned")
    assert (assigned["conversation"]["id"], assigned["conversation"]["topic"]) == (
        conversation_id,
        "Battery",
    )
    history = await receive_until(expert_socket, "history")
    assert history["conversation"] == conversation_id
    assert history["messages"][0]["body"] == "Battery"
    await receive_until(expert_socket, "pong")
    await expert_socket.send_json_to({"type": "ping"})  # nothing is sent twice
    assert (await next_frame(expert_socket))["type"] == "pong"
    assert await no_more_frames(expert_socket)
    await customer.disconnect()
    await expert_socket.disconnect()


async def test_a_chat_whose_removal_the_layer_lost_leaves_the_console_on_its_next_ping(
    make_expert,
):
    """A transfer published while Redis reconnected: the old expert's next ping drops
    the chat, and they read none of what the customer writes afterwards."""
    from unittest import mock

    from chat import services

    expert = await database_sync_to_async(make_expert)()
    colleague = await database_sync_to_async(make_expert)()
    expert_socket, customer, conversation_id = await assigned_chat(expert)

    def transfer_quietly() -> None:  # as if Redis were down when it committed
        with mock.patch("realtime.broadcast.send_after_commit"):
            services.conversation_transfer(
                conversation_id=conversation_id, expert=expert, to_expert_id=colleague.pk
            )

    await database_sync_to_async(transfer_quietly)()
    await expert_socket.send_json_to({"type": "ping"})
    removed = await receive_until(expert_socket, "chat.removed")
    assert (removed["conversation"], removed["reason"]) == (conversation_id, "transferred")
    await receive_until(expert_socket, "pong")
    send = {"type": "message.send", "conversation": conversation_id, "client_id": "c1"}
    await customer.send_json_to({**send, "body": "For the new expert only"})
    await receive_until(customer, "message.ack")
    await expert_socket.send_json_to({"type": "ping"})
    assert (await next_frame(expert_socket))["type"] == "pong"
    assert await no_more_frames(expert_socket)
    await customer.disconnect()
    await expert_socket.disconnect()


async def test_welcome_tells_a_new_shopper_who_can_answer_and_when_the_next_expert_comes(
    make_expert,
):
    """With nobody on shift the widget offers the offline form and says when the next
    staffed shift starts; shifts nobody signed up for do not count."""
    expert = await database_sync_to_async(make_expert)(on_shift=False)
    soon = timezone.now() + timedelta(hours=2)
    later = timezone.now() + timedelta(hours=5)

    def plan() -> None:
        ShiftSlot.objects.create(starts_at=soon, ends_at=soon + timedelta(hours=1))  # empty
        ShiftSlot.objects.create(starts_at=later, ends_at=later + timedelta(hours=1)).experts.add(
            expert
        )

    await database_sync_to_async(plan)()
    socket = await widget()
    welcome = await greet(socket)
    assert welcome["experts_on_shift"] == 0 and welcome["token"] is None
    assert datetime.fromisoformat(welcome["next_expert_at"]) == later
    await socket.disconnect()

    await database_sync_to_async(Expert.objects.filter(pk=expert.pk).update)(on_shift=True)
    socket = await widget()
    assert (await greet(socket))["experts_on_shift"] == 1
    await socket.disconnect()


async def test_a_ping_that_finds_the_sweep_due_is_answered_before_the_sweep(make_expert):
    """The sweep of absent experts and customers runs beside the ping that found it
    due: with the database thread busy, the pong still comes, and the sweep after."""
    import threading

    from asgiref.sync import SyncToAsync

    from chat.consumers import base as consumers

    expert = await database_sync_to_async(make_expert)()
    expert_socket, customer, _ = await assigned_chat(expert)
    release = threading.Event()
    busy = SyncToAsync.single_thread_executor.submit(release.wait, 30)
    try:
        consumers._last_sweep = 0.0  # due now
        for socket in (expert_socket, customer):
            await socket.send_json_to({"type": "ping"})
            assert (await receive_until(socket, "pong"))["type"] == "pong"
        assert consumers._sweeping  # waiting for the database thread
    finally:
        release.set()
        busy.result()
    await eventually(lambda: asyncio.sleep(0, len(consumers._sweeping)), lambda n: n == 0)
    assert not consumers._sweeping
    await expert_socket.disconnect()
    await customer.disconnect()
