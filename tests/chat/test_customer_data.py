"""What experts may learn about a customer, and the visitor token's life, through the
real ASGI application and channel layer."""

import pytest
from channels.db import database_sync_to_async

from tests.chat.test_consumers import console, greet, receive_until, widget

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
