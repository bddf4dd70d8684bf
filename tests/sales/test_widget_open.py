"""`widget.open`: the shopper opened the chat panel. Counted once per shopper and day
however often, and however concurrently, it is sent; scripts inventing references are
held to a per-network limit without a real shopper noticing."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import caches
from django.db import connection

from chat.models import Conversation
from sales import services
from sales.models import WidgetOpen
from tests.chat.test_consumers import app, greet, receive_until

pytestmark = [pytest.mark.django_db(transaction=True)]
SHOP = b"http://shop.example"


@pytest.fixture(autouse=True)
def _widget_origin(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


async def widget_from(ip: str = "198.51.100.7") -> WebsocketCommunicator:
    socket = WebsocketCommunicator(app(), "/ws/widget/", headers=[(b"origin", SHOP)])
    socket.scope["client"] = (ip, 50_000)
    connected, _ = await socket.connect()
    assert connected
    await greet(socket)
    return socket


async def still_answers(socket) -> bool:
    """Nothing was sent about the openings, and the socket still works."""
    await socket.send_json_to({"type": "ping"})
    return (await socket.receive_json_from(timeout=3))["type"] == "pong"


@database_sync_to_async
def openings() -> list[tuple[str, int | None]]:
    return list(WidgetOpen.objects.order_by("ref").values_list("ref", "conversation_id"))


async def test_opening_the_panel_again_and_again_in_several_tabs_counts_once_a_day():
    tabs = [await widget_from() for _ in range(3)]
    for _ in range(2):  # opened, closed, opened again: the widget says so each time
        await asyncio.gather(
            *(tab.send_json_to({"type": "widget.open", "ref": "shopper-0001"}) for tab in tabs)
        )
    for tab in tabs:
        assert await still_answers(tab)
    assert await openings() == [("shopper-0001", None)]
    for tab in tabs:
        await tab.disconnect()


def test_two_processes_noting_the_same_new_shopper_at_once_store_one_row():
    """Both miss the cache (as two Daphne processes would) and insert in the same instant."""
    start = threading.Barrier(2)
    failures = []

    def note() -> None:
        try:
            start.wait(timeout=5)
            services.widget_open_note(ref="shopper-race", network="")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=note) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert WidgetOpen.objects.filter(ref="shopper-race").count() == 1


async def test_a_chat_started_after_opening_marks_the_shopper_as_chatted(make_expert):
    await database_sync_to_async(make_expert)()
    socket = await widget_from()
    await socket.send_json_to({"type": "widget.open", "ref": "shopper-0002"})
    await socket.send_json_to({"type": "chat.start", "topic": "Which earbuds for running?"})
    conversation = (await receive_until(socket, "conversation"))["conversation"]["id"]
    await receive_until(socket, "history")
    assert await still_answers(socket)
    assert await openings() == [("shopper-0002", conversation)]
    await socket.disconnect()


async def test_a_script_inventing_references_is_held_to_the_network_limit(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget.open": "3/3600"}
    script = await widget_from("203.0.113.66")
    others = []
    for n in range(10):  # a socket counts only its first opening, so one socket each
        tab = await widget_from("203.0.113.66")
        await tab.send_json_to({"type": "widget.open", "ref": f"invented-{n:04}"})
        others.append(tab)
    for tab in others:
        assert await still_answers(tab)  # no error for a shopper behind that network
    assert len(await openings()) == 3

    # A shopper seen today is not a new reference: no limit spent, nothing refused.
    again = await widget_from("203.0.113.66")
    await again.send_json_to({"type": "widget.open", "ref": "invented-0000"})
    assert await still_answers(again)
    # Another network is not held back.
    elsewhere = await widget_from("192.0.2.10")
    await elsewhere.send_json_to({"type": "widget.open", "ref": "shopper-0003"})
    assert await still_answers(elsewhere)
    assert len(await openings()) == 4
    for socket in (script, again, elsewhere, *others):
        await socket.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "widget.open"}, "bad_field"),
        ({"type": "widget.open", "ref": "short"}, "bad_field"),
        ({"type": "widget.open", "ref": "not a reference!"}, "bad_field"),
        ({"type": "widget.open", "ref": "x" * 65}, "too_long"),
        ({"type": "widget.open", "ref": 12345678}, "bad_field"),
    ],
)
async def test_a_malformed_opening_is_refused_clearly_and_counts_nothing(frame, code):
    socket = await widget_from()
    await socket.send_json_to(frame)
    error = await socket.receive_json_from(timeout=3)
    assert (error["type"], error["code"], error["ref"]) == ("error", code, "widget.open")
    assert await openings() == []
    await socket.disconnect()


async def test_an_opening_before_hello_is_refused():
    socket = WebsocketCommunicator(app(), "/ws/widget/", headers=[(b"origin", SHOP)])
    await socket.connect()
    await socket.send_json_to({"type": "widget.open", "ref": "shopper-0004"})
    error = await socket.receive_json_from(timeout=3)
    assert error["code"] == "hello_required"
    assert await openings() == []
    await socket.disconnect()


def test_the_day_is_remembered_in_the_shared_cache_so_repeats_skip_the_database(
    django_assert_num_queries, settings
):
    services.widget_open_note(ref="shopper-0005", network="198.51.100.7")
    with django_assert_num_queries(0):
        services.widget_open_note(ref="shopper-0005", network="198.51.100.7")
    caches[settings.RATE_LIMIT_CACHE].clear()  # a restarted cache forgot: still one row
    services.widget_open_note(ref="shopper-0005", network="198.51.100.7")
    assert WidgetOpen.objects.count() == 1
    assert not Conversation.objects.exists()
