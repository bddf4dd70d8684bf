"""Just enough Django for a Channels consumer: the stock pub/sub layer on the bench's Redis."""

import os

SECRET_KEY = "bench-baseline-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["channels"]
USE_TZ = True
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "prefix": "baseline"},
    }
}
