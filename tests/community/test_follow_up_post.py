"""Follow-ups go by a plain POST: one per form however often it is sent, with a
clear JSON error and nothing stored when it is refused."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from chat import services
from chat.models import FollowUp
from points.models import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "I tested the Stride Sport with glasses: the hinge does not press."
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def expert_client(client, make_expert):
    expert = make_expert(name="Anna de Vries")
    client.force_login(expert.user)
    return client, expert


@pytest.fixture
def make_resolved_chat(make_visitor):
    def make(expert):
        chat = services.conversation_start(visitor=make_visitor(), topic="Glasses and earbuds?")
        services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
        return chat

    return make


def post(client, chat_id, body=ANSWER, key=None):
    return client.post(
        f"/console/chats/{chat_id}/follow-ups/",
        {"body": body, "request_key": str(key or uuid.uuid4())},
        **JSON,
    )


def test_a_posted_follow_up_reaches_the_customer_once_however_often_it_is_sent(
    expert_client, make_resolved_chat
):
    client, expert = expert_client
    chat = make_resolved_chat(expert)
    key = uuid.uuid4()
    first, again = post(client, chat.pk, key=key), post(client, chat.pk, key=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["follow_up"] == again.json()["follow_up"]
    assert first.json()["next_request_key"] != str(key)
    assert FollowUp.objects.filter(conversation=chat).count() == 1
    assert LedgerEntry.objects.filter(expert=expert, kind="follow_up").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
def test_two_posts_of_one_form_at_the_same_moment_store_one_follow_up(
    expert_client, make_resolved_chat
):
    client, expert = expert_client
    chat = make_resolved_chat(expert)
    key = uuid.uuid4()
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: post(client, chat.pk, key=key).status_code, range(6)))
    connection.close()
    assert answers == [201] * 6
    assert FollowUp.objects.filter(conversation=chat).count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [("Thanks!", 400, "too_short"), ("", 400, "invalid"), ("x" * 4001, 400, "invalid")],
)
def test_a_refused_follow_up_says_why_and_stores_nothing(
    expert_client, make_resolved_chat, body, status, code
):
    client, expert = expert_client
    chat = make_resolved_chat(expert)
    answer = post(client, chat.pk, body=body)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["message"]
    assert not FollowUp.objects.exists()


def test_nobody_follows_up_on_another_experts_chat(expert_client, make_resolved_chat, make_expert):
    client, anna = expert_client
    anna.on_shift = False
    anna.save(update_fields=["on_shift"])
    other = make_expert(name="Bram Jansen")
    answer = post(client, make_resolved_chat(other).pk)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert not FollowUp.objects.exists()


def test_follow_ups_are_limited_per_expert(expert_client, make_resolved_chat, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "expert.followup": "2/3600"}
    client, expert = expert_client
    chat = make_resolved_chat(expert)
    answers = [post(client, chat.pk) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert answers[2].json()["error"]["message"].startswith("You sent many follow-ups")
    assert FollowUp.objects.count() == 2


def test_without_javascript_the_form_posts_and_comes_back_with_the_outcome(
    expert_client, make_resolved_chat
):
    client, expert = expert_client
    chat = make_resolved_chat(expert)
    page = client.post(
        f"/console/chats/{chat.pk}/follow-ups/",
        {"body": ANSWER, "request_key": str(uuid.uuid4())},
        follow=True,
    )
    assert page.redirect_chain[-1][0] == f"/console/chats/{chat.pk}/"
    assert "Follow-up sent" in page.content.decode()
    assert ANSWER in page.content.decode()
