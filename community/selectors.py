from community.models import Expert


def active_expert_for_user(*, user) -> Expert | None:
    """The user's expert profile, unless they have none or are suspended."""
    return Expert.objects.filter(user=user, suspended_at__isnull=True).first()
