"""Which pages may open a socket: scheme, host and port of the Origin, compared exactly."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.conftest import session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = [".brand.example"]
    settings.SOCKET_ALLOWED_ORIGINS = []
    settings.WIDGET_ALLOWED_ORIGINS = ["https://shop.example"]


async def opens(path: str, *, origin: bytes, host: bytes, cookie: bytes | None = None) -> bool:
    from config.asgi import websocket_application

    headers = [(b"origin", origin), (b"host", host)]
    if cookie:
        headers.append((b"cookie", cookie))
    socket = WebsocketCommunicator(websocket_application(), path, headers=headers)
    connected, _ = await socket.connect()
    await socket.disconnect()
    return connected


@pytest.mark.parametrize("path", ["/ws/console/", "/ws/expert/", "/ws/staff/"])
@pytest.mark.parametrize(
    "origin",
    [
        b"http://chat.brand.example:9000",  # another port of our host
        b"https://chat.brand.example:8000",  # another scheme
        b"http://evil.brand.example:8000",  # a subdomain ALLOWED_HOSTS' dot would admit
        b"http://brand.example:8000",
        b"null",
    ],
)
async def test_signed_in_sockets_refuse_other_origins_of_allowed_hosts(make_expert, path, origin):
    expert = await database_sync_to_async(make_expert)()
    cookie = await database_sync_to_async(session_cookie_for)(expert.user)
    host = b"chat.brand.example:8000"
    assert not await opens(path, origin=origin, host=host, cookie=cookie)
    assert await opens(path, origin=b"http://chat.brand.example:8000", host=host, cookie=cookie)


async def test_the_scheme_is_the_one_the_proxy_reports(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    from config.asgi import websocket_application

    async def opens_behind_proxy(origin: bytes, proto: bytes) -> bool:
        headers = [
            (b"origin", origin),
            (b"host", b"chat.brand.example"),
            (b"x-forwarded-proto", proto),
        ]
        socket = WebsocketCommunicator(websocket_application(), "/ws/console/", headers=headers)
        connected, _ = await socket.connect()
        await socket.disconnect()
        return connected

    assert await opens_behind_proxy(b"https://chat.brand.example", b"https")
    assert not await opens_behind_proxy(b"http://chat.brand.example", b"https")
    assert not await opens_behind_proxy(b"https://chat.brand.example", b"http")


async def test_configured_site_origins_are_compared_exactly(settings):
    settings.SOCKET_ALLOWED_ORIGINS = ["https://chat.brand.example", "https://*.brand.example"]
    host = b"internal.brand.example"  # e.g. a proxy that rewrites Host
    assert await opens("/ws/console/", origin=b"https://chat.brand.example:443", host=host)
    assert not await opens("/ws/console/", origin=b"https://chat.brand.example:8443", host=host)
    assert not await opens("/ws/console/", origin=b"https://x.brand.example", host=host)


async def test_a_host_that_is_not_ours_gives_no_own_origin():
    assert not await opens("/ws/console/", origin=b"http://evil.example", host=b"evil.example")


@pytest.mark.parametrize(
    "origin",
    [
        b"https://shop.example:8443",
        b"http://shop.example",
        b"http://chat.brand.example:8000",  # the site's own hosts are not shops
        b"https://sub.shop.example",
    ],
)
async def test_the_widget_opens_only_from_its_shops(origin):
    host = b"chat.brand.example:8000"
    assert not await opens("/ws/widget/", origin=origin, host=host)
    assert await opens("/ws/widget/", origin=b"https://shop.example", host=host)
