"""Conversion figures: of the shoppers who opened the chat, the share who ordered, those
who chatted against those who did not, on a small data set whose answer is known; and
orders that carry the widget's public reference instead of a chat id."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice import metrics
from chat.models import Conversation
from sales import services
from sales.models import Order, WidgetOpen
from tests.conftest import create_staff
from tests.sales.test_orders import SECRET, report

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _window(settings):
    settings.ORDER_WEBHOOK_SECRET = SECRET
    settings.ORDER_ATTRIBUTION_DAYS = 7


def opened(ref: str, *, days_ago: int = 3, chat: Conversation | None = None) -> WidgetOpen:
    at = timezone.now() - timedelta(days=days_ago)
    return WidgetOpen.objects.create(
        ref=ref, day=services.brand_day(at), opened_at=at, conversation=chat
    )


def chat_with(expert, visitor, *, days_ago: int = 3, served: bool = True) -> Conversation:
    at = timezone.now() - timedelta(days=days_ago)
    return Conversation.objects.create(
        visitor=visitor,
        topic="Which earbuds?",
        status="resolved",
        expert=expert if served else None,
        created_at=at,
        assigned_at=at if served else None,
        resolved_at=at + timedelta(minutes=10),
    )


def ordered(order_id: str, *, after: WidgetOpen, days: float, **attribution) -> Order:
    order, _created = services.order_record(
        order_id=order_id,
        amount=100,
        currency="EUR",
        ordered_at=after.opened_at + timedelta(days=days),
        chat_id=attribution.get("chat_id"),
        visitor_ref=attribution.get("visitor_ref", ""),
    )
    return order


@pytest.fixture
def known_period(make_expert, make_visitor):
    """Three shoppers chatted (1 ordered in time), six did not (2 ordered in time)."""
    anna = make_expert(name="Anna de Vries")
    bram = make_expert(name="Bram Jansen")
    # Chatted with Anna, bought through the card link's chat id two days later.
    a = opened("shopper-aaaa", chat=chat_with(anna, make_visitor()))
    ordered("A-1", after=a, days=2, chat_id=a.conversation_id)
    # Chatted with Anna, bought nothing.
    opened("shopper-bbbb", chat=chat_with(anna, make_visitor()))
    # Chatted with Bram, bought ten days later: outside the 7-day window.
    c = opened("shopper-cccc", days_ago=12, chat=chat_with(bram, make_visitor(), days_ago=12))
    ordered("C-1", after=c, days=10, visitor_ref="shopper-cccc")
    # Did not chat, bought a day later (the checkout carried the reference).
    d = opened("shopper-dddd")
    ordered("D-1", after=d, days=1, visitor_ref="shopper-dddd")
    # Did not chat, bought nothing.
    opened("shopper-eeee")
    opened("shopper-ffff")
    # Bought before ever opening the chat: that order is not the chat's doing.
    g = opened("shopper-gggg")
    ordered("G-1", after=g, days=-1, visitor_ref="shopper-gggg")
    # Opened on two days, bought once: one shopper, counted once.
    opened("shopper-hhhh", days_ago=5)
    h = opened("shopper-hhhh", days_ago=4)
    ordered("H-1", after=h, days=3, visitor_ref="shopper-hhhh")
    # Started a chat that left the queue before an expert joined: did not chat.
    opened("shopper-iiii", chat=chat_with(None, make_visitor(), served=False))
    # Opened before the period: not a shopper of it at all.
    j = opened("shopper-jjjj", days_ago=40)
    ordered("J-1", after=j, days=1, visitor_ref="shopper-jjjj")
    return anna, bram


def test_conversion_of_chatted_and_not_chatted_shoppers_on_a_known_set(known_period):
    anna, bram = known_period
    figures = metrics.service_metrics(metrics.period_ending_today(30))
    chatted, not_chatted = figures["conversion_chatted"], figures["conversion_not_chatted"]
    assert (chatted.shoppers, chatted.converted) == (3, 1)
    assert (not_chatted.shoppers, not_chatted.converted) == (6, 2)
    assert chatted.rate == pytest.approx(1 / 3)
    assert not_chatted.rate == pytest.approx(1 / 3)
    by_name = {row["name"]: row["conversion"] for row in figures["experts"]}
    assert (by_name["Anna de Vries"].shoppers, by_name["Anna de Vries"].converted) == (2, 1)
    assert (by_name["Bram Jansen"].shoppers, by_name["Bram Jansen"].converted) == (1, 0)


def test_a_shorter_period_counts_only_its_own_openings(known_period):
    week = metrics.service_metrics(metrics.period_ending_today(7))
    chatted, not_chatted = week["conversion_chatted"], week["conversion_not_chatted"]
    # Shopper C opened 12 days ago: outside the week.
    assert (chatted.shoppers, chatted.converted) == (2, 1)
    assert (not_chatted.shoppers, not_chatted.converted) == (6, 2)


def test_no_openings_means_no_rate_rather_than_zero(db):
    figures = metrics.service_metrics(metrics.period_ending_today(30))
    assert figures["conversion_chatted"].rate is None
    assert figures["conversion_not_chatted"].rate is None


def test_staff_see_the_figures_with_their_definition_and_in_both_csvs(client, known_period):
    client.force_login(create_staff(username="lead", email="lead@example.com"))
    page = client.get("/staff/metrics/?days=30").content.decode()
    assert "33% <span" in page
    assert "Chatted: 1 of 3 ordered. Not chatted: 2 of 6." in page
    assert "within 7 days of opening it" in page
    assert "2 of 6" in page and "1 of 2 (50%)" in page  # Anna's row

    rows = list(csv.reader(io.StringIO(client.get("/staff/metrics/?format=csv").content.decode())))
    values = {row[0]: row[1] for row in rows}
    assert values["Shoppers who opened the chat and chatted"] == "3"
    assert values["Shoppers who chatted and ordered"] == "1"
    assert values["Shoppers who opened the chat without chatting"] == "6"
    assert values["Shoppers who did not chat and ordered"] == "2"
    assert float(values["Conversion of shoppers who did not chat"]) == pytest.approx(1 / 3)

    experts = client.get("/staff/metrics/?format=experts-csv").content.decode()
    [header, *lines] = list(csv.reader(io.StringIO(experts)))
    assert header[-2:] == ["Shoppers who chatted", "Shoppers who chatted and ordered"]
    anna = next(line for line in lines if line[0] == "Anna de Vries")
    assert anna[-2:] == ["2", "1"]


# -- orders that carry the widget's reference ---------------------------------------


def order_body(**fields):
    return {
        "order_id": "NW-2001",
        "amount": "79.00",
        "currency": "EUR",
        "ordered_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        **fields,
    }


def test_an_order_with_only_the_reference_counts_for_the_latest_chat_from_that_widget(
    client, make_expert, make_visitor
):
    anna = make_expert(name="Anna de Vries")
    older = chat_with(anna, make_visitor(), days_ago=2)
    latest = chat_with(anna, make_visitor(), days_ago=1)
    opened("shopper-kkkk", days_ago=2, chat=older)
    opened("shopper-kkkk", days_ago=1, chat=latest)
    answer = report(client, order_body(visitor_ref="shopper-kkkk"))
    assert answer.status_code == 201 and answer.json()["attributed"] is True
    stored = Order.objects.get()
    assert (stored.conversation, stored.expert) == (latest, anna)
    assert stored.visitor_ref == "shopper-kkkk"


def test_a_reference_that_never_chatted_is_kept_for_conversion_but_credits_no_chat(client):
    opened("shopper-llll", days_ago=1)
    answer = report(client, order_body(visitor_ref="shopper-llll"))
    assert answer.json()["attributed"] is False
    stored = Order.objects.get()
    assert (stored.conversation, stored.visitor_ref) == (None, "shopper-llll")
    figures = metrics.service_metrics(metrics.period_ending_today(7))
    assert figures["conversion_not_chatted"].converted == 1
    assert figures["assisted_revenue"] == 0


@pytest.mark.parametrize("ref", ["short", "has spaces in it", "<script>x</script>", "x" * 65])
def test_a_malformed_reference_is_refused_and_stores_nothing(client, ref):
    answer = report(client, order_body(visitor_ref=ref))
    assert answer.status_code == 400
    assert "visitor_ref" in answer.json()["error"]["message"]
    assert not Order.objects.exists()


def test_erasing_a_customer_unlinks_their_widget_reference_and_keeps_the_figures(
    make_expert, make_visitor
):
    """The browser keeps the reference: after erasure nothing may lead from it to the
    customer's chats or orders, while the conversion figures stay as they were."""
    from chat import services as chat_services

    anna = make_expert(name="Anna de Vries")
    visitor = make_visitor()
    visitor.email = "sam@example.com"
    visitor.save(update_fields=["email"])
    first = opened("shopper-erase", days_ago=4, chat=chat_with(anna, visitor, days_ago=4))
    opened("shopper-erase", days_ago=3)
    ordered("E-1", after=first, days=1, visitor_ref="shopper-erase")
    other = opened("shopper-keep")
    ordered("K-1", after=other, days=1, visitor_ref="shopper-keep")
    before = metrics.service_metrics(metrics.period_ending_today(30))

    staff = create_staff(username="lead", email="lead@test.example", password="pw-12345678")
    chat_services.visitor_erase(email="sam@example.com", staff_member=staff)

    assert not WidgetOpen.objects.filter(ref="shopper-erase").exists()
    assert not Order.objects.filter(visitor_ref="shopper-erase").exists()
    [new_ref] = set(WidgetOpen.objects.exclude(ref="shopper-keep").values_list("ref", flat=True))
    assert Order.objects.get(order_id="E-1").visitor_ref == new_ref
    assert WidgetOpen.objects.filter(ref=new_ref).count() == 2  # still one shopper, two days
    assert Order.objects.get(order_id="K-1").visitor_ref == "shopper-keep"
    after = metrics.service_metrics(metrics.period_ending_today(30))
    for key in ("conversion_chatted", "conversion_not_chatted"):
        assert (after[key].shoppers, after[key].converted) == (
            before[key].shoppers,
            before[key].converted,
        )
