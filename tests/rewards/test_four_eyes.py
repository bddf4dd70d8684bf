"""Four eyes: staff who are also experts never move their own points or decide on
their own rewards, and every staff decision on a redemption is in the audit log."""

import pytest
from django.contrib.auth.models import Group

from community.models import AuditEntry
from community.permissions import STAFF_GROUP
from config.errors import ServiceError
from points import selectors as points_selectors
from points import services as points_services
from points.models import LedgerEntry
from rewards import services
from rewards.models import Redemption
from tests.conftest import create_staff
from tests.rewards.test_redemptions import redeem

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_expert(make_expert, fund):
    """An expert who was also given the staff rights."""
    expert = fund(make_expert(name="Mia"), 500)
    expert.user.is_staff = True
    expert.user.save()
    expert.user.groups.add(Group.objects.get(name=STAFF_GROUP))
    return expert


def test_nobody_adjusts_or_reverses_their_own_balance(staff_expert):
    entries = LedgerEntry.objects.count()
    with pytest.raises(ServiceError) as refused:
        points_services.points_adjust(
            expert=staff_expert,
            amount=1_000,
            reason="Bonus",
            staff_member=staff_expert.user,
            idempotency_key="self",
        )
    assert refused.value.code == "own_balance"
    funding = LedgerEntry.objects.get(expert=staff_expert)
    with pytest.raises(ServiceError):
        points_services.points_reverse(entry=funding, reason="Oops", staff_member=staff_expert.user)
    assert LedgerEntry.objects.count() == entries
    assert points_selectors.balance(expert=staff_expert) == 500


def test_nobody_approves_their_own_redemption_and_decisions_are_audited(staff_expert, make_product):
    product = make_product()
    mine = redeem(staff_expert, product)
    with pytest.raises(ServiceError) as refused:
        services.redemption_approve(redemption_id=mine.pk, staff_member=staff_expert.user)
    assert refused.value.code == "own_request"
    with pytest.raises(ServiceError):
        services.redemption_reject(
            redemption_id=mine.pk, staff_member=staff_expert.user, reason="No"
        )
    assert Redemption.objects.get(pk=mine.pk).status == "pending"
    assert not AuditEntry.objects.filter(action__startswith="redemption_").exists()

    colleague = create_staff(username="noor")
    services.redemption_approve(redemption_id=mine.pk, staff_member=colleague)
    services.redemption_ship(
        redemption_id=mine.pk, staff_member=colleague, tracking_note="PostNL 3S123"
    )
    logged = list(
        AuditEntry.objects.filter(subject_type="redemption", subject_id=str(mine.pk))
        .order_by("pk")
        .values_list("actor__username", "action")
    )
    assert logged == [("noor", "redemption_approved"), ("noor", "redemption_shipped")]


def test_the_queue_page_offers_no_buttons_on_your_own_request(client, staff_expert, make_product):
    redeem(staff_expert, make_product())
    client.force_login(staff_expert.user)
    page = client.get("/staff/redemptions/")
    assert b'data-testid="own-redemption"' in page.content
    assert b'data-testid="approve-submit"' not in page.content
