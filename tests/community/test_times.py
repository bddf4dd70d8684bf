"""One rule for times: staff and expert pages show the brand's time zone (named where
it matters); the widget gets moments as ISO times to show in the customer's own zone."""

from datetime import UTC, datetime, timedelta

import pytest

from chat.models import OfflineMessage
from community import services
from community.models import AuditEntry, Expert, ShiftSlot
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db

# 09:00 UTC on a winter day (to come) is 10:00 in Amsterdam (CET).
YEAR = datetime.now(UTC).year + 1
WINTER_MORNING = datetime(YEAR, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def lead(client):
    staff = create_staff(username="lead@test.example", email="lead@test.example")
    client.force_login(staff)
    return staff


def test_staff_pages_show_brand_time_with_the_zone_named(client, lead, make_expert):
    """Before: the experts and audit pages said 09:00 (UTC) where the others said 10:00."""
    expert = make_expert(name="Eva Visser")
    services.expert_suspend(expert=expert, staff_member=lead, reason="Rude")
    Expert.objects.filter(pk=expert.pk).update(suspended_at=WINTER_MORNING)
    AuditEntry.objects.update(at=WINTER_MORNING)
    OfflineMessage.objects.create(email="sam@example.com", body="Hi", created_at=WINTER_MORNING)

    experts = client.get("/staff/experts/").content.decode()
    assert f"Suspended since 15 Jan {YEAR}, 10:00 CET" in experts
    audit = client.get("/staff/audit/").content.decode()
    assert "10:00 CET" in audit and "09:00" not in audit
    overview = client.get("/staff/").content.decode()
    assert "15 Jan, 10:00 CET" in overview
    for page in (experts, audit, overview):
        assert 'data-time-zone="Europe/Amsterdam"' in page  # what the pages' scripts use


def test_shifts_are_published_and_shown_in_brand_time(client, lead):
    client.post(
        "/console/shifts/",
        {
            "action": "publish",
            "starts_at": f"{YEAR}-01-15T10:00",
            "ends_at": f"{YEAR}-01-15T14:00",
            "capacity": 2,
        },
    )
    slot = ShiftSlot.objects.get()
    assert slot.starts_at == WINTER_MORNING
    page = client.get("/console/shifts/").content.decode()
    assert f"{WINTER_MORNING:%A} 15 January, 10:00–14:00 CET" in page
    assert "Times are Amsterdam time" in page


def test_summer_times_say_cest(client, lead):
    start = datetime(YEAR, 7, 1, 8, 0, tzinfo=UTC)
    ShiftSlot.objects.create(starts_at=start, ends_at=start + timedelta(hours=2))
    page = client.get("/console/shifts/").content.decode()
    assert "10:00–12:00 CEST" in page
