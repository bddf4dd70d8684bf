"""Recruiting experts from customers, and shifts."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from chat.models import Conversation, Visitor
from community import selectors, services
from community.models import AuditEntry, Expert, ExpertApplication
from config.errors import ServiceError
from tests.conftest import run_jobs

pytestmark = pytest.mark.django_db

APPLICATION = {
    "name": "Noor Pieters",
    "email": "Noor@Example.com",
    "motivation": "I own four of your headphones and answer questions on forums.",
    "product_areas": "Running earbuds",
    "availability": "Weekday evenings",
}


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="lead", is_staff=True)


def test_apply_once_then_accept_creates_an_expert_and_invites(
    staff, mailoutbox, django_capture_on_commit_callbacks
):
    application = services.application_submit(**APPLICATION)
    with pytest.raises(ServiceError) as refused:
        services.application_submit(**{**APPLICATION, "email": "noor@example.com"})
    assert refused.value.code == "duplicate"

    with django_capture_on_commit_callbacks(execute=True):
        expert = services.application_accept(
            application_id=application.pk, staff_member=staff, site_url="https://chat.example/"
        )
    assert expert.display_name == "Noor Pieters" and expert.user.email == "noor@example.com"
    assert not expert.user.has_usable_password()
    run_jobs()
    [invitation] = mailoutbox
    assert invitation.to == ["noor@example.com"]
    assert "https://chat.example/accounts/password/reset/key/" in invitation.body
    with pytest.raises(ServiceError):  # decided once
        services.application_decline(application_id=application.pk, staff_member=staff, reason="x")
    assert AuditEntry.objects.filter(action="accept_application").count() == 1


def test_invalid_application_is_refused_and_nothing_is_stored():
    with pytest.raises(ServiceError):
        services.application_submit(**{**APPLICATION, "email": "not-an-email"})
    with pytest.raises(ServiceError):
        services.application_submit(**{**APPLICATION, "motivation": "  "})
    assert not ExpertApplication.objects.exists()


def test_staff_see_the_applicants_past_chats(make_expert):
    expert = make_expert()
    visitor = Visitor.objects.create(email="noor@example.com")
    Conversation.objects.create(
        visitor=visitor, topic="Earbuds", status="resolved", expert=expert, rating=5
    )
    history = selectors.applicant_history(email="NOOR@example.com")
    assert [c.topic for c in history["chats"]] == ["Earbuds"]
    assert history["average_rating_given"] == 5


def test_accepting_someone_who_already_has_an_account_is_refused(staff):
    get_user_model().objects.create_user(username="x", email="noor@example.com")
    application = services.application_submit(**APPLICATION)
    with pytest.raises(ServiceError):
        services.application_accept(
            application_id=application.pk, staff_member=staff, site_url="https://chat.example/"
        )
    application.refresh_from_db()
    assert application.status == "pending" and not Expert.objects.exists()


def test_shift_sign_up_respects_capacity_and_feeds_the_widget(staff, make_expert):
    start = timezone.now() + timedelta(hours=3)
    slot = services.shift_publish(
        starts_at=start, ends_at=start + timedelta(hours=4), capacity=1, staff_member=staff
    )
    assert selectors.next_staffed_shift_start() is None  # nobody signed up yet
    first, second = make_expert(), make_expert()
    services.shift_sign_up(slot_id=slot.pk, expert=first)
    services.shift_sign_up(slot_id=slot.pk, expert=first)  # a double click: still one
    with pytest.raises(ServiceError) as refused:
        services.shift_sign_up(slot_id=slot.pk, expert=second)
    assert refused.value.code == "full"
    assert list(slot.experts.all()) == [first]
    assert selectors.next_staffed_shift_start() == slot.starts_at
    with pytest.raises(ServiceError):
        services.shift_publish(starts_at=start, ends_at=start, capacity=1, staff_member=staff)


def test_a_refused_shift_keeps_what_staff_typed(client, staff):
    """Before: the page came back empty, and the times had to be typed again."""
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="manage_experts"))
    client.force_login(staff)
    answer = client.post(
        "/console/shifts/",
        {
            "action": "publish",
            "starts_at": "2026-12-10T18:00",
            "ends_at": "2026-12-10T17:00",
            "capacity": "3",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = answer.content.decode()
    assert answer.status_code == 400 and "A shift must end after it starts." in page
    assert 'value="2026-12-10T18:00"' in page and 'value="2026-12-10T17:00"' in page
    assert 'name="capacity" min="1" max="50" value="3"' in page
