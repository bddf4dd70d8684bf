"""Follow-ups stay in the customer's widget, seen or not, until the customer dismisses
them, and a follow-up carries real content (20 visible characters)."""

import pytest
from channels.db import database_sync_to_async

from chat import selectors, services
from chat.models import FollowUp
from config.errors import ServiceError
from realtime import broadcast
from tests.chat.test_consumers import _widget_origin, greet, receive_until, widget  # noqa: F401

ANSWER = "I tried the Stride Sport on a 20 km run: they did not move."


@pytest.fixture
def resolved(make_expert, make_visitor):
    expert = make_expert(name="Anna de Vries")
    chat = services.conversation_start(visitor=make_visitor(name="Sam"), topic="Running earbuds?")
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    return chat, expert


@pytest.mark.django_db
def test_a_seen_follow_up_stays_until_the_customer_dismisses_it(
    resolved, listen, django_capture_on_commit_callbacks
):
    """Before: a follow-up seen once was gone from the widget on the next visit."""
    chat, expert = resolved
    follow_up = services.followup_send(conversation_id=chat.pk, expert=expert, body=ANSWER)
    services.followup_mark_seen(follow_up_id=follow_up.pk, visitor=chat.visitor)
    [shown] = selectors.visitor_follow_ups(visitor=chat.visitor)
    assert shown["id"] == follow_up.pk and shown["seen"] is True

    other_tabs = listen(broadcast.visitor_group(chat.visitor_id))
    with django_capture_on_commit_callbacks(execute=True):
        services.followup_dismiss(follow_up_id=follow_up.pk, visitor=chat.visitor)
    assert selectors.visitor_follow_ups(visitor=chat.visitor) == []
    assert FollowUp.objects.get().dismissed_at is not None  # kept for the expert and metrics
    assert other_tabs.frames() == [{"type": "followup.dismissed", "follow_up": follow_up.pk}]


@pytest.mark.django_db
def test_nobody_dismisses_someone_elses_follow_up(resolved, make_visitor):
    chat, expert = resolved
    follow_up = services.followup_send(conversation_id=chat.pk, expert=expert, body=ANSWER)
    services.followup_dismiss(follow_up_id=follow_up.pk, visitor=make_visitor())
    assert [f["id"] for f in selectors.visitor_follow_ups(visitor=chat.visitor)] == [follow_up.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        "Thanks again!",  # 12 characters
        "a b c d e f g h i j k l m n o p q r s",  # 38 characters, 19 without the spaces
        "ok" + "\u200b" * 40,  # padded with zero-width spaces
        "hi\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n!",
    ],
)
def test_a_follow_up_needs_twenty_visible_characters(resolved, body):
    """Before: any text with one visible character was a follow-up."""
    chat, expert = resolved
    with pytest.raises(ServiceError) as refused:
        services.followup_send(conversation_id=chat.pk, expert=expert, body=body)
    assert refused.value.code == "too_short"
    assert "20" in refused.value.message
    assert not FollowUp.objects.exists()
    services.followup_send(
        conversation_id=chat.pk, expert=expert, body="a b c d e f g h i j k l m n o p q r s t"
    )
    assert FollowUp.objects.count() == 1


@pytest.mark.django_db(transaction=True)
async def test_the_widget_dismisses_a_follow_up_for_good(make_expert, make_visitor):
    customer = await widget()
    await greet(customer)
    await customer.send_json_to({"type": "chat.start", "topic": "Running earbuds?"})
    identity = await receive_until(customer, "identity")
    await customer.disconnect()
    follow_up = await database_sync_to_async(_follow_up_for_the_last_chat)(make_expert)

    customer = await widget()
    welcome = await greet(customer, token=identity["token"])
    assert [f["id"] for f in welcome["follow_ups"]] == [follow_up.pk]
    await customer.send_json_to({"type": "followup.seen", "follow_up": follow_up.pk})
    await customer.disconnect()

    customer = await widget()
    welcome = await greet(customer, token=identity["token"])
    assert [(f["id"], f["seen"]) for f in welcome["follow_ups"]] == [(follow_up.pk, True)]
    await customer.send_json_to({"type": "followup.dismiss", "follow_up": follow_up.pk})
    dismissed = await receive_until(customer, "followup.dismissed")
    assert dismissed["follow_up"] == follow_up.pk
    await customer.disconnect()

    customer = await widget()
    assert (await greet(customer, token=identity["token"]))["follow_ups"] == []
    await customer.disconnect()


def _follow_up_for_the_last_chat(make_expert) -> FollowUp:
    from chat.models import Conversation

    chat = Conversation.objects.get()
    expert = make_expert(name="Anna de Vries")
    services.queue_drain()
    chat.refresh_from_db()
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    return services.followup_send(conversation_id=chat.pk, expert=expert, body=ANSWER)
