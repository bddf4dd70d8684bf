from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from rewards.services import redemptions_expire


@task()
def pending_redemptions_expire() -> int:
    """Release points and stock of redemptions staff did not decide on in time."""
    cutoff = timezone.now() - timedelta(days=settings.REDEMPTION_PENDING_DAYS)
    return redemptions_expire(older_than=cutoff)
