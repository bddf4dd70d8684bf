"""Staff moderation: whispers, take-overs, hidden messages, reports, suspensions."""

import pytest

from chat import selectors, services
from chat.models import Conversation, MessageReport
from community import services as community_services
from community.models import AuditEntry, Expert
from config.errors import ServiceError
from realtime import broadcast

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="lead", first_name="Lars", is_staff=True)


@pytest.fixture
def live(make_expert, make_visitor):
    expert = make_expert(name="Anna")
    chat = services.conversation_start(visitor=make_visitor(), topic="Pairing")
    services.message_post(
        conversation_id=chat.pk,
        expert=expert,
        body="Hold both buttons for ten seconds.",
        client_id="e1",
    )
    return chat, expert


def test_whisper_reaches_the_expert_never_the_customer(
    live, staff, listen, django_capture_on_commit_callbacks
):
    chat, _expert = live
    inbox = listen(broadcast.conversation_group(chat.pk))
    with django_capture_on_commit_callbacks(execute=True):
        whisper = services.staff_whisper(
            conversation_id=chat.pk, staff_member=staff, body="Offer the 30-day return."
        )
    [frame] = inbox.frames()
    assert frame["message"]["whisper"] is True  # customer sockets drop these frames
    customer_view = selectors.messages_after(conversation_id=chat.pk, last_seq=0, for_customer=True)
    expert_view = selectors.messages_after(conversation_id=chat.pk, last_seq=0)
    assert whisper.seq not in [m["seq"] for m in customer_view]
    assert whisper.seq in [m["seq"] for m in expert_view]
    assert "30-day" not in selectors.transcript_text(conversation=chat)
    assert AuditEntry.objects.filter(action="whisper", actor=staff).count() == 1


def test_take_over_frees_the_slot_and_the_queue_moves(live, staff, make_visitor):
    chat, expert = live
    waiting = [services.conversation_start(visitor=make_visitor(), topic=f"Q{n}") for n in range(3)]
    assert waiting[-1].status == "waiting"
    services.conversation_take_over(conversation_id=chat.pk, staff_member=staff)
    chat.refresh_from_db()
    expert.refresh_from_db()
    assert chat.expert_id is None and chat.staff_member_id == staff.pk
    assert expert.open_chat_count == 3
    assert Conversation.objects.get(pk=waiting[-1].pk).status == "active"
    # The staff member now chats with the customer; the expert no longer can.
    services.message_post(
        conversation_id=chat.pk, staff_member=staff, body="Lars here.", client_id="s1"
    )
    with pytest.raises(ServiceError):
        services.message_post(
            conversation_id=chat.pk, expert=expert, body="still me", client_id="e2"
        )
    lines = [
        m["body"]
        for m in selectors.messages_after(conversation_id=chat.pk, last_seq=0, for_customer=True)
    ]
    assert "Lars from our team has taken over this chat." in lines and "Lars here." in lines


def test_hidden_message_leaves_a_placeholder_and_the_transcript_but_stays_for_audit(
    live, staff, make_visitor
):
    chat, _ = live
    reported = services.message_report(
        conversation_id=chat.pk, seq=3, visitor=chat.visitor, reason="Rude"
    )
    with pytest.raises(ServiceError):  # a stranger cannot report it
        services.message_report(conversation_id=chat.pk, seq=3, visitor=make_visitor(), reason="x")
    hidden = services.message_hide(
        conversation_id=chat.pk, seq=3, staff_member=staff, reason="Off-brand advice"
    )
    replay = selectors.messages_after(conversation_id=chat.pk, last_seq=0, for_customer=True)
    # The customer sees where it was, not what it said; the expert sees it, marked.
    assert (replay[-1]["seq"], replay[-1]["hidden"], replay[-1]["body"]) == (3, True, "")
    [for_expert] = selectors.messages_after(conversation_id=chat.pk, last_seq=2)
    assert for_expert["hidden"] and for_expert["body"] == "Hold both buttons for ten seconds."
    assert "ten seconds" not in selectors.transcript_text(conversation=chat)
    hidden.refresh_from_db()
    assert hidden.body == "Hold both buttons for ten seconds." and hidden.hidden_by == staff
    assert MessageReport.objects.get(pk=reported.pk).handled_by == staff
    with pytest.raises(ServiceError):
        services.message_hide(conversation_id=chat.pk, seq=3, staff_member=staff, reason="again")


def test_suspension_requeues_chats_at_once_and_blocks_shifts(live, staff, make_expert):
    chat, expert = live
    community_services.expert_suspend(expert=expert, staff_member=staff, reason="Complaints")
    chat.refresh_from_db()
    expert.refresh_from_db()
    assert chat.status == "waiting" and expert.open_chat_count == 0 and not expert.on_shift
    with pytest.raises(ServiceError):
        community_services.expert_shift_start(expert=expert)
    helper = make_expert(name="Bram", on_shift=False)
    community_services.expert_shift_start(expert=helper)
    assert Conversation.objects.get(pk=chat.pk).expert_id == helper.pk
    community_services.expert_reinstate(expert=expert, staff_member=staff)
    assert [a.action for a in AuditEntry.objects.order_by("at", "pk")] == ["suspend", "reinstate"]


def test_chat_limit_is_between_one_and_three_and_not_below_open_chats(live, staff):
    _chat, expert = live
    for bad in (0, 4):
        with pytest.raises(ServiceError):
            community_services.expert_set_chat_limit(expert=expert, limit=bad, staff_member=staff)
    Expert.objects.filter(pk=expert.pk).update(open_chat_count=2)
    with pytest.raises(ServiceError):
        community_services.expert_set_chat_limit(expert=expert, limit=1, staff_member=staff)
    community_services.expert_set_chat_limit(expert=expert, limit=2, staff_member=staff)
    assert Expert.objects.get(pk=expert.pk).max_concurrent_chats == 2
