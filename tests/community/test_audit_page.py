"""The audit log reads as words in both languages: every action named, every subject
a readable link, redemption decisions included."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from chat import services as chat_services
from community import audit, services
from community.models import AuditEntry
from points import services as points_services
from rewards import services as rewards_services
from rewards.models import Product
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db

# An action code or a model name where words belong ("accept_application", "Expertapplication").
RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|Expertapplication|Shiftslot|Ledgerentry|\b\d+#\d+\b")


@pytest.fixture
def world(make_expert, make_visitor):
    """One of each staff action, done through the services as staff do them."""
    lead = create_staff(username="lead@test.example", first_name="Lars", last_name="Lead")
    eva = make_expert(name="Eva Visser")
    visitor = make_visitor()
    chat = chat_services.conversation_start(visitor=visitor, topic="Does the Voyager fold flat?")
    message, _ = chat_services.message_post(
        conversation_id=chat.pk, visitor=visitor, body="Call me on 06 1234", client_id="c"
    )
    chat_services.staff_whisper(conversation_id=chat.pk, staff_member=lead, body="Mention the case")
    chat_services.message_hide(
        conversation_id=chat.pk, seq=message.seq, staff_member=lead, reason="Phone number"
    )
    application = services.application_submit(
        name="Sam Jansen",
        email="sam@example.com",
        motivation="I love the products.",
        product_areas="Earbuds",
        availability="Evenings",
    )
    services.application_accept(
        application_id=application.pk, staff_member=lead, site_url="http://testserver/"
    )
    start = timezone.now() + timedelta(days=2)
    services.shift_publish(
        starts_at=start, ends_at=start + timedelta(hours=4), capacity=2, staff_member=lead
    )
    points_services.points_adjust(
        expert=eva, amount=900, reason="Welcome", staff_member=lead, idempotency_key="w"
    )
    cap = Product.objects.create(name="Northwind cap", points_cost=100, stock=5)
    places = [
        rewards_services.redemption_place(
            expert=eva, product_id=cap.pk, shipping_address="Damrak 1", request_key=f"r{n}"
        )
        for n in range(2)
    ]
    rewards_services.redemption_approve(redemption_id=places[0].pk, staff_member=lead)
    rewards_services.redemption_ship(
        redemption_id=places[0].pk, staff_member=lead, tracking_note="PostNL 3S123"
    )
    rewards_services.redemption_reject(
        redemption_id=places[1].pk, staff_member=lead, reason="One per expert"
    )
    services.expert_suspend(expert=eva, staff_member=lead, reason="Rude to a customer")
    return {"lead": lead, "eva": eva, "chat": chat, "message": message}


def rows(page: str) -> list[dict[str, str]]:
    found = []
    for row in re.findall(r'<tr data-testid="audit-row".*?</tr>', page, re.S):
        action = re.search(r'data-testid="audit-action">([^<]*)<', row).group(1)
        subject = re.search(r'data-testid="audit-subject">(.*?)</td>', row, re.S).group(1)
        link = re.search(r'href="([^"]*)"', subject)
        found.append(
            {
                "action": action,
                "subject": re.sub(r"<[^>]+>|\s+", " ", subject).strip(),
                "link": link.group(1) if link else "",
            }
        )
    return found


def test_every_action_and_subject_reads_as_words_with_a_link(client, world):
    client.force_login(world["lead"])
    page = client.get("/staff/audit/").content.decode()
    lines = {row["action"]: row for row in rows(page)}
    chat, message = world["chat"], world["message"]
    assert lines["Approved a redemption"]["subject"].startswith("Northwind cap for Eva Visser")
    assert lines["Shipped a redemption"]["link"] == "/staff/redemptions/?status=shipped"
    assert lines["Rejected a redemption"]["subject"].startswith("Northwind cap for Eva Visser")
    assert lines["Accepted an application"]["subject"].startswith("Application from Sam Jansen")
    assert lines["Accepted an application"]["link"] == "/staff/applications/"
    assert lines["Hid a message"]["subject"].startswith(f"Message {message.seq} in chat #{chat.pk}")
    assert lines["Hid a message"]["link"] == f"/staff/monitor/#chat-{chat.pk}"
    assert lines["Whispered to an expert"]["subject"].startswith(
        f"Chat #{chat.pk}: Does the Voyager fold flat?"
    )
    assert lines["Published a shift"]["subject"].startswith("Shift on ")
    assert lines["Published a shift"]["link"] == "/console/shifts/"
    assert lines["Suspended an expert"]["link"] == f"/staff/experts/#expert-{world['eva'].pk}-name"
    assert lines["Adjusted points"]["subject"].startswith("Eva Visser")
    assert len(lines) == AuditEntry.objects.values("action").distinct().count()
    for row in rows(page):
        assert not RAW.search(row["action"] + " " + row["subject"]), row
    # The filter names actions in words too.
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', page)
    assert options and all(code != words and "_" not in words for code, words in options)


def test_in_dutch_no_codes_or_model_names_either(client, world):
    client.force_login(world["lead"])
    client.cookies["django_language"] = "nl"
    page = client.get("/staff/audit/").content.decode()
    assert 'lang="nl"' in page
    for row in rows(page):
        assert not RAW.search(row["action"] + " " + row["subject"]), row


def test_an_action_without_words_cannot_be_logged(make_expert):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.audit_record(
            actor=create_staff(username="s"), action="frobnicate", subject=make_expert()
        )
    assert not AuditEntry.objects.exists()


def test_a_subject_that_is_gone_shows_what_was_written(client, world):
    AuditEntry.objects.create(
        actor=world["lead"],
        action="dismiss_report",
        subject_type="messagereport",
        subject_id="999999",
        subject="report on 1#2",
    )
    with translation.override("en"):  # an earlier request may have left Dutch active
        [line] = audit.audit_lines(AuditEntry.objects.filter(subject_id="999999"))
    assert (line.action, line.subject, line.url) == ("Dismissed a report", "report on 1#2", None)
