"""A customer's chats can be erased on request; ledger and metrics stay consistent."""

import pytest
from django.core.management import call_command

from chat import selectors, services
from chat.models import Conversation, Message, Visitor
from community.metrics import period_ending_today, service_metrics
from points import selectors as points_selectors
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db


def test_erasure_anonymises_texts_and_keeps_points_and_figures(make_expert):
    staff = create_staff(username="dpo", email="dpo@example.com")
    expert = make_expert()
    visitor = Visitor.objects.create(name="Sam Jansen", email="sam@example.com")
    chat = services.conversation_start(visitor=visitor, topic="My order 1234 for Sam Jansen")
    services.message_post(
        conversation_id=chat.pk,
        visitor=visitor,
        body="I live at Damrak 1, call me on 0612345678",
        client_id="c",
    )
    services.message_post(
        conversation_id=chat.pk,
        expert=expert,
        body="Thanks Sam, I will check order 1234 for you.",
        client_id="e",
    )
    services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="Order 1234")
    services.conversation_rate(
        conversation_id=chat.pk, visitor=visitor, rating=5, comment="Sam says thanks"
    )
    balance = points_selectors.balance(expert=expert)
    figures = service_metrics(period_ending_today(7))

    call_command("erase_customer", "SAM@example.com", "--by", "dpo@example.com")

    visitor.refresh_from_db()
    chat.refresh_from_db()
    assert (visitor.name, visitor.email) == ("", "")
    assert chat.topic == "[erased]" and chat.rating_comment == "" and chat.rating == 5
    texts = " ".join(Message.objects.filter(conversation=chat).values_list("body", flat=True))
    assert "Damrak" not in texts and "1234" not in texts and "Sam" not in texts
    assert "Sam" not in selectors.transcript_text(conversation=chat)
    assert points_selectors.balance(expert=expert) == balance > 0
    assert points_selectors.audit_mismatches() == []
    after = service_metrics(period_ending_today(7))
    assert (after["chats_total"], after["ratings"]) == (figures["chats_total"], figures["ratings"])
    ledger_text = " ".join(expert.ledger_entries.values_list("memo", flat=True))
    assert "Sam" not in ledger_text and "1234" not in ledger_text
    assert Conversation.objects.count() == 1 and staff
