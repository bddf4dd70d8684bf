"""The leaderboard reaches every connected console and staff page after an award."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import websocket_application
from points import services
from tests.chat.test_consumers import receive_until
from tests.conftest import create_staff, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(path: str, user) -> WebsocketCommunicator:
    cookie = await database_sync_to_async(session_cookie_for)(user)
    socket = WebsocketCommunicator(
        websocket_application(),
        path,
        headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)],
    )
    assert (await socket.connect())[0]
    return socket


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["testserver"]


async def test_an_award_updates_a_second_experts_leaderboard(make_expert, django_user_model):
    anna = await database_sync_to_async(make_expert)(name="Anna")
    bram = await database_sync_to_async(make_expert)(name="Bram")
    staff = await database_sync_to_async(create_staff)(username="staff")
    watcher = await connect("/ws/console/", bram.user)
    initial = await receive_until(watcher, "leaderboard")
    assert [row["points"] for row in initial["rows"]] == [0, 0]
    assert initial["me"]["name"] == "Bram"
    staff_page = await connect("/ws/staff/", staff)
    await receive_until(staff_page, "leaderboard")

    await database_sync_to_async(services.points_adjust)(
        expert=anna, amount=12, reason="Great week", staff_member=staff, idempotency_key="x"
    )

    for socket in (watcher, staff_page):
        board = await receive_until(socket, "leaderboard")
        top = board["rows"][0]
        assert (top["name"], top["rank"], top["points"]) == ("Anna", 1, 12)
    assert board["me"] is None  # the staff page has no own row
    await watcher.send_json_to({"type": "leaderboard.watch", "period": "all"})
    assert (await receive_until(watcher, "leaderboard"))["period"] == "all"
    await watcher.disconnect()
    await staff_page.disconnect()


async def test_staff_socket_refuses_experts(make_expert):
    expert = await database_sync_to_async(make_expert)()
    socket = await connect("/ws/staff/", expert.user)
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}
