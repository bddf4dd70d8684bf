from django.db.models import Count, Q

from community.models import Expert


def active_expert_for_user(*, user) -> Expert | None:
    """The user's expert profile, unless they have none or are suspended."""
    return Expert.objects.filter(user=user, suspended_at__isnull=True).first()


def experts_for_staff():
    """Every expert with their load, balance and resolved chats: one query."""
    return (
        Expert.objects.select_related("user", "points_account")
        .annotate(resolved=Count("conversations", filter=Q(conversations__status="resolved")))
        .order_by("suspended_at", "display_name")
    )
