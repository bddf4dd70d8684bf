"""The widget cannot make the server mail strangers: transcripts go only to an
address its owner confirmed, once per chat; offline messages are limited."""

import re

import pytest
from channels.db import database_sync_to_async
from django.core import mail

from chat.models import OfflineMessage
from tests.chat.test_consumers import greet, receive_until
from tests.chat.test_widget_abuse import ATTACKER, widget_from
from tests.conftest import run_jobs

jobs_run = database_sync_to_async(run_jobs)

pytestmark = [pytest.mark.django_db(transaction=True)]

STRANGER = "stranger@victim.example"
HOST = [(b"host", b"testserver")]


@pytest.fixture(autouse=True)
def _widget_origin(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["http://shop.example"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    settings.SITE_URL = ""


async def chat_with_email(topic: str, email: str = STRANGER):
    """A widget from the attacker's network with a chat that gave `email`."""
    socket, _, _ = await widget_from(ATTACKER, headers=HOST)
    await greet(socket)
    await socket.send_json_to({"type": "chat.start", "topic": topic, "email": email})
    conversation = (await receive_until(socket, "conversation"))["conversation"]
    return socket, conversation["id"]


async def ask_transcript(socket, conversation_id: int) -> dict:
    await socket.send_json_to({"type": "transcript.email", "conversation": conversation_id})
    while True:
        frame = await socket.receive_json_from(timeout=3)
        if frame["type"] in ("transcript.sent", "error"):
            return frame


async def test_a_stranger_gets_one_short_confirmation_and_nothing_else(client):
    """Before: 16 requests sent 16 transcripts, topic in the subject, to any address."""
    topic = "BUY CHEAP PILLS at evil.example"
    socket, conversation_id = await chat_with_email(topic)
    first = await ask_transcript(socket, conversation_id)
    assert first["confirmation_needed"] is True and first["email"] == STRANGER
    answers = [await ask_transcript(socket, conversation_id) for _ in range(15)]
    assert {answer["code"] for answer in answers} == {"confirmation_pending"}

    await jobs_run()
    assert len(mail.outbox) == 1
    confirmation = mail.outbox[0]
    assert confirmation.to == [STRANGER]
    assert "evil.example" not in confirmation.subject + confirmation.body
    link = re.search(r"http://testserver(/transcript/confirm/\S+/)", confirmation.body)[1]
    await socket.disconnect()

    # A mail scanner that opens the link confirms nothing.
    page = await database_sync_to_async(client.get)(link)
    await jobs_run()
    assert page.status_code == 200 and len(mail.outbox) == 1
    # The owner clicks the button: the transcript goes out, without the topic in its subject.
    done = await database_sync_to_async(client.post)(link)
    assert b"on its way" in done.content
    await jobs_run()
    assert len(mail.outbox) == 2
    transcript = mail.outbox[1]
    assert transcript.to == [STRANGER] and "PILLS" not in transcript.subject
    assert topic in transcript.body
    # Clicking again sends nothing more.
    await database_sync_to_async(client.post)(link)
    await jobs_run()
    assert len(mail.outbox) == 2


async def test_a_confirmed_address_gets_its_transcript_at_once_but_once_per_chat(client):
    socket, first_chat = await chat_with_email("Hinge broke", "sam@example.com")
    await ask_transcript(socket, first_chat)
    await jobs_run()
    link = re.search(r"http://testserver(/\S+/)", mail.outbox[0].body)[1]
    await database_sync_to_async(client.post)(link)
    await jobs_run()
    assert len(mail.outbox) == 2

    # The visitor's next chat: the address is known to be theirs.
    await socket.send_json_to({"type": "chat.leave", "conversation": first_chat})
    await socket.send_json_to({"type": "chat.start", "topic": "Other question"})
    while (frame := await receive_until(socket, "conversation"))["conversation"][
        "id"
    ] == first_chat:
        pass
    second_chat = frame["conversation"]["id"]
    sent = await ask_transcript(socket, second_chat)
    assert sent["confirmation_needed"] is False
    await jobs_run()
    assert len(mail.outbox) == 3 and "Other question" in mail.outbox[2].body
    again = await ask_transcript(socket, second_chat)
    await jobs_run()
    assert again["code"] == "already_sent" and len(mail.outbox) == 3
    await socket.disconnect()


async def test_links_in_mail_never_point_at_a_forged_host():
    socket, _, _ = await widget_from(ATTACKER, headers=[(b"host", b"evil.example")])
    await greet(socket)
    await socket.send_json_to({"type": "chat.start", "topic": "Hi", "email": STRANGER})
    conversation_id = (await receive_until(socket, "conversation"))["conversation"]["id"]
    refused = await ask_transcript(socket, conversation_id)
    assert refused["code"] == "unavailable"
    await jobs_run()
    assert mail.outbox == []
    await socket.disconnect()


async def test_offline_messages_are_limited_per_network(settings):
    """Before: 95 offline messages from one script in 7 s were all stored."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget.offline": "5/3600"}
    answers = []
    for n in range(8):
        socket, _, _ = await widget_from(ATTACKER)
        await greet(socket)
        await socket.send_json_to(
            {"type": "offline.send", "email": f"a{n}@example.com", "body": "Call me back"}
        )
        while True:
            frame = await socket.receive_json_from(timeout=3)
            if frame["type"] in ("offline.sent", "error"):
                answers.append(frame.get("code", frame["type"]))
                break
        await socket.disconnect()
    assert answers == ["offline.sent"] * 5 + ["rate_limited"] * 3
    assert await database_sync_to_async(OfflineMessage.objects.count)() == 5
