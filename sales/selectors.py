"""Reads for the conversion figures: of the shoppers who opened the chat panel, how
many ordered, those who chatted against those who did not (docs/integration.md)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q

from sales.models import Order, WidgetOpen


@dataclass(frozen=True)
class Conversion:
    shoppers: int = 0
    converted: int = 0

    @property
    def rate(self) -> float | None:
        return self.converted / self.shoppers if self.shoppers else None

    def plus(self, converted: bool) -> "Conversion":
        return Conversion(self.shoppers + 1, self.converted + converted)


@dataclass
class _Shopper:
    opened: list[datetime] = field(default_factory=list)
    visitors: set = field(default_factory=set)
    experts: set[int] = field(default_factory=set)
    chatted: bool = False


@dataclass(frozen=True)
class WidgetConversion:
    chatted: Conversion
    not_chatted: Conversion
    by_expert: dict[int, Conversion]


def widget_conversion(*, first_day: date, last_day: date) -> WidgetConversion:
    """Shoppers are widget references that opened the panel on a day of the period.
    One chatted if they started a chat from it that an expert took. One converted if
    the shop reported an order carrying their reference, or naming one of their chats,
    placed within ORDER_ATTRIBUTION_DAYS after one of those openings. Per expert: the
    chatted shoppers whose chat that expert took. Two queries, whatever the period."""
    window = timedelta(days=settings.ORDER_ATTRIBUTION_DAYS)
    opens = WidgetOpen.objects.filter(day__gte=first_day, day__lte=last_day)
    shoppers: dict[str, _Shopper] = defaultdict(_Shopper)
    for ref, opened_at, visitor_id, expert_id, assigned_at in opens.values_list(
        "ref",
        "opened_at",
        "conversation__visitor_id",
        "conversation__expert_id",
        "conversation__assigned_at",
    ):
        shopper = shoppers[ref]
        shopper.opened.append(opened_at)
        if visitor_id:
            shopper.visitors.add(visitor_id)
        if assigned_at:
            shopper.chatted = True
            if expert_id:
                shopper.experts.add(expert_id)
    if not shoppers:
        return WidgetConversion(Conversion(), Conversion(), {})
    # Order times by the reference they carry and by the visitor whose chat they name.
    ordered: dict[object, list[datetime]] = defaultdict(list)
    for ref, visitor_id, ordered_at in Order.objects.filter(
        Q(visitor_ref__in=opens.values("ref"))
        | Q(conversation__visitor_id__in=opens.values("conversation__visitor_id")),
        ordered_at__gte=min(o for s in shoppers.values() for o in s.opened),
    ).values_list("visitor_ref", "conversation__visitor_id", "ordered_at"):
        if ref:
            ordered[ref].append(ordered_at)
        if visitor_id:
            ordered[visitor_id].append(ordered_at)

    chatted, not_chatted = Conversion(), Conversion()
    by_expert: dict[int, Conversion] = defaultdict(Conversion)
    for ref, shopper in shoppers.items():
        times = [t for key in (ref, *shopper.visitors) for t in ordered.get(key, ())]
        converted = any(o <= t <= o + window for o in shopper.opened for t in times)
        if shopper.chatted:
            chatted = chatted.plus(converted)
            for expert_id in shopper.experts:
                by_expert[expert_id] = by_expert[expert_id].plus(converted)
        else:
            not_chatted = not_chatted.plus(converted)
    return WidgetConversion(chatted, not_chatted, dict(by_expert))
