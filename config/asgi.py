import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from backoffice.consumers import StaffConsumer  # noqa: E402
from chat.consumers import WidgetConsumer  # noqa: E402
from community.consumers import ConsoleConsumer, ExpertPageConsumer  # noqa: E402
from config.origins import OriginCheck, site_origins, widget_origins  # noqa: E402
from realtime.autobahn_costs import spare_autobahn_per_connection_costs  # noqa: E402
from realtime.collector import freeze_what_lasts  # noqa: E402


def websocket_application():
    routes = [
        path(
            "ws/widget/",
            OriginCheck(WidgetConsumer.as_asgi(), widget_origins),
        ),
        path(
            "ws/console/",
            OriginCheck(AuthMiddlewareStack(ConsoleConsumer.as_asgi()), site_origins),
        ),
        path(
            "ws/expert/",
            OriginCheck(AuthMiddlewareStack(ExpertPageConsumer.as_asgi()), site_origins),
        ),
        path(
            "ws/staff/",
            OriginCheck(AuthMiddlewareStack(StaffConsumer.as_asgi()), site_origins),
        ),
    ]
    return URLRouter(routes)


application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application()})

# Full collections over thousands of sockets stopped the Daphne for up to 1.5 s
# (realtime/collector.py, docs/performance.md "Garbage collection").
freeze_what_lasts()
# Before Daphne accepts its first connection (realtime/autobahn_costs.py).
spare_autobahn_per_connection_costs()
