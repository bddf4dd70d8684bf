"""A limited drop under real parallel transactions on PostgreSQL."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from community.models import Expert
from config.errors import ServiceError
from points import selectors as points_selectors
from points.models import Account, LedgerEntry
from rewards import services
from rewards.models import Product, Redemption
from tests.chat.test_concurrency import run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("concurrency tests need PostgreSQL (set DATABASE_URL)")


def attempt(expert, product, key):
    try:
        services.redemption_place(
            expert=expert, product_id=product.pk, shipping_address="Somewhere 1", request_key=key
        )
        return "held"
    except ServiceError as refused:
        return refused.code


def test_two_hundred_experts_race_for_ten_units():
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"racer{n}") for n in range(200)]
    )
    experts = Expert.objects.bulk_create(
        [Expert(user=user, display_name=f"Racer {n}") for n, user in enumerate(users)]
    )
    Account.objects.bulk_create([Account(expert=e, balance=500) for e in experts])
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                expert=e, amount=500, kind="adjustment", idempotency_key=f"seed-{e.pk}", memo="seed"
            )
            for e in experts
        ]
    )
    product = Product.objects.create(
        name="Founders' edition",
        points_cost=300,
        stock=10,
        limited_edition=True,
        per_expert_limit=1,
    )

    outcomes = run_in_parallel([lambda e=e: attempt(e, product, "drop") for e in experts])

    assert outcomes.count("held") == 10
    assert outcomes.count("sold_out") == 190
    product.refresh_from_db()
    assert product.stock == 0
    assert Redemption.objects.count() == 10
    balances = sorted(points_selectors.balance(expert=e) for e in experts)
    assert balances == [200] * 10 + [500] * 190
    call_command("points_audit")  # raises CommandError on any mismatch


def test_double_clicks_on_a_limited_edition_redeem_once(make_expert, django_user_model):
    expert = make_expert()
    Account.objects.create(expert=expert, balance=1000)
    LedgerEntry.objects.create(
        expert=expert, amount=1000, kind="adjustment", idempotency_key="seed", memo="seed"
    )
    product = Product.objects.create(
        name="Signed headphones",
        points_cost=100,
        stock=50,
        per_expert_limit=1,
        limited_edition=True,
    )
    # Two different request keys: the per-expert limit has to hold on its own.
    outcomes = run_in_parallel(
        [lambda n=n: attempt(expert, product, f"click-{n}") for n in range(8)]
    )
    assert outcomes.count("held") == 1 and outcomes.count("limit_reached") == 7
    assert points_selectors.balance(expert=expert) == 900
    assert Product.objects.get(pk=product.pk).stock == 49


def test_reject_sent_twice_at_once_releases_once(make_expert, django_user_model):
    staff = django_user_model.objects.create_user(username="boss", is_staff=True)
    expert = make_expert()
    Account.objects.create(expert=expert, balance=300)
    LedgerEntry.objects.create(
        expert=expert, amount=300, kind="adjustment", idempotency_key="seed", memo="seed"
    )
    product = Product.objects.create(name="Cap", points_cost=100, stock=5)
    redemption = services.redemption_place(
        expert=expert, product_id=product.pk, shipping_address="x", request_key="r"
    )

    def reject():
        try:
            services.redemption_reject(redemption_id=redemption.pk, staff_member=staff, reason="No")
            return "rejected"
        except ServiceError as refused:
            return refused.code

    outcomes = run_in_parallel([reject] * 6)
    assert outcomes.count("rejected") == 1
    assert points_selectors.balance(expert=expert) == 300
    assert Product.objects.get(pk=product.pk).stock == 5
