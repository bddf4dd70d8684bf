"""Service metrics for the staff dashboard: a fixed number of queries per period,
and small server-side SVG charts (no front-end chart library)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from chat.models import Conversation, FollowUp
from community.models import Expert
from points.models import EARNING_KINDS, EntryKind, LedgerEntry
from sales import selectors as sales_selectors
from sales.models import Order


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(settings.BRAND_TIME_ZONE)
        start = datetime.combine(self.start, datetime.min.time(), zone)
        return start, datetime.combine(self.end + timedelta(days=1), datetime.min.time(), zone)


def period_ending_today(days: int) -> Period:
    today = timezone.localdate(timezone=ZoneInfo(settings.BRAND_TIME_ZONE))
    return Period(start=today - timedelta(days=days - 1), end=today)


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def service_metrics(period: Period) -> dict[str, Any]:
    start, end = period.bounds()
    zone = ZoneInfo(settings.BRAND_TIME_ZONE)
    chats = list(
        Conversation.objects.filter(created_at__gte=start, created_at__lt=end).values(
            "status",
            "created_at",
            "queued_at",
            "assigned_at",
            "resolved_at",
            "rating",
            "expert_id",
        )
    )
    per_day = {day: 0 for day in period.days}
    for chat in chats:
        per_day[chat["created_at"].astimezone(zone).date()] += 1
    waits = [(c["assigned_at"] - c["queued_at"]).total_seconds() for c in chats if c["assigned_at"]]
    durations = [
        (c["resolved_at"] - c["assigned_at"]).total_seconds()
        for c in chats
        if c["resolved_at"] and c["assigned_at"]
    ]
    ratings = {stars: 0 for stars in range(1, 6)}
    for chat in chats:
        if chat["rating"]:
            ratings[chat["rating"]] += 1
    served = [c for c in chats if c["expert_id"]]
    resolved = [c for c in served if c["status"] == Conversation.Status.RESOLVED]
    follow_ups = FollowUp.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        sent=Count("pk"), helpful=Count("pk", filter=Q(marked_helpful_at__isnull=False))
    )
    points = LedgerEntry.objects.filter(occurred_at__gte=start, occurred_at__lt=end).aggregate(
        awarded=Sum("amount", filter=Q(kind__in=EARNING_KINDS)),
        held=Sum("amount", filter=Q(kind=EntryKind.REDEMPTION_HOLD)),
        released=Sum("amount", filter=Q(kind=EntryKind.REDEMPTION_RELEASE)),
    )
    # Chat-assisted sales: orders the shop attributed to a chat of this period.
    orders = Order.objects.filter(
        conversation__created_at__gte=start, conversation__created_at__lt=end
    ).aggregate(
        count=Count("pk"),
        revenue=Sum("amount", filter=Q(currency=settings.SHOP_CURRENCY)),
    )
    revenue_by_expert = dict(
        Order.objects.filter(
            conversation__created_at__gte=start,
            conversation__created_at__lt=end,
            currency=settings.SHOP_CURRENCY,
        )
        .values_list("expert_id")
        .annotate(total=Sum("amount"))
    )
    conversion = sales_selectors.widget_conversion(first_day=period.start, last_day=period.end)
    rated = sum(ratings.values())
    experts = Expert.objects.annotate(
        chats=Count(
            "conversations",
            filter=Q(conversations__created_at__gte=start, conversations__created_at__lt=end),
        ),
        resolved=Count(
            "conversations",
            filter=Q(conversations__resolved_at__gte=start, conversations__resolved_at__lt=end),
        ),
        rated=Count(
            "conversations",
            filter=Q(
                conversations__rating__isnull=False,
                conversations__created_at__gte=start,
                conversations__created_at__lt=end,
            ),
        ),
        rating_sum=Sum(
            "conversations__rating",
            filter=Q(conversations__created_at__gte=start, conversations__created_at__lt=end),
        ),
    ).order_by("-resolved", "display_name")
    return {
        "period": period,
        "chats_per_day": list(per_day.items()),
        "chats_total": len(chats),
        # Left the queue before an expert joined: by choice or gone too long.
        "chats_abandoned": sum(c["status"] == Conversation.Status.ABANDONED for c in chats),
        "wait_median": median(waits) if waits else None,
        "wait_p90": percentile(waits, 0.9),
        "duration_median": median(durations) if durations else None,
        "ratings": list(ratings.items()),
        "resolution_rate": len(resolved) / len(served) if served else None,
        # CSAT: the share of rated chats with 4 or 5 stars.
        "csat": (ratings[4] + ratings[5]) / rated if rated else None,
        "orders_attributed": orders["count"],
        "assisted_revenue": orders["revenue"] or 0,
        "currency": settings.SHOP_CURRENCY,
        "window": settings.ORDER_ATTRIBUTION_DAYS,
        # Of the shoppers who opened the chat, the share who ordered (sales/selectors.py).
        "conversion_chatted": conversion.chatted,
        "conversion_not_chatted": conversion.not_chatted,
        "follow_ups_sent": follow_ups["sent"],
        "follow_ups_helpful": follow_ups["helpful"],
        "points_awarded": points["awarded"] or 0,
        "points_redeemed": -((points["held"] or 0) + (points["released"] or 0)),
        "experts": [
            {
                "name": e.display_name,
                "chats": e.chats,
                "resolved": e.resolved,
                "avg_rating": round(e.rating_sum / e.rated, 1) if e.rated else None,
                "revenue": revenue_by_expert.get(e.pk) or 0,
                "conversion": conversion.by_expert.get(e.pk, sales_selectors.Conversion()),
            }
            for e in experts
        ],
    }


def bar_chart_svg(points: list[tuple[str, float]], *, label: str, height: int = 160) -> SafeString:
    """A small accessible bar chart; every value also has a <title> tooltip."""
    width, gap, top = max(len(points), 1) * 24, 4, 16
    peak = max((value for _, value in points), default=0) or 1
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" rx="3"><title>{}: {}</title></rect>',
        (
            (
                index * 24 + gap / 2,
                top + (height - top) * (1 - value / peak),
                24 - gap,
                (height - top) * value / peak,
                name,
                value,
            )
            for index, (name, value) in enumerate(points)
        ),
    )
    svg = format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'preserveAspectRatio="none">{}</svg>',
        width,
        height,
        label,
        bars,
    )
    # The scale in HTML beside the stretched SVG, so its text keeps its shape; the
    # page names the bars below the chart.
    return format_html(
        '<div class="chart-frame"><div class="chart-y" aria-hidden="true"><span>{}</span>'
        "<span>0</span></div>{}</div>",
        f"{peak:g}",
        svg,
    )
