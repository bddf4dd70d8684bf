"""Experiment only: the product's settings with channels_redis' list layer (the
default before the pub/sub layer), to compare the two (docs/performance.md).

    DJANGO_SETTINGS_MODULE=bench.what_if_settings python -m bench relay --quick
"""

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, REDIS_URL

CHANNEL_LAYERS["default"] = {
    "BACKEND": "channels_redis.core.RedisChannelLayer",
    "CONFIG": {
        "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
        "capacity": 1000,
        "expiry": 30,
    },
}
