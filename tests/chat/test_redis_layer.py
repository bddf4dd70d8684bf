"""The configured Redis channel layer survives idle sockets (redis-py 8's 5 s
socket timeout used to break the blocking receive: channels_redis issue 422)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings


@pytest.fixture(autouse=True)
def _redis_layer_only():
    if not settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis."):
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
