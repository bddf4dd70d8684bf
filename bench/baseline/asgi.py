import django
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

django.setup()

from bench.relay import RelayConsumer  # noqa: E402  (needs the settings above)

application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/bench/relay/", RelayConsumer.as_asgi())])}
)
