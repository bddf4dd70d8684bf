"""The leaderboard reaches every connected console and staff page after an award."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import websocket_application
from points import services
from realtime.broadcast import database_call
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


async def test_an_award_is_read_once_however_many_boards_show_it(make_expert, monkeypatch):
    """Each console used to fetch the new board through the process's one database
    thread in turn: with a thousand consoles the last one saw the award late."""
    from points import consumers

    experts = [
        await database_sync_to_async(make_expert)(name=name)
        for name in ("Anna", "Bram", "Chloe", "Daan")
    ]
    staff = await database_sync_to_async(create_staff)(username="staff")
    sockets = [await connect("/ws/console/", expert.user) for expert in experts]
    for socket in sockets:
        await receive_until(socket, "leaderboard")
    trips = []

    async def counted(func, /, *args, **kwargs):
        trips.append(func.__name__)
        return await database_call(func, *args, **kwargs)

    monkeypatch.setattr(consumers, "database_call", counted)
    await database_sync_to_async(services.points_adjust)(
        expert=experts[2], amount=7, reason="Helpful", staff_member=staff, idempotency_key="y"
    )

    for socket, expert in zip(sockets, experts, strict=True):
        board = await receive_until(socket, "leaderboard")
        assert (board["rows"][0]["name"], board["rows"][0]["points"]) == ("Chloe", 7)
        assert board["me"]["name"] == expert.display_name
        await socket.disconnect()
    assert trips == ["leaderboard"]
