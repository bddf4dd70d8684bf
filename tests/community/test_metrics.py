"""Service metrics computed from chats, follow-ups and the ledger."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice import metrics
from chat.models import Conversation, FollowUp, Visitor

pytestmark = pytest.mark.django_db


def chat(expert, *, wait, length=None, rating=None, status="resolved", days_ago=0):
    started = timezone.now() - timedelta(days=days_ago, hours=1)
    assigned = started + timedelta(seconds=wait) if expert else None
    return Conversation.objects.create(
        visitor=Visitor.objects.create(),
        topic="q",
        status=status,
        expert=expert,
        created_at=started,
        queued_at=started,
        assigned_at=assigned,
        resolved_at=assigned + timedelta(seconds=length) if length else None,
        rating=rating,
    )


def test_figures_for_a_period(make_expert):
    anna = make_expert(name="Anna")
    for wait, length, rating in ((10, 600, 5), (20, 300, 4), (30, 900, None), (200, 60, 2)):
        chat(anna, wait=wait, length=length, rating=rating)
    chat(None, wait=0, status="abandoned")
    chat(anna, wait=5, length=60, days_ago=40)  # outside the period
    FollowUp.objects.create(
        conversation=Conversation.objects.first(),
        expert=anna,
        body="x",
        marked_helpful_at=timezone.now(),
    )

    figures = metrics.service_metrics(metrics.period_ending_today(30))

    assert figures["chats_total"] == 5
    assert figures["wait_median"] == 25  # of 10, 20, 30, 200
    assert figures["wait_p90"] == 200
    assert figures["duration_median"] == 450
    assert figures["resolution_rate"] == 1.0  # every served chat was resolved
    assert dict(figures["ratings"]) == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert (figures["follow_ups_sent"], figures["follow_ups_helpful"]) == (1, 1)
    assert sum(n for _, n in figures["chats_per_day"]) == 5
    [row] = figures["experts"]
    assert (row["name"], row["chats"], row["resolved"], row["avg_rating"]) == ("Anna", 4, 4, 3.7)


def test_bar_chart_escapes_labels():
    svg = str(metrics.bar_chart_svg([("<b>", 3), ("x", 0)], label="Chats & more"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and 'aria-label="Chats &amp; more"' in svg


def test_the_metrics_page_says_minutes_not_a_pile_of_seconds(client, make_expert):
    """Before: "151 s" for a wait of two and a half minutes."""
    from tests.conftest import create_staff

    anna = make_expert(name="Anna")
    chat(anna, wait=151, length=3725)
    client.force_login(create_staff(username="lead"))
    page = client.get("/staff/metrics/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 min 31 s" in page and "1 h 2 min" in page and "151 s" not in page


def test_the_metrics_csv_is_one_table_in_words(client, make_expert):
    """Before: raw keys ("wait_p90") and a second table appended to the first."""
    import csv
    import io

    from tests.conftest import create_staff

    chat(make_expert(name="Anna"), wait=151, length=600, rating=5)
    client.force_login(create_staff(username="lead"))
    figures = client.get("/staff/metrics/?format=csv", HTTP_ACCEPT_LANGUAGE="en")
    rows = list(csv.reader(io.StringIO(figures.content.decode())))
    assert rows[0] == ["Figure", "Value", "Unit"] and all(len(row) == 3 for row in rows)
    assert ["Median wait", "151", "seconds"] in rows
    assert not any("_" in row[0] for row in rows)
    experts = client.get("/staff/metrics/?format=experts-csv", HTTP_ACCEPT_LANGUAGE="en")
    assert list(csv.reader(io.StringIO(experts.content.decode())))[1][:3] == ["Anna", "1", "1"]


def test_charts_carry_a_scale():
    """Before: bars with no numbers anywhere on the chart."""
    chart = str(metrics.bar_chart_svg([("1★", 0), ("2★", 3), ("5★", 12)], label="Ratings"))
    assert '<div class="chart-y" aria-hidden="true"><span>12</span><span>0</span>' in chart
    assert "<title>5★: 12</title>" in chart  # the value on hover
