import os

from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished
from django.db import connections

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


def close_the_requests_connections(**kwargs) -> None:
    """Django runs each HTTP request in a thread of its own (asgiref's
    ThreadSensitiveContext), and CONN_MAX_AGE left its connection open in that finished
    thread until the garbage collector found it: with survivors frozen
    (realtime/collector.py) often not before a thaw, and PostgreSQL ran out of
    connections. Sent from the request's own thread; the sockets' database thread
    keeps its persistent connection."""
    connections.close_all()


# Only for the requests this server handles: the test client's handlers are other
# classes, and their requests share the test's connection.
request_finished.connect(close_the_requests_connections, sender=ASGIHandler)


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
