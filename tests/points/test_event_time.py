"""Ledger entries carry the time of the event they reward as well as the time they
were written; periods, the leaderboard and the statement go by the event."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from chat import services as chat_services
from chat.models import Conversation, FollowUp
from community.models import Expert
from points import selectors, services
from points.models import AWARD_KINDS, EntryKind, FlaggedAward, LedgerEntry
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db


def resolved_chat(expert, visitor, *, resolved_days_ago: float = 0) -> Conversation:
    chat = chat_services.conversation_start(visitor=visitor, topic="Which earbuds for running?")
    chat_services.message_post(
        conversation_id=chat.pk,
        expert=expert,
        body="The Stride Sport: it stays in and sweat does not harm it.",
        client_id="e",
    )
    chat = chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="ok")
    if resolved_days_ago:
        past = timezone.now() - timedelta(days=resolved_days_ago)
        Conversation.objects.filter(pk=chat.pk).update(resolved_at=past)
        chat.refresh_from_db()
    return chat


def test_an_award_keeps_the_time_of_the_chat_it_rewards(make_expert, make_visitor):
    expert = make_expert()
    chat = resolved_chat(expert, make_visitor())
    [entry] = LedgerEntry.objects.filter(expert=expert)
    assert entry.occurred_at == chat.resolved_at
    assert entry.created_at >= entry.occurred_at


def test_a_rating_and_follow_ups_are_dated_when_they_happened(make_expert, make_visitor):
    expert, visitor = make_expert(), make_visitor()
    chat = resolved_chat(expert, visitor)
    chat_services.conversation_rate(conversation_id=chat.pk, visitor=visitor, rating=4)
    chat.refresh_from_db()
    follow_up = chat_services.followup_send(
        conversation_id=chat.pk, expert=expert, body="I tried them on a 20 km run: no slipping."
    )
    follow_up = chat_services.followup_mark_helpful(follow_up_id=follow_up.pk, visitor=visitor)
    times = dict(LedgerEntry.objects.filter(expert=expert).values_list("kind", "occurred_at"))
    assert times == {
        EntryKind.CHAT_RESOLVED: chat.resolved_at,
        EntryKind.RATING_BONUS: chat.rated_at,
        EntryKind.FOLLOW_UP: follow_up.created_at,
        EntryKind.FOLLOW_UP_HELPFUL: follow_up.marked_helpful_at,
    }


def past_chat(expert, visitor, *, days_ago: float) -> Conversation:
    """A chat resolved in the past, awarded only now (as the demo loader does)."""
    resolved = timezone.now() - timedelta(days=days_ago)
    chat = Conversation.objects.create(
        visitor=visitor,
        topic="Which earbuds for running?",
        status=Conversation.Status.RESOLVED,
        expert=expert,
        assigned_at=resolved - timedelta(minutes=20),
        resolved_at=resolved,
        last_seq=2,
    )
    chat.messages.create(seq=1, sender="customer", body="Which one?")
    chat.messages.create(seq=2, sender="expert", body="The Stride Sport: it stays in on runs.")
    return chat


def test_old_events_count_in_their_own_period_not_when_written(make_expert, make_visitor):
    """Before: an award written today for a chat of last month counted for this week,
    with no resolved chat to show for it."""
    finn = make_expert(name="Finn")
    chat = past_chat(finn, make_visitor(), days_ago=40)
    entry = services.points_award_for_resolved_chat(conversation=chat)
    assert entry.occurred_at == chat.resolved_at
    assert timezone.now() - entry.created_at < timedelta(minutes=1)

    week = {row["name"]: row for row in selectors.leaderboard(period="week")}
    ever = {row["name"]: row for row in selectors.leaderboard(period="all")}
    assert (week["Finn"]["points"], week["Finn"]["resolved"]) == (0, 0)
    assert (ever["Finn"]["points"], ever["Finn"]["resolved"]) == (10, 1)


def test_the_statement_runs_in_event_order(make_expert, make_visitor):
    expert = make_expert()
    staff = create_staff(username="lead")
    services.points_adjust(
        expert=expert, amount=3, reason="Welcome bonus", staff_member=staff, idempotency_key="w"
    )
    old = services.points_award_for_resolved_chat(
        conversation=past_chat(expert, make_visitor(), days_ago=3)
    )
    rows = list(selectors.statement(expert=expert))
    assert [(r.kind, r.running_balance) for r in rows] == [
        (EntryKind.CHAT_RESOLVED, 10),
        (EntryKind.ADJUSTMENT, 13),
    ]
    assert selectors.entry_data(old)["at"] == old.occurred_at.isoformat()


def test_an_award_staff_approve_later_keeps_the_time_of_the_chat(
    make_expert, make_visitor, settings
):
    settings.POINTS_REPEAT_RATINGS = 1
    expert, visitor = make_expert(), make_visitor()
    chat = past_chat(expert, visitor, days_ago=2)
    Conversation.objects.filter(pk=chat.pk).update(
        rating=4, rated_at=chat.resolved_at + timedelta(minutes=3)
    )
    chat.refresh_from_db()
    assert services.points_award_for_rating(conversation=chat) is None  # held
    flag = FlaggedAward.objects.get()
    assert flag.occurred_at == chat.rated_at
    entry = services.flagged_award_decide(
        flagged_award_id=flag.pk, staff_member=create_staff(username="lead"), approve=True
    )
    assert entry.occurred_at == chat.rated_at
    assert entry.created_at > entry.occurred_at + timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_the_migration_dates_old_entries_by_their_written_time_and_keeps_the_guard(
    make_expert,
):
    expert = make_expert()
    executor = MigrationExecutor(connection)
    executor.migrate([("points", "0005_flagged_awards")])
    written = timezone.now() - timedelta(days=9)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO points_ledgerentry (expert_id, amount, kind, memo, idempotency_key,"
            " created_at) VALUES (%s, 5, 'adjustment', 'old', 'old-1', %s)",
            [expert.pk, written],
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    entry = LedgerEntry.objects.get(idempotency_key="old-1")
    assert entry.occurred_at == entry.created_at == written
    if connection.vendor == "postgresql":  # still append-only in the database itself
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE points_ledgerentry SET occurred_at = now()")


def test_the_demo_is_a_month_of_history_dated_when_it_happened():
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    now = timezone.now()
    awards = LedgerEntry.objects.filter(kind__in=AWARD_KINDS)
    times = list(awards.values_list("occurred_at", flat=True))
    assert max(times) <= now and min(times) >= now - timedelta(days=31)
    assert len({t.date() for t in times}) >= 25  # spread over the month, not load time
    for entry in awards.filter(kind=EntryKind.CHAT_RESOLVED).select_related("conversation"):
        assert entry.occurred_at == entry.conversation.resolved_at
    assert not FollowUp.objects.filter(created_at__gt=now).exists()
    # Points for resolved chats match the resolved chats counted in every period.
    for period in selectors.PERIODS:
        start = selectors.period_start(period)
        for row in selectors.leaderboard(period=period):
            entries = LedgerEntry.objects.filter(
                expert_id=row["expert"], kind=EntryKind.CHAT_RESOLVED
            )
            if start:
                entries = entries.filter(occurred_at__gte=start)
            assert entries.count() == row["resolved"], (period, row["name"])
    assert Expert.objects.filter(ledger_entries__isnull=False).distinct().count() == 6


def test_the_demo_statement_shows_when_each_point_was_earned(client):
    """Before: every row of the statement carried the time the demo was loaded."""
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    client.login(username="eva@demo.test", password="expert-demo-2026")
    page = client.get("/console/points/").content.decode()
    dates = re.findall(r'data-testid="ledger-entry".*?<time datetime="([^"]+)"', page, re.S)
    assert len(dates) > 10
    assert len({d[:10] for d in dates}) >= 8
