"""Reads of the points ledger: rule values, balances, statements and the leaderboard."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Avg, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat.models import Conversation
from community.models import ConsoleLease, Expert
from points.models import (
    DEFAULT_RULE_POINTS,
    EARNING_KINDS,
    RULE_KINDS,
    Account,
    EntryKind,
    FlaggedAward,
    LedgerEntry,
    PointsRule,
)
from sales.models import Order

PERIODS = ("week", "month", "all")
# How far back the assisted-sales job looks for orders whose return window ended: a
# scheduler stopped for days catches up, and turning the award on pays at most the
# orders that became final in the week before (not the whole order history).
ASSISTED_SALE_CATCH_UP_DAYS = 7
TOP = 10


def rule_points(kind: str) -> int:
    stored = PointsRule.objects.filter(kind=kind).values_list("points", flat=True).first()
    return DEFAULT_RULE_POINTS[kind] if stored is None else stored


def balance(*, expert: Expert) -> int:
    return Account.objects.filter(expert=expert).values_list("balance", flat=True).first() or 0


def entry_data(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "amount": entry.amount,
        "kind": entry.kind,
        "label": entry.get_kind_display(),
        "memo": entry.memo,
        "conversation": entry.conversation_id,
        "at": entry.occurred_at.isoformat(),
    }


def statement(*, expert: Expert):
    """Every entry of the expert in the order the events happened, oldest first, with
    the running balance. (Only awards happen before they are written, so the balance
    never dips below zero on the way.)"""
    return (
        LedgerEntry.objects.filter(expert=expert)
        .select_related("conversation", "staff_member")
        .annotate(
            running_balance=Window(Sum("amount"), order_by=[F("occurred_at").asc(), F("pk").asc()])
        )
        .order_by("occurred_at", "pk")
    )


def period_start(period: str, *, now: datetime | None = None) -> datetime | None:
    """Calendar periods in the brand's time zone."""
    if period == "all":
        return None
    local = (now or timezone.now()).astimezone(ZoneInfo(settings.BRAND_TIME_ZONE))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return midnight - timedelta(days=midnight.weekday())
    return midnight.replace(day=1)


def leaderboard(*, period: str) -> list[dict[str, Any]]:
    """All active experts ranked by points earned in the period (dense ranking).

    One query, whatever the number of experts.
    """
    start = period_start(period)
    entries = LedgerEntry.objects.filter(expert=OuterRef("pk"), kind__in=EARNING_KINDS)
    chats = Conversation.objects.filter(expert=OuterRef("pk"), status=Conversation.Status.RESOLVED)
    if start:
        entries = entries.filter(occurred_at__gte=start)
        chats = chats.filter(resolved_at__gte=start)
    points = entries.values("expert").annotate(total=Sum("amount")).values("total")
    resolved = chats.values("expert").annotate(n=Count("pk")).values("n")
    rating = (
        chats.filter(rating__isnull=False)
        .values("expert")
        .annotate(avg=Avg("rating"))
        .values("avg")
    )
    experts = (
        Expert.objects.filter(suspended_at__isnull=True)
        .annotate(
            points=Coalesce(Subquery(points, output_field=IntegerField()), Value(0)),
            resolved=Coalesce(Subquery(resolved, output_field=IntegerField()), Value(0)),
            avg_rating=Subquery(rating),
        )
        .order_by("-points", "display_name", "pk")
        .values("pk", "display_name", "points", "resolved", "avg_rating")
    )
    rows, rank, previous = [], 0, None
    for expert in experts:
        if expert["points"] != previous:
            rank, previous = rank + 1, expert["points"]
        name = expert["display_name"]
        rows.append(
            {
                "expert": expert["pk"],
                "rank": rank,
                "name": name,
                "initials": "".join(part[0] for part in name.split()[:2]).upper(),
                "points": expert["points"],
                "resolved": expert["resolved"],
                "avg_rating": round(float(expert["avg_rating"]), 1)
                if expert["avg_rating"] is not None
                else None,
            }
        )
    return rows


def leaderboard_view(*, rows: list[dict[str, Any]], expert_id: int | None) -> dict[str, Any]:
    """The top of the board, plus the viewer's own row when it is further down."""
    top = rows[:TOP]
    me = next((row for row in rows if row["expert"] == expert_id), None)
    return {"rows": top, "me": me}


def audit_mismatches() -> list[tuple[int, str, int, int]]:
    """(expert id, name, cached balance, sum of entries) wherever the two differ."""
    experts = Expert.objects.annotate(
        ledger=Coalesce(Sum("ledger_entries__amount"), Value(0)),
        cached=Coalesce(F("points_account__balance"), Value(0)),
    ).filter(~Q(ledger=F("cached")) | Q(cached__lt=0))
    return [(e.pk, e.display_name, e.cached, e.ledger) for e in experts]


def award_suspicions(
    *,
    expert_id: int,
    kind: str,
    conversation: Conversation | None = None,
    conversation_id: int | None = None,
    follow_up=None,
) -> list[str]:
    """Why an award looks farmed (FlaggedAward.Reason codes); empty when it does not."""
    if conversation is None:
        conversation_id = conversation_id or (follow_up.conversation_id if follow_up else None)
        conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return []
    reasons = []
    if (
        conversation.customer_network
        and settings.SAME_NETWORK_CHECKS
        and ConsoleLease.objects.filter(
            expert_id=expert_id, network=conversation.customer_network
        ).exists()
    ):
        reasons.append(FlaggedAward.Reason.SAME_NETWORK.value)
    if kind == EntryKind.RATING_BONUS:
        if (
            conversation.rating == 5
            and conversation.assigned_at
            and conversation.resolved_at
            and (conversation.resolved_at - conversation.assigned_at).total_seconds()
            < settings.POINTS_QUICK_CHAT_SECONDS
        ):
            reasons.append(FlaggedAward.Reason.QUICK_FIVE_STARS.value)
        ratings_by_this_customer = Conversation.objects.filter(
            expert_id=expert_id,
            visitor_id=conversation.visitor_id,
            rating__isnull=False,
            created_at__gte=timezone.now() - timedelta(days=7),
        ).count()
        if ratings_by_this_customer >= settings.POINTS_REPEAT_RATINGS:
            reasons.append(FlaggedAward.Reason.REPEAT_RATER.value)
    return reasons


def flagged_awards_pending():
    return FlaggedAward.objects.filter(approved__isnull=True).select_related(
        "expert", "conversation"
    )


def rules_for_experts() -> dict[str, int]:
    """What each award is worth now, for the rules the statement page explains."""
    return {kind.value: rule_points(kind) for kind in RULE_KINDS}


def assisted_sales_due(*, now: datetime) -> list[int]:
    """Ids of orders that may earn their expert a chat-assisted sale award now, oldest
    first: attributed to a chat, the return window (ORDER_RETURN_WINDOW_DAYS) passed at
    most ASSISTED_SALE_CATCH_UP_DAYS ago, the expert not suspended, not awarded yet,
    and their chat below POINTS_ASSISTED_SALE_CAP_PER_CHAT awards. The service checks
    again under its locks; this only keeps each run from rereading every order."""
    final_until = now - timedelta(days=settings.ORDER_RETURN_WINDOW_DAYS)
    sales = LedgerEntry.objects.filter(kind=EntryKind.ASSISTED_SALE)
    per_chat = (
        sales.filter(conversation=OuterRef("conversation"))
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        Order.objects.filter(
            ordered_at__lte=final_until,
            ordered_at__gt=final_until - timedelta(days=ASSISTED_SALE_CATCH_UP_DAYS),
            conversation__isnull=False,
            expert__isnull=False,
            expert__suspended_at__isnull=True,
        )
        .exclude(pk__in=sales.filter(order__isnull=False).values("order"))
        .annotate(chat_awards=Coalesce(Subquery(per_chat, output_field=IntegerField()), 0))
        .filter(chat_awards__lt=settings.POINTS_ASSISTED_SALE_CAP_PER_CHAT)
        .order_by("ordered_at", "pk")
        .values_list("pk", flat=True)
    )


def assisted_sale_rule() -> dict[str, int] | None:
    """The assisted-sale award as the statement page explains it; None while it is off."""
    if settings.POINTS_ASSISTED_SALE <= 0:
        return None
    return {
        "points": settings.POINTS_ASSISTED_SALE,
        "days": settings.ORDER_RETURN_WINDOW_DAYS,
        "per_chat": settings.POINTS_ASSISTED_SALE_CAP_PER_CHAT,
    }
