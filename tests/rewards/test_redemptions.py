"""Redeeming rewards: holds, refusals that change nothing, and the life cycle."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from config.errors import ServiceError
from points import selectors as points_selectors
from points.models import LedgerEntry
from realtime import broadcast
from rewards import services
from rewards.models import Product, Redemption
from tests.conftest import run_jobs

pytestmark = pytest.mark.django_db


def redeem(expert, product, key="k1"):
    return services.redemption_place(
        expert=expert,
        product_id=product.pk,
        shipping_address="Damrak 1, Amsterdam",
        request_key=key,
    )


def assert_unchanged(expert, product, *, balance, stock):
    assert points_selectors.balance(expert=expert) == balance
    product.refresh_from_db()
    assert product.stock == stock


def test_redeeming_holds_points_and_reserves_a_unit(
    make_expert, make_product, fund, listen, django_capture_on_commit_callbacks
):
    expert = fund(make_expert(), 250)
    product = make_product(stock=3)
    shop, inbox = listen(broadcast.SHOP), listen(broadcast.expert_group(expert.pk))
    with django_capture_on_commit_callbacks(execute=True):
        redemption = redeem(expert, product)
    assert redemption.status == "pending" and redemption.points == 100
    assert_unchanged(expert, product, balance=150, stock=2)
    hold = LedgerEntry.objects.get(kind="redemption_hold")
    assert (hold.amount, hold.redemption_id) == (-100, redemption.pk)
    assert shop.frames() == [{"type": "stock", "product": product.pk, "stock": 2}]
    assert [f["redemption"]["status"] for f in inbox.frames() if f["type"] == "redemption"] == [
        "pending"
    ]


@pytest.mark.parametrize(
    "product_fields, balance, code",
    [
        ({"points_cost": 300}, 250, "insufficient_points"),
        ({"stock": 0}, 250, "sold_out"),
        ({"available_from": timezone.now() + timedelta(hours=2)}, 250, "not_open"),
        ({"available_until": timezone.now() - timedelta(minutes=1)}, 250, "closed"),
        ({"is_active": False}, 250, "not_found"),
    ],
)
def test_refusals_give_a_reason_and_change_nothing(
    make_expert, make_product, fund, product_fields, balance, code
):
    expert = fund(make_expert(), balance)
    product = make_product(**product_fields)
    stock = product.stock
    with pytest.raises(ServiceError) as refused:
        redeem(expert, product)
    assert refused.value.code == code and refused.value.message
    assert_unchanged(expert, product, balance=balance, stock=stock)
    assert not Redemption.objects.exists()


def test_suspended_expert_cannot_redeem(make_expert, make_product, fund):
    expert = fund(make_expert(), 500)
    product = make_product()
    expert.suspended_at = timezone.now()
    expert.save()
    with pytest.raises(ServiceError) as refused:
        redeem(expert, product)
    assert refused.value.code == "suspended"
    assert_unchanged(expert, product, balance=500, stock=10)


def test_per_expert_limit(make_expert, make_product, fund):
    expert = fund(make_expert(), 500)
    product = make_product(per_expert_limit=1, limited_edition=True)
    redeem(expert, product, key="first")
    with pytest.raises(ServiceError) as refused:
        redeem(expert, product, key="second")
    assert refused.value.code == "limit_reached"
    assert_unchanged(expert, product, balance=400, stock=9)


def test_same_request_twice_redeems_once(make_expert, make_product, fund):
    expert = fund(make_expert(), 500)
    product = make_product()
    assert redeem(expert, product, key="same").pk == redeem(expert, product, key="same").pk
    assert_unchanged(expert, product, balance=400, stock=9)


def test_reject_releases_points_and_stock_exactly_once(make_expert, make_product, fund, staff):
    expert = fund(make_expert(), 250)
    product = make_product(stock=3)
    redemption = redeem(expert, product)
    services.redemption_reject(
        redemption_id=redemption.pk, staff_member=staff, reason="Out of region"
    )
    with pytest.raises(ServiceError) as refused:
        services.redemption_reject(redemption_id=redemption.pk, staff_member=staff, reason="again")
    assert refused.value.code == "invalid_transition"
    assert_unchanged(expert, product, balance=250, stock=3)
    redemption.refresh_from_db()
    assert redemption.status == "rejected" and redemption.shipping_address == ""
    assert LedgerEntry.objects.filter(kind="redemption_release").count() == 1


def test_cancel_by_the_expert_releases_once_and_only_their_own(make_expert, make_product, fund):
    expert, other = fund(make_expert(), 250), make_expert()
    product = make_product(stock=3)
    redemption = redeem(expert, product)
    with pytest.raises(ServiceError):
        services.redemption_cancel(redemption_id=redemption.pk, expert=other)
    services.redemption_cancel(redemption_id=redemption.pk, expert=expert)
    with pytest.raises(ServiceError):
        services.redemption_cancel(redemption_id=redemption.pk, expert=expert)
    assert_unchanged(expert, product, balance=250, stock=3)


def test_life_cycle_and_illegal_transitions(make_expert, make_product, fund, staff):
    expert = fund(make_expert(), 250)
    product = make_product()
    redemption = redeem(expert, product)
    with pytest.raises(ServiceError):
        services.redemption_ship(redemption_id=redemption.pk, staff_member=staff, tracking_note="x")
    services.redemption_approve(redemption_id=redemption.pk, staff_member=staff)
    with pytest.raises(ServiceError):
        services.redemption_cancel(redemption_id=redemption.pk, expert=expert)
    services.redemption_ship(
        redemption_id=redemption.pk, staff_member=staff, tracking_note="PostNL 3S123"
    )
    services.redemption_deliver(redemption_id=redemption.pk, staff_member=staff)
    redemption.refresh_from_db()
    assert redemption.status == "delivered" and redemption.tracking_note == "PostNL 3S123"
    assert redemption.shipping_address == ""  # no longer needed
    assert [(e.from_status, e.to_status, e.actor_id) for e in redemption.events.all()] == [
        ("", "pending", expert.user_id),
        ("pending", "approved", staff.pk),
        ("approved", "shipped", staff.pk),
        ("shipped", "delivered", staff.pk),
    ]
    assert_unchanged(expert, product, balance=150, stock=9)


def test_approve_many_reports_what_it_could_not_do(make_expert, make_product, fund, staff):
    expert = fund(make_expert(), 500)
    product = make_product()
    first, second = redeem(expert, product, "a"), redeem(expert, product, "b")
    services.redemption_cancel(redemption_id=second.pk, expert=expert)
    outcome = services.redemptions_approve_many(
        redemption_ids=[first.pk, second.pk], staff_member=staff
    )
    assert outcome == {"approved": [first.pk], "refused": [second.pk]}


def test_stale_pending_redemptions_expire_and_release(make_expert, make_product, fund):
    expert = fund(make_expert(), 250)
    product = make_product(stock=1)
    redemption = redeem(expert, product)
    Redemption.objects.filter(pk=redemption.pk).update(
        created_at=timezone.now() - timedelta(days=15)
    )
    assert services.redemptions_expire(older_than=timezone.now() - timedelta(days=14)) == 1
    assert_unchanged(expert, product, balance=250, stock=1)
    assert Product.objects.get(pk=product.pk).stock == 1


def test_the_scheduler_releases_a_stale_redemption_without_any_request(
    make_expert, make_product, fund
):
    """Before: only a cron entry nobody wrote ran `redemptions_expire`."""
    expert = fund(make_expert(), 250)
    product = make_product(stock=1)
    stale = redeem(expert, product)
    Redemption.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=15))
    fresh = redeem(fund(make_expert(name="Other"), 250), make_product(stock=1))
    call_command("scheduler", "--once")
    run_jobs()
    assert Redemption.objects.get(pk=stale.pk).status == Redemption.Status.EXPIRED
    assert Redemption.objects.get(pk=fresh.pk).status == Redemption.Status.PENDING
    assert_unchanged(expert, product, balance=250, stock=1)
