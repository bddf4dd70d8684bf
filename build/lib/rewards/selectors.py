"""Reads of the reward shop."""

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from community.models import Expert
from points import selectors as points_selectors
from rewards.models import Product, Redemption


def redemption_data(redemption: Redemption) -> dict[str, Any]:
    return {
        "id": redemption.pk,
        "product": redemption.product_id,
        "product_name": redemption.product.name,
        "status": redemption.status,
        "status_label": str(redemption.get_status_display()),
        "points": redemption.points,
        "tracking": redemption.tracking_note,
        "reason": redemption.decision_reason,
        "updated_at": redemption.updated_at.isoformat() if redemption.updated_at else None,
    }


def shop_for_expert(*, expert: Expert) -> dict[str, Any]:
    """Listed products with what this expert can do about each, in two queries."""
    balance = points_selectors.balance(expert=expert)
    now = timezone.now()
    products = (
        Product.objects.filter(is_active=True)
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .annotate(
            mine=Count(
                "redemptions",
                filter=Q(redemptions__expert=expert, redemptions__status__in=Redemption.HOLDING),
            )
        )
        .order_by("available_from", "points_cost", "name")
    )
    items = []
    for product in products:
        upcoming = product.available_from is not None and product.available_from > now
        limit_left = (
            None
            if product.per_expert_limit is None
            else max(product.per_expert_limit - product.mine, 0)
        )
        items.append(
            {
                "product": product,
                "upcoming": upcoming,
                "sold_out": product.stock == 0,
                "affordable": balance >= product.points_cost,
                "points_needed": max(product.points_cost - balance, 0),
                "limit_left": limit_left,
            }
        )
    return {"balance": balance, "items": items}


def expert_redemptions(*, expert: Expert):
    return Redemption.objects.filter(expert=expert).select_related("product")


def staff_redemption_queue(*, status: str | None = None, product_id: int | None = None):
    queue = Redemption.objects.select_related("product", "expert").order_by("created_at")
    if status:
        queue = queue.filter(status=status)
    if product_id:
        queue = queue.filter(product_id=product_id)
    return queue
