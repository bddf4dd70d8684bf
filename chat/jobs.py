"""Periodic jobs of the chat (settings.JOB_SCHEDULE); sockets also run the presence
sweeps on their pings, so several copies at once are safe."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from chat import services
from chat.models import TranscriptDelivery
from community.services import expired_leases_sweep

logger = logging.getLogger(__name__)

PRESENCE_SWEEPS = (
    ("expired console leases", expired_leases_sweep),
    ("absent experts' chats requeued", services.absent_experts_requeue),
    ("chats whose customer is gone", services.customers_away_sweep),
    ("started chats no drain served", services.unserved_starts_drain),
)


@task()
def presence_heal() -> dict[str, int]:
    """Expired console leases, the grace requeue, chats whose customer is gone, chats
    started on a process that died before serving them."""
    changed = {}
    for name, sweep in PRESENCE_SWEEPS:
        if count := sweep():
            logger.info("%s: %d", name, count)
            changed[name] = count
    return changed


@task()
def unconfirmed_transcripts_prune() -> int:
    """Addresses nobody confirmed within the link's lifetime are forgotten."""
    cutoff = timezone.now() - timedelta(seconds=settings.TRANSCRIPT_CONFIRM_MAX_AGE_SECONDS)
    deleted, _kinds = TranscriptDelivery.objects.filter(
        sent_at__isnull=True, requested_at__lt=cutoff
    ).delete()
    return deleted
