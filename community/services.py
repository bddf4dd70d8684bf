"""Writes for experts: shifts and console presence."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import services as chat_services
from community.models import Expert
from config import realtime
from config.errors import ServiceError


def _shift_frame(expert: Expert) -> dict:
    return {"type": "shift", "on_shift": expert.on_shift}


@transaction.atomic
def expert_shift_start(*, expert: Expert) -> Expert:
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.is_suspended:
        raise ServiceError("suspended", _("Your account is suspended; you cannot go on shift."))
    expert.on_shift = True
    expert.last_seen_at = timezone.now()
    expert.save(update_fields=["on_shift", "last_seen_at"])
    realtime.send_after_commit(realtime.expert_group(expert.pk), _shift_frame(expert))
    chat_services.queue_drain()
    return expert


@transaction.atomic
def expert_shift_end(*, expert: Expert) -> Expert:
    """Off shift: open chats continue, no new ones arrive."""
    Expert.objects.filter(pk=expert.pk).update(on_shift=False)
    expert.refresh_from_db()
    realtime.send_after_commit(realtime.expert_group(expert.pk), _shift_frame(expert))
    return expert


@transaction.atomic
def expert_console_connected(*, expert: Expert) -> None:
    Expert.objects.filter(pk=expert.pk).update(
        console_connections=F("console_connections") + 1, last_seen_at=timezone.now()
    )
    chat_services.queue_drain()


def expert_console_disconnected(*, expert: Expert) -> None:
    """The grace period for the expert's open chats counts from now."""
    Expert.objects.filter(pk=expert.pk, console_connections__gt=0).update(
        console_connections=F("console_connections") - 1, last_seen_at=timezone.now()
    )


def expert_heartbeat(*, expert: Expert) -> None:
    Expert.objects.filter(pk=expert.pk).update(last_seen_at=timezone.now())
