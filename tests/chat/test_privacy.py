"""A customer's chats can be erased on request; ledger and metrics stay consistent."""

import pytest
from django.core.management import call_command

from backoffice.metrics import period_ending_today, service_metrics
from chat import selectors, services
from chat.models import Conversation, Message, TranscriptDelivery, Visitor
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


def test_offline_message_address_only_for_staff_and_the_expert_who_answers(client, make_expert):
    from chat.models import OfflineMessage

    anna, bram = make_expert(name="Anna"), make_expert(name="Bram")
    staff = create_staff(username="lead", email="lead@example.com")
    visitor = Visitor.objects.create()
    message = services.offline_message_leave(
        visitor=visitor, name="Sam", email="sam.offline@example.com", body="Is the X2 waterproof?"
    )

    client.force_login(anna.user)
    page = client.get("/console/").content.decode()
    assert "waterproof" in page and "sam.offline@example.com" not in page
    client.post(f"/console/offline/{message.pk}/", {"action": "claim"})
    assert "sam.offline@example.com" in client.get("/console/").content.decode()

    client.force_login(bram.user)
    page = client.get("/console/").content.decode()
    assert "sam.offline@example.com" not in page and "waterproof" not in page
    refused = client.post(f"/console/offline/{message.pk}/", {"action": "claim"}, follow=True)
    assert "Another expert already answers this message." in refused.content.decode()
    client.post(f"/console/offline/{message.pk}/", {"action": "answered"})
    assert OfflineMessage.objects.get(pk=message.pk).claimed_by == anna
    assert OfflineMessage.objects.get(pk=message.pk).handled_at is None
    assert client.post(f"/console/offline/{message.pk}/", {"action": "²"}).status_code == 400

    client.force_login(staff)
    assert "sam.offline@example.com" in client.get("/staff/").content.decode()

    client.force_login(anna.user)
    client.post(f"/console/offline/{message.pk}/", {"action": "answered"})
    assert "waterproof" not in client.get("/console/").content.decode()


def stored_customer_text() -> str:
    """Every stored text field erasure is about, as one string."""
    from chat.models import MessageReport, OfflineMessage, TranscriptDelivery
    from community.models import AuditEntry, ExpertApplication

    rows = [
        Visitor.objects.values_list("name", "email", "confirmed_email"),
        Conversation.objects.values_list(
            "topic", "rating_comment", "resolution_summary", "customer_network"
        ),
        TranscriptDelivery.objects.values_list("email"),
        Message.objects.values_list("body", "hidden_reason"),
        MessageReport.objects.values_list("reason"),
        OfflineMessage.objects.values_list("name", "email", "body"),
        ExpertApplication.objects.values_list(
            "name", "email", "motivation", "product_areas", "availability", "decision_reason"
        ),
        AuditEntry.objects.values_list("subject", "reason"),
    ]
    return " ".join(str(list(values)) for values in rows)


def test_erasure_follows_every_address_and_leaves_no_customer_text(make_expert):
    from community import services as community_services

    staff = create_staff(username="dpo", email="dpo@example.com")
    expert = make_expert()
    # Sam chats from two devices under two addresses, linked by an offline message
    # left from the first device with the second address, and applied as an expert.
    phone = Visitor.objects.create(name="Sam Jansen", email="sam@example.com")
    laptop = Visitor.objects.create(name="S. Jansen", email="sam.work@example.com")
    chat = services.conversation_start(visitor=phone, topic="Damrak order", network="203.0.113.9")
    # A transcript went to an address Sam confirmed from home.
    Visitor.objects.filter(pk=phone.pk).update(confirmed_email="sam.home@example.com")
    TranscriptDelivery.objects.create(conversation=chat, email="sam.home@example.com")
    said, _ = services.message_post(
        conversation_id=chat.pk, visitor=phone, body="Sam here, Damrak 1", client_id="c"
    )
    answer, _ = services.message_post(
        conversation_id=chat.pk, expert=expert, body="Hello Sam", client_id="e"
    )
    services.message_report(
        conversation_id=chat.pk, seq=answer.seq, visitor=phone, reason="Sam felt rushed"
    )
    services.message_hide(
        conversation_id=chat.pk, seq=said.seq, staff_member=staff, reason="Quoted 'Damrak 1'"
    )
    services.conversation_take_over(conversation_id=chat.pk, staff_member=staff)
    services.conversation_close_by_staff(
        conversation_id=chat.pk, staff_member=staff, summary="Sam Jansen, Damrak order"
    )
    services.offline_message_leave(
        visitor=phone, name="Sam", email="SAM.WORK@example.com", body="Damrak again"
    )
    services.conversation_start(visitor=laptop, topic="Damrak from the laptop")
    application = community_services.application_submit(
        name="Sam Jansen",
        email="sam.work@example.com",
        motivation="I love Damrak",
        product_areas="Damrak",
        availability="Damrak evenings",
    )
    community_services.application_decline(
        application_id=application.pk, staff_member=staff, reason="Sam Jansen is too new"
    )
    # Someone else's data stays.
    noor = Visitor.objects.create(name="Noor", email="noor@example.com")
    services.offline_message_leave(visitor=noor, name="Noor", email="noor@example.com", body="Hi")
    tokens = [selectors.visitor_token(v) for v in (phone, laptop)]

    call_command("erase_customer", "sam@example.com", "--by", "dpo@example.com")

    left = stored_customer_text()
    assert "Sam" not in left and "Damrak" not in left and "sam" not in left.lower()
    assert "203.0.113.9" not in left
    assert "noor@example.com" in left and "Noor" in left
    assert [selectors.visitor_from_token(token) for token in tokens] == [None, None]
    assert selectors.visitor_from_token(selectors.visitor_token(noor)) == noor
