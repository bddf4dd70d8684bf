"""The configured Redis channel layer survives idle sockets (redis-py 8's 5 s
socket timeout used to break the blocking receive: channels_redis issue 422)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings


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
