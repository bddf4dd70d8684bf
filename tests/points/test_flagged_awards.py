"""Awards that look farmed wait for staff instead of landing in the ledger."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services as chat_services
from community.models import AuditEntry, ConsoleLease
from config.errors import ServiceError
from points import selectors, services
from points.models import EntryKind, FlaggedAward, LedgerEntry
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db

HOME = "203.0.113.66"


def answered_chat(expert, visitor, *, network=""):
    chat = chat_services.conversation_start(visitor=visitor, topic="Help", network=network)
    assert chat.expert_id == expert.pk
    chat_services.message_post(
        conversation_id=chat.pk, visitor=visitor, body="Which one for running?", client_id="c"
    )
    chat_services.message_post(
        conversation_id=chat.pk,
        expert=expert,
        body="The Stride Sport: it stays in and sweat does not harm it.",
        client_id="e",
    )
    return chat_services.conversation_resolve(
        conversation_id=chat.pk, expert=expert, summary="Advised Stride Sport"
    )


def test_five_stars_for_a_chat_of_seconds_are_held_not_awarded(make_expert, make_visitor):
    """Before: +points for every five-star rating, however the chat went."""
    expert = make_expert()
    visitor = make_visitor()
    chat = answered_chat(expert, visitor)
    chat_services.conversation_rate(conversation_id=chat.pk, visitor=visitor, rating=5)

    kinds = set(LedgerEntry.objects.filter(expert=expert).values_list("kind", flat=True))
    assert kinds == {EntryKind.CHAT_RESOLVED}
    held = FlaggedAward.objects.get()
    assert held.kind == EntryKind.RATING_BONUS and held.reasons == ["quick_five_stars"]


def test_an_award_for_a_chat_from_the_experts_own_network_is_held(
    make_expert, make_visitor, settings
):
    settings.SAME_NETWORK_CHECKS = True
    expert = make_expert()
    visitor = make_visitor()
    # The expert's phone, on the same network as the "customer", has a console open too.
    ConsoleLease.objects.create(
        expert=expert,
        channel_name="phone",
        network=HOME,
        expires_at=timezone.now() + timedelta(minutes=1),
    )
    chat = chat_services.conversation_start(visitor=visitor, topic="Help", network="192.0.2.1")
    ConsoleLease.objects.filter(channel_name="phone").update(network="192.0.2.1")
    chat_services.message_post(
        conversation_id=chat.pk, visitor=visitor, body="Which one for running?", client_id="c"
    )
    chat_services.message_post(
        conversation_id=chat.pk, expert=expert, body="The Stride Sport, really.", client_id="e"
    )
    chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="Done")
    assert not LedgerEntry.objects.filter(expert=expert).exists()
    assert FlaggedAward.objects.get().reasons == ["same_network"]


def test_staff_approve_or_reject_held_awards_but_never_their_own(make_expert, make_visitor):
    expert = make_expert()
    first, second = make_visitor(), make_visitor()
    for visitor in (first, second):
        chat = answered_chat(expert, visitor)
        chat_services.conversation_rate(conversation_id=chat.pk, visitor=visitor, rating=5)
    held_first, held_second = FlaggedAward.objects.order_by("pk")
    staff = create_staff(username="noor")
    before = selectors.balance(expert=expert)

    entry = services.flagged_award_decide(
        flagged_award_id=held_first.pk, staff_member=staff, approve=True
    )
    assert entry.idempotency_key == held_first.idempotency_key
    assert selectors.balance(expert=expert) == before + held_first.points
    with pytest.raises(ServiceError):  # a double click
        services.flagged_award_decide(
            flagged_award_id=held_first.pk, staff_member=staff, approve=True
        )
    services.flagged_award_decide(
        flagged_award_id=held_second.pk, staff_member=staff, approve=False, reason="Own chat"
    )
    assert selectors.balance(expert=expert) == before + held_first.points
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["approve_award", "reject_award"]

    third = make_visitor()
    chat = answered_chat(expert, third)
    chat_services.conversation_rate(conversation_id=chat.pk, visitor=third, rating=5)
    expert.user.is_staff = True
    expert.user.save()
    with pytest.raises(ServiceError) as refused:
        services.flagged_award_decide(
            flagged_award_id=FlaggedAward.objects.latest("pk").pk,
            staff_member=expert.user,
            approve=True,
        )
    assert refused.value.code == "own_balance"


def test_the_held_points_page_shows_the_reasons(client, make_expert, make_visitor):
    expert = make_expert()
    visitor = make_visitor()
    chat = answered_chat(expert, visitor)
    chat_services.conversation_rate(conversation_id=chat.pk, visitor=visitor, rating=5)
    client.force_login(create_staff(username="noor"))
    page = client.get("/staff/awards/")
    assert b"Five stars for a very short chat" in page.content
    award = FlaggedAward.objects.get()
    client.post("/staff/awards/", {"award": award.pk, "decision": "approve"})
    assert LedgerEntry.objects.filter(idempotency_key=award.idempotency_key).exists()
    client.post("/staff/awards/", {"award": "²", "decision": "approve"})  # no 500
