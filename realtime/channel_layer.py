"""The channel layer: channels_redis' pub/sub layer, with broadcasts that overlap.

channels_redis publishes under one asyncio lock per Redis shard, so a process sends
its broadcasts one round trip at a time. Under load that queue made broadcasts wait
far longer than the bare relay's (docs/performance.md, "Broadcasts without the shard
lock"). The Redis client takes a pooled connection per command, so publishing needs no
lock; the shard's lock still guards subscribing and unsubscribing.

Without the lock, two broadcasts that one process starts within the same moment
may reach Redis in either order. Chat messages carry their seq and sockets put them
back in order; the other frames (a chat assigned, removed, a leaderboard) describe
state that a client can read again, and did not promise an order across sockets
before either.
"""

import asyncio
import weakref
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer
from redis.exceptions import ConnectionError, TimeoutError

# Of the Redis pool's 100 connections per process: redis-py raises, rather than
# waits, when the pool is full.
PUBLISHES_AT_ONCE = 16


class ChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._publish_slots: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Semaphore
        ] = weakref.WeakKeyDictionary()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        layer = self._get_layer()  # this event loop's layer
        group_channel = layer._get_group_channel_name(group)
        shard = layer._get_shard(group_channel)
        loop = asyncio.get_running_loop()
        slots = self._publish_slots.get(loop)
        if slots is None:
            slots = self._publish_slots[loop] = asyncio.Semaphore(PUBLISHES_AT_ONCE)
        payload = self.serialize(message)
        async with slots:
            shard._ensure_redis()
            try:
                await shard._redis.publish(group_channel, payload)
            except (ConnectionError, TimeoutError):
                # After a Redis restart every pooled connection is dead, and the pool
                # retries nothing. The failed one is gone now: once more, on a fresh one.
                await shard._redis.publish(group_channel, payload)
