"""Workers running the assisted-sales job at once award each order once and each
chat up to its cap: real parallel transactions on PostgreSQL."""

import pytest
from django.db import connection

from points import selectors, services
from points.models import LedgerEntry
from tests.chat.test_concurrency import run_in_parallel
from tests.points.test_assisted_sales import chat_with, days_after, sale

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("concurrency tests need PostgreSQL (set DATABASE_URL)")


def test_jobs_running_at_once_award_each_chat_up_to_its_cap_once(
    settings, make_expert, make_visitor
):
    settings.POINTS_ASSISTED_SALE = 25
    settings.POINTS_ASSISTED_SALE_CAP_PER_CHAT = 1
    anna, bram = make_expert(name="Anna"), make_expert(name="Bram")
    busy = chat_with(anna, make_visitor)
    quiet = chat_with(bram, make_visitor)
    orders = [sale(busy, n, hours_after_chat=n) for n in (1, 2, 3)] + [sale(quiet)]
    later = days_after(orders[2], 31)

    awarded = run_in_parallel(
        [lambda: services.points_award_for_assisted_sales(now=later) for _ in range(8)]
    )

    assert sum(awarded) == 2
    assert sorted(LedgerEntry.objects.values_list("order_id", flat=True)) == sorted(
        [orders[0].pk, orders[3].pk]
    )
    assert selectors.balance(expert=anna) == selectors.balance(expert=bram) == 25
    assert selectors.audit_mismatches() == []


def test_orders_of_one_chat_decided_at_once_stay_within_the_cap(
    settings, make_expert, make_visitor
):
    """Workers that reach different orders of one chat at the same moment (their due
    lists were read at different times)."""
    settings.POINTS_ASSISTED_SALE = 25
    settings.POINTS_ASSISTED_SALE_CAP_PER_CHAT = 2
    anna = make_expert(name="Anna")
    chat = chat_with(anna, make_visitor)
    orders = [sale(chat, n, hours_after_chat=n) for n in range(1, 7)]
    later = days_after(orders[-1], 31)

    run_in_parallel(
        [
            lambda order=order: services.points_award_for_assisted_sale(
                order_id=order.pk, now=later
            )
            for order in orders * 3
        ]
    )

    assert LedgerEntry.objects.filter(conversation=chat).count() == 2
    assert selectors.balance(expert=anna) == 50
    assert selectors.audit_mismatches() == []
