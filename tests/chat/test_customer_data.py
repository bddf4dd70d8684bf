"""What experts may learn about a customer, and the visitor token's life, through the
real ASGI application and channel layer."""

import time
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.core import signing

from chat import selectors, services
from chat.models import Conversation
from chat.protocol import CLOSE_VISITOR_TOKEN_REFUSED
from tests.chat.test_consumers import console, greet, receive_until, widget
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True)]

EMAIL = "sam.private@example.com"


@pytest.fixture(autouse=True)
def _widget_origin(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


async def frames_until(socket, kind: str) -> list[dict]:
    frames = []
    while not frames or frames[-1]["type"] != kind:
        frames.append(await socket.receive_json_from(timeout=3))
    return frames


async def test_console_frames_never_carry_the_customer_email(make_expert):
    expert = await database_sync_to_async(make_expert)(name="Anna de Vries")
    expert_socket = await console(expert.user)
    seen = await frames_until(expert_socket, "welcome")
    customer = await widget()
    await greet(customer)
    await customer.send_json_to(
        {"type": "chat.start", "topic": "Battery", "name": "Sam", "email": EMAIL}
    )
    conversation_id = (await receive_until(customer, "conversation"))["conversation"]["id"]
    seen += await frames_until(expert_socket, "chat.assigned")
    assert seen[-1]["conversation"]["customer"]["name"] == "Sam"
    seen += await frames_until(expert_socket, "history")
    # A state change broadcast to everyone following the chat, and a fresh console.
    await customer.send_json_to({"type": "chat.leave", "conversation": conversation_id})
    seen += await frames_until(expert_socket, "conversation")
    second = await console(expert.user)
    seen += await frames_until(second, "welcome")
    assert seen[-1]["conversations"][0]["id"] == conversation_id
    await second.send_json_to({"type": "resume", "conversation": conversation_id, "last_seq": 0})
    seen += await frames_until(second, "history")

    assert EMAIL not in str(seen)
    for socket in (customer, expert_socket, second):
        await socket.disconnect()


def token_issued(visitor, *, days_ago: float) -> str:
    """A token as the server issued it `days_ago` (signing reads the clock itself)."""
    issued_at = time.time() - days_ago * 86400
    with mock.patch("django.core.signing.time.time", return_value=issued_at):
        return selectors.visitor_token(visitor)


async def close_code(socket) -> int:
    while True:
        output = await socket.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return output["code"]


async def test_each_visit_renews_the_token_and_an_expired_one_is_refused(make_visitor):
    visitor = await database_sync_to_async(make_visitor)(name="Sam")
    old = token_issued(visitor, days_ago=80)

    socket = await widget()
    welcome = await greet(socket, token=old)
    assert welcome["visitor"]["name"] == "Sam" and welcome["token"] != old
    # The fresh token counts its 90 days from now: valid where the old one is not.
    later = time.time() + 20 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert await database_sync_to_async(selectors.visitor_from_token)(old) is None
        renewed = await database_sync_to_async(selectors.visitor_from_token)(welcome["token"])
    assert renewed == visitor
    await socket.disconnect()

    for refused in (token_issued(visitor, days_ago=91), old[:-2] + "xx"):
        socket = await widget()
        await socket.send_json_to({"type": "hello", "token": refused, "lang": "en"})
        assert await close_code(socket) == CLOSE_VISITOR_TOKEN_REFUSED
    # The widget then connects again without a token and starts afresh.
    socket = await widget()
    assert (await greet(socket))["visitor"] is None
    await socket.disconnect()


async def test_erasure_revokes_tokens_and_closes_an_open_widget(make_expert):
    await database_sync_to_async(make_expert)()
    staff = await database_sync_to_async(create_staff)(username="dpo", email="dpo@example.com")
    open_widget = await widget()
    await greet(open_widget)
    await open_widget.send_json_to({"type": "chat.start", "topic": "Battery", "email": EMAIL})
    token = (await receive_until(open_widget, "identity"))["token"]
    await receive_until(open_widget, "history")

    await database_sync_to_async(services.visitor_erase)(email=EMAIL, staff_member=staff)

    assert await close_code(open_widget) == CLOSE_VISITOR_TOKEN_REFUSED
    again = await widget()
    await again.send_json_to({"type": "hello", "token": token, "lang": "en"})
    assert await close_code(again) == CLOSE_VISITOR_TOKEN_REFUSED
    # Nor can the old token start a chat as the erased visitor on a socket that says
    # hello first: the socket is closed before any chat frame counts.
    again = await widget()
    await again.send_json_to({"type": "hello", "token": token, "lang": "en"})
    await again.send_json_to({"type": "chat.start", "topic": "Still me?"})
    assert await close_code(again) == CLOSE_VISITOR_TOKEN_REFUSED
    topics = await database_sync_to_async(list)(
        Conversation.objects.values_list("topic", flat=True)
    )
    assert topics == ["[erased]"]


def test_tokens_issued_before_generations_still_work_until_revoked(db, make_visitor):
    visitor = make_visitor()
    legacy = signing.dumps(str(visitor.pk), salt=selectors.VISITOR_TOKEN_SALT, compress=True)
    assert selectors.visitor_from_token(legacy) == visitor
    visitor.token_generation += 1
    visitor.save()
    assert selectors.visitor_from_token(legacy) is None
