"""The points ledger: awards once, corrections as new entries, never negative."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from chat import services as chat_services
from chat.models import Conversation
from config.errors import ServiceError
from points import selectors, services
from points.models import Account, LedgerEntry, PointsRule
from realtime import broadcast

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="staff", is_staff=True)


def answered_chat(expert, visitor, *, answer="Hold both buttons for ten seconds, then pair again."):
    chat = chat_services.conversation_start(visitor=visitor, topic="My earbuds will not pair")
    assert chat.expert_id == expert.pk
    chat_services.message_post(conversation_id=chat.pk, expert=expert, body=answer, client_id="a")
    return chat


def test_resolving_a_real_exchange_awards_the_rule_value_once(make_expert, make_visitor):
    expert = make_expert()
    chat = answered_chat(expert, make_visitor())
    chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="Paired")
    with pytest.raises(ServiceError):
        chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="again")
    [entry] = LedgerEntry.objects.filter(expert=expert)
    assert (entry.kind, entry.amount, entry.rule_points) == ("chat_resolved", 10, 10)
    assert entry.conversation_id == chat.pk
    assert selectors.balance(expert=expert) == 10


@pytest.mark.parametrize("answer", ["", "ok", "   sure thing   "])
def test_no_points_without_a_real_answer(make_expert, make_visitor, answer):
    expert = make_expert()
    chat = chat_services.conversation_start(visitor=make_visitor(), topic="Question")
    if answer:
        chat_services.message_post(
            conversation_id=chat.pk, expert=expert, body=answer, client_id="a"
        )
    chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="x")
    assert not LedgerEntry.objects.exists()
    assert selectors.balance(expert=expert) == 0


def test_changing_a_rule_does_not_rewrite_history(make_expert, make_visitor):
    expert = make_expert()
    first = answered_chat(expert, make_visitor())
    chat_services.conversation_resolve(conversation_id=first.pk, expert=expert, summary="x")
    PointsRule.objects.update_or_create(kind="chat_resolved", defaults={"points": 25})
    second = answered_chat(expert, make_visitor())
    chat_services.conversation_resolve(conversation_id=second.pk, expert=expert, summary="x")
    assert list(LedgerEntry.objects.values_list("amount", "rule_points")) == [(10, 10), (25, 25)]
    assert selectors.balance(expert=expert) == 35


def test_good_rating_earns_a_bonus_and_a_poor_one_does_not(make_expert, make_visitor):
    expert = make_expert()
    good, poor = answered_chat(expert, make_visitor()), answered_chat(expert, make_visitor())
    # A real conversation takes minutes (five stars after seconds are held for staff).
    Conversation.objects.filter(pk=good.pk).update(
        assigned_at=timezone.now() - timedelta(minutes=5)
    )
    for chat, stars in ((good, 5), (poor, 3)):
        chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="x")
        chat_services.conversation_rate(conversation_id=chat.pk, visitor=chat.visitor, rating=stars)
    kinds = list(LedgerEntry.objects.values_list("kind", "conversation"))
    assert kinds.count(("rating_bonus", good.pk)) == 1
    assert ("rating_bonus", poor.pk) not in kinds


def test_follow_ups_earn_once_per_chat_and_helpful_earns_a_bonus(make_expert, make_visitor):
    expert = make_expert()
    chat = answered_chat(expert, make_visitor())
    chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="x")
    with pytest.raises(ServiceError):  # too short to count as a follow-up at all
        chat_services.followup_send(conversation_id=chat.pk, expert=expert, body="short")
    assert not LedgerEntry.objects.filter(kind="follow_up").exists()
    first = chat_services.followup_send(
        conversation_id=chat.pk, expert=expert, body="I tested the firmware update: it fixes it."
    )
    chat_services.followup_send(
        conversation_id=chat.pk, expert=expert, body="And another long note to farm points..."
    )
    assert LedgerEntry.objects.filter(kind="follow_up").count() == 1
    chat_services.followup_mark_helpful(follow_up_id=first.pk, visitor=chat.visitor)
    chat_services.followup_mark_helpful(follow_up_id=first.pk, visitor=chat.visitor)
    assert LedgerEntry.objects.filter(kind="follow_up_helpful").count() == 1


def test_staff_reversal_is_a_linked_entry_and_happens_once(make_expert, make_visitor, staff):
    expert = make_expert()
    chat = answered_chat(expert, make_visitor())
    chat_services.conversation_resolve(conversation_id=chat.pk, expert=expert, summary="x")
    award = LedgerEntry.objects.get()
    reversal = services.points_reverse(entry=award, reason="Test chat", staff_member=staff)
    assert (reversal.amount, reversal.reverses_id, reversal.staff_member_id) == (
        -10,
        award.pk,
        staff.pk,
    )
    with pytest.raises(ServiceError) as refused:
        services.points_reverse(entry=award, reason="Again", staff_member=staff)
    assert refused.value.code == "already_reversed"
    assert selectors.balance(expert=expert) == 0
    assert LedgerEntry.objects.count() == 2


def test_adjustment_needs_a_reason_and_cannot_push_a_balance_below_zero(make_expert, staff):
    expert = make_expert()
    with pytest.raises(ServiceError):
        services.points_adjust(
            expert=expert, amount=5, reason=" ", staff_member=staff, idempotency_key="k0"
        )
    services.points_adjust(
        expert=expert, amount=5, reason="Event help", staff_member=staff, idempotency_key="k1"
    )
    with pytest.raises(ServiceError) as refused:
        services.points_adjust(
            expert=expert, amount=-6, reason="Oops", staff_member=staff, idempotency_key="k2"
        )
    assert refused.value.code == "insufficient_points"
    assert selectors.balance(expert=expert) == 5
    assert LedgerEntry.objects.count() == 1


def test_entries_cannot_be_changed_or_deleted(make_expert, staff):
    expert = make_expert()
    entry = services.points_adjust(
        expert=expert, amount=5, reason="r", staff_member=staff, idempotency_key="k"
    )
    entry.amount = 500
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=500)
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    if connection.vendor == "postgresql":  # and the database itself refuses
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE points_ledgerentry SET amount = 500")
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 5


def test_points_audit_reports_a_tampered_balance(make_expert, staff, capsys):
    expert = make_expert(name="Tampered")
    services.points_adjust(
        expert=expert, amount=7, reason="r", staff_member=staff, idempotency_key="k"
    )
    call_command("points_audit")
    assert "All balances match" in capsys.readouterr().out
    Account.objects.filter(expert=expert).update(balance=70)
    with pytest.raises(CommandError):
        call_command("points_audit")
    assert "Tampered" in capsys.readouterr().err


def test_award_rings_the_leaderboard_after_commit(
    make_expert, staff, listen, django_capture_on_commit_callbacks
):
    expert = make_expert()
    board, personal = listen(broadcast.LEADERBOARD), listen(broadcast.expert_group(expert.pk))
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.points_adjust(
            expert=expert, amount=3, reason="r", staff_member=staff, idempotency_key="k"
        )
    assert board.frames() == [{"type": "leaderboard.changed", "entry": entry.pk}]
    [points] = personal.frames()
    assert points["type"] == "points" and points["balance"] == 3


def test_leaderboard_dense_ranks_ties_and_periods(make_expert, staff):
    anna, bram, chloe, dirk = (make_expert(name=n) for n in ("Anna", "Bram", "Chloe", "Dirk"))
    for expert, amount in ((anna, 30), (bram, 30), (chloe, 10)):
        services.points_adjust(
            expert=expert,
            amount=amount,
            reason="r",
            staff_member=staff,
            idempotency_key=f"now-{expert.pk}",
        )
    rows = selectors.leaderboard(period="week")
    assert [(r["name"], r["rank"], r["points"]) for r in rows] == [
        ("Anna", 1, 30),
        ("Bram", 1, 30),
        ("Chloe", 2, 10),
        ("Dirk", 3, 0),
    ]
    view = selectors.leaderboard_view(rows=rows, expert_id=dirk.pk)
    assert view["me"]["name"] == "Dirk"


def test_leaderboard_periods_follow_the_brand_calendar(settings):
    settings.BRAND_TIME_ZONE = "Europe/Amsterdam"
    # Sunday 23:30 UTC is already Monday 00:30 in Amsterdam: a new week has begun.
    sunday_night = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    start = selectors.period_start("week", now=sunday_night)
    assert start.isoformat() == "2026-11-23T00:00:00+01:00"
    assert selectors.period_start("month", now=sunday_night).day == 1
    assert selectors.period_start("all", now=sunday_night) is None
    assert start - timedelta(days=7) < sunday_night


@pytest.mark.parametrize("experts", [10, 1000])
def test_leaderboard_query_count_does_not_grow(
    experts, django_user_model, django_assert_max_num_queries
):
    from community.models import Expert

    users = django_user_model.objects.bulk_create(
        [django_user_model(username=f"u{n}") for n in range(experts)]
    )
    Expert.objects.bulk_create([Expert(user=u, display_name=f"E{n}") for n, u in enumerate(users)])
    with django_assert_max_num_queries(1):
        rows = selectors.leaderboard(period="month")
    assert len(rows) == experts


def test_statement_has_a_running_balance(make_expert, staff):
    expert = make_expert()
    for n, amount in enumerate((5, 7, -2)):
        services.points_adjust(
            expert=expert, amount=amount, reason="r", staff_member=staff, idempotency_key=f"s{n}"
        )
    assert [e.running_balance for e in selectors.statement(expert=expert)] == [5, 12, 10]
    assert Conversation.objects.count() == 0


def test_a_long_statement_comes_in_pages_newest_first(client, make_expert, staff):
    """Before: every entry on one page, however many there were."""
    from points.views import STATEMENT_PAGE_SIZE

    expert = make_expert()
    for n in range(STATEMENT_PAGE_SIZE + 3):
        services.points_adjust(
            expert=expert,
            amount=1,
            reason=f"Bonus {n}",
            staff_member=staff,
            idempotency_key=f"b{n}",
        )
    client.force_login(expert.user)
    first = client.get("/console/points/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    older = client.get("/console/points/?page=2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert first.count('data-testid="ledger-entry"') == STATEMENT_PAGE_SIZE
    assert older.count('data-testid="ledger-entry"') == 3
    assert f"Bonus {STATEMENT_PAGE_SIZE + 2}" in first and "Bonus 0<" in older
    assert f"{STATEMENT_PAGE_SIZE + 3} entries" in first and "Page 1 of 2" in first
