"""Logs are one line per event, JSON in production, each naming its request or socket."""

import io
import json
import logging

import pytest
from channels.testing import WebsocketCommunicator
from django.http import HttpResponse
from django.test import RequestFactory

# Imported before the log handler of a test is added: it sets Django up (and its logging).
from config.asgi import websocket_application
from config.logs import ContextIdFilter, JsonFormatter, RequestIdMiddleware


@pytest.fixture
def json_lines():
    """What the production log handler writes, line by line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_requests_log_lines_and_response_share_one_id(json_lines):
    def view(request):
        logging.getLogger("chat.views").warning("something odd")
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(RequestFactory().get("/"))
    [line] = [line for line in json_lines() if line["logger"] == "chat.views"]
    assert line["message"] == "something odd" and line["level"] == "WARNING"
    assert line["id"] == response["X-Request-ID"] and line["id"].startswith("req-")


def test_only_a_trusted_proxy_names_the_request(settings):
    def respond(request):
        return HttpResponse("ok")

    asked = RequestFactory().get("/", HTTP_X_REQUEST_ID="forged-by-a-client")
    assert RequestIdMiddleware(respond)(asked)["X-Request-ID"].startswith("req-")
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]  # RequestFactory's REMOTE_ADDR
    from_proxy = RequestFactory().get("/", HTTP_X_REQUEST_ID="nginx-7f3a")
    assert RequestIdMiddleware(respond)(from_proxy)["X-Request-ID"] == "nginx-7f3a"


@pytest.mark.django_db(transaction=True)
async def test_a_sockets_log_lines_name_the_socket(json_lines, unreachable_channel_layer, settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    socket = WebsocketCommunicator(
        websocket_application(), "/ws/widget/", headers=[(b"origin", b"http://shop.example")]
    )
    await socket.connect()
    await socket.receive_output(timeout=3)
    [line] = [line for line in json_lines() if line["logger"] == "realtime.sockets"]
    assert "channel layer unavailable" in line["message"] and line["id"].startswith("ws-")
