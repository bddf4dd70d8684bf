"""Points for chat-assisted sales: off unless the brand sets them, given by the
scheduled job only after the order's return window, once per order, capped per chat."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from chat import services as chat_services
from community import services as community_services
from points import jobs, selectors, services
from points.models import EntryKind, LedgerEntry
from realtime import broadcast
from sales.services import order_record
from tests.conftest import create_staff, run_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales_on(settings):
    settings.POINTS_ASSISTED_SALE = 25
    settings.POINTS_ASSISTED_SALE_CAP_PER_CHAT = 1
    settings.ORDER_RETURN_WINDOW_DAYS = 30
    return settings


@pytest.fixture
def expert(make_expert):
    return make_expert(name="Anna de Vries")


def chat_with(expert, make_visitor):
    chat = chat_services.conversation_start(visitor=make_visitor(), topic="Which earbuds?")
    chat.refresh_from_db()
    assert chat.expert_id == expert.pk
    return chat


def sale(chat, number: int = 1, *, hours_after_chat: int = 2):
    """An order the shop reported, attributed to `chat` through the card link's id."""
    order, _ = order_record(
        order_id=f"NW-{chat.pk}-{number}",
        amount="149.00",
        currency="EUR",
        ordered_at=chat.created_at + timedelta(hours=hours_after_chat),
        chat_id=chat.pk,
    )
    assert order.expert_id == chat.expert_id
    return order


def days_after(order, days: int):
    return order.ordered_at + timedelta(days=days)


def test_sales_earn_nothing_by_default(expert, make_visitor, settings):
    assert settings.POINTS_ASSISTED_SALE == 0
    assert "points.jobs.assisted_sales_award" not in dict(django_settings.JOB_SCHEDULE)
    order = sale(chat_with(expert, make_visitor))
    assert services.points_award_for_assisted_sales(now=days_after(order, 365)) == 0
    assert (
        services.points_award_for_assisted_sale(order_id=order.pk, now=days_after(order, 365))
        is None
    )
    assert not LedgerEntry.objects.exists() and selectors.balance(expert=expert) == 0


def test_an_order_earns_its_expert_points_once_after_the_return_window(
    expert, make_visitor, sales_on
):
    chat = chat_with(expert, make_visitor)
    order = sale(chat)
    assert services.points_award_for_assisted_sales(now=days_after(order, 29)) == 0
    assert selectors.balance(expert=expert) == 0

    assert services.points_award_for_assisted_sales(now=days_after(order, 31)) == 1
    assert services.points_award_for_assisted_sales(now=days_after(order, 32)) == 0  # next run
    assert (
        services.points_award_for_assisted_sale(order_id=order.pk, now=days_after(order, 33))
        is None
    )
    [entry] = LedgerEntry.objects.all()
    assert (entry.expert_id, entry.amount, entry.kind) == (expert.pk, 25, "assisted_sale")
    assert (entry.order_id, entry.conversation_id, entry.rule_points) == (order.pk, chat.pk, 25)
    assert entry.occurred_at == days_after(order, 30)  # when the sale became final
    assert str(entry.get_kind_display()) == "Chat-assisted sale"
    assert selectors.balance(expert=expert) == 25 and selectors.audit_mismatches() == []
    assert selectors.leaderboard(period="all")[0]["points"] == 25


def test_a_chat_earns_at_most_the_cap_however_many_orders_follow_it(expert, make_visitor, sales_on):
    chat, other_chat = chat_with(expert, make_visitor), chat_with(expert, make_visitor)
    first, second, third = (sale(chat, n, hours_after_chat=n) for n in (1, 2, 3))
    elsewhere = sale(other_chat)
    later = days_after(third, 31)

    assert services.points_award_for_assisted_sales(now=later) == 2
    assert sorted(LedgerEntry.objects.values_list("order_id", flat=True)) == sorted(
        [first.pk, elsewhere.pk]
    )
    # Asked for directly, the other orders of the full chat earn nothing either.
    assert services.points_award_for_assisted_sale(order_id=second.pk, now=later) is None

    sales_on.POINTS_ASSISTED_SALE_CAP_PER_CHAT = 2
    assert services.points_award_for_assisted_sales(now=later) == 1
    assert LedgerEntry.objects.filter(order=second).exists()
    assert not LedgerEntry.objects.filter(order=third).exists()
    assert selectors.balance(expert=expert) == 75


def test_no_points_for_a_suspended_expert_or_an_order_credited_to_no_chat(
    expert, make_visitor, sales_on
):
    order = sale(chat_with(expert, make_visitor))
    unattributed, _ = order_record(
        order_id="NW-walk-in", amount="20.00", currency="EUR",
        ordered_at=order.ordered_at, chat_id=None,
    )  # fmt: skip
    community_services.expert_suspend(
        expert=expert, staff_member=create_staff(username="lead"), reason="Rude to a customer"
    )
    later = days_after(order, 31)
    assert services.points_award_for_assisted_sales(now=later) == 0
    assert services.points_award_for_assisted_sale(order_id=order.pk, now=later) is None
    assert services.points_award_for_assisted_sale(order_id=unattributed.pk, now=later) is None
    assert not LedgerEntry.objects.exists()


def test_an_award_rings_the_leaderboard_and_the_expert_after_commit(
    expert, make_visitor, sales_on, listen, django_capture_on_commit_callbacks
):
    order = sale(chat_with(expert, make_visitor))
    board, personal = listen(broadcast.LEADERBOARD), listen(broadcast.expert_group(expert.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.points_award_for_assisted_sales(now=days_after(order, 31))
    entry = LedgerEntry.objects.get()
    assert board.frames() == [{"type": "leaderboard.changed", "entry": entry.pk}]
    [points] = personal.frames()
    assert points["balance"] == 25
    assert (points["entry"]["kind"], points["entry"]["label"]) == (
        "assisted_sale",
        "Chat-assisted sale",
    )


def test_the_scheduled_job_gives_the_points(expert, make_visitor, sales_on):
    sales_on.ORDER_RETURN_WINDOW_DAYS = 0  # a shop without returns: final when placed
    order = sale(chat_with(expert, make_visitor), hours_after_chat=0)
    assert order.ordered_at <= timezone.now()
    jobs.assisted_sales_award.enqueue()
    run_jobs()
    assert selectors.balance(expert=expert) == 25


def test_staff_can_take_back_the_points_of_a_refunded_order(expert, make_visitor, sales_on):
    """The shop cannot report a refund yet; the ledger's reversal is the way back."""
    order = sale(chat_with(expert, make_visitor))
    services.points_award_for_assisted_sales(now=days_after(order, 31))
    services.points_reverse(
        entry=LedgerEntry.objects.get(kind=EntryKind.ASSISTED_SALE),
        reason="Order refunded",
        staff_member=create_staff(username="lead"),
    )
    assert (
        selectors.balance(expert=expert) == 0
        and selectors.leaderboard(period="all")[0]["points"] == 0
    )


def test_the_expert_sees_the_award_and_its_rule_on_their_points_page(
    client, expert, make_visitor, sales_on
):
    client.force_login(expert.user)
    page = client.get("/console/points/").content.decode()
    assert "25 points for an order the shopper places after your chat" in page
    assert "30-day return window" in page and "at most 1 order per chat" in page

    order = sale(chat_with(expert, make_visitor))
    services.points_award_for_assisted_sales(now=days_after(order, 31))
    page = client.get("/console/points/").content.decode()
    assert 'data-kind="assisted_sale"' in page and "Chat-assisted sale" in page
    assert f"Order {order.order_id} after chat #{order.conversation_id}" in page


def test_while_sales_earn_nothing_the_points_page_does_not_promise_them(client, expert):
    client.force_login(expert.user)
    assert 'data-testid="assisted-sale-rule"' not in client.get("/console/points/").content.decode()
