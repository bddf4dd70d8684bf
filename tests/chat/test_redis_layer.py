"""The configured Redis channel layer survives idle sockets (redis-py 8's 5 s
socket timeout used to break the blocking receive: channels_redis issue 422)."""

import asyncio

import pytest
import redis.asyncio
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from realtime import broadcast


@pytest.fixture(autouse=True)
def _redis_layer_only():
    if not settings.REDIS_URL:
        pytest.fail("this test needs the Redis channel layer (set REDIS_URL)")


async def test_receive_survives_more_than_ten_idle_seconds():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(channel))

    await asyncio.sleep(11)  # the blocking read sits on an idle socket all this time
    assert not waiting.done(), f"receive ended while idle: {waiting.exception()!r}"

    await layer.send(channel, {"type": "relay", "frame": {"type": "pong"}})
    message = await asyncio.wait_for(waiting, timeout=5)
    assert message["frame"] == {"type": "pong"}


async def test_broadcasts_sent_at_once_all_arrive_and_each_in_one_piece():
    """Our layer publishes without channels_redis' per-shard lock, so one process's
    broadcasts overlap, but never more at once than the Redis pool has connections."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("overlap", channel)
    frames = [{"type": "relay", "frame": {"type": "message", "n": n}} for n in range(200)]
    await asyncio.gather(*(layer.group_send("overlap", frame) for frame in frames))
    received = [await asyncio.wait_for(layer.receive(channel), timeout=5) for _ in frames]
    assert sorted(event["frame"]["n"] for event in received) == list(range(200))
    await layer.group_discard("overlap", channel)


async def test_a_broadcast_on_a_connection_redis_dropped_still_arrives():
    """After a Redis restart every pooled connection is dead; the first publish on one
    used to fail, and a `shift` or `queue` frame was lost. It is retried on a fresh one."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("stale", channel)
    await layer.group_send("stale", {"type": "relay", "frame": {"n": 1}})
    assert (await asyncio.wait_for(layer.receive(channel), timeout=5))["frame"] == {"n": 1}

    # The publishing connection goes back to the pool; Redis drops it, as on a restart.
    shard = layer._get_layer()._get_shard(layer._get_layer()._get_group_channel_name("stale"))
    publisher_id = await shard._redis.client_id()
    admin = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    assert await admin.client_kill_filter(_id=publisher_id) == 1
    await admin.aclose()

    await layer.group_send("stale", {"type": "relay", "frame": {"n": 2}})
    assert (await asyncio.wait_for(layer.receive(channel), timeout=5))["frame"] == {"n": 2}
    await layer.group_discard("stale", channel)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/widget/", "/ws/console/", "/ws/staff/"])
async def test_a_socket_that_cannot_subscribe_closes_cleanly_and_asks_to_come_back(
    unreachable_channel_layer, settings, path
):
    """It was an HTTP 500 at the handshake; now the socket opens and closes with
    1013 (try again later), which every client answers by reconnecting."""
    from channels.testing import WebsocketCommunicator

    from config.asgi import websocket_application
    from realtime.sockets import CLOSE_TRY_AGAIN_LATER

    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    origin = b"http://shop.example" if "widget" in path else b"http://testserver"
    socket_ = WebsocketCommunicator(websocket_application(), path, headers=[(b"origin", origin)])
    connected, code = await socket_.connect()
    if connected:
        assert await socket_.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": CLOSE_TRY_AGAIN_LATER,
        }
    else:
        assert code == CLOSE_TRY_AGAIN_LATER
    await socket_.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_what_one_database_call_committed_reaches_each_group_in_order_and_once():
    """A drain that assigns many chats commits hundreds of frames; they go out to
    their groups side by side, each group's in the order committed, and a doorbell
    rung by several changes (monitor.changed) once."""
    layer = get_channel_layer()
    listeners = {}
    for group in ("conversation.1", "conversation.2", broadcast.STAFF):
        listeners[group] = await layer.new_channel()
        await layer.group_add(group, listeners[group])

    def commit_frames() -> None:
        with transaction.atomic():
            for n in range(30):
                broadcast.send_after_commit("conversation.1", {"type": "message", "seq": n})
                broadcast.send_after_commit("conversation.2", {"type": "message", "seq": n})
                broadcast.ring_staff_monitor()

    await broadcast.database_call(commit_frames)

    for group in ("conversation.1", "conversation.2"):
        received = [
            (await asyncio.wait_for(layer.receive(listeners[group]), timeout=5))["frame"]["seq"]
            for _ in range(30)
        ]
        assert received == list(range(30))
    rung = await asyncio.wait_for(layer.receive(listeners[broadcast.STAFF]), timeout=5)
    assert rung["frame"] == {"type": "monitor.changed"}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(listeners[broadcast.STAFF]), timeout=0.5)
