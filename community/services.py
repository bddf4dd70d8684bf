"""Writes for experts: shifts and console presence."""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import services as chat_services
from community.audit import audit_record
from community.models import Expert
from config import realtime
from config.errors import ServiceError


def _announce_shift(expert: Expert) -> None:
    realtime.send_after_commit(
        realtime.expert_group(expert.pk), {"type": "shift", "on_shift": expert.on_shift}
    )
    realtime.ring_staff_monitor()


@transaction.atomic
def expert_shift_start(*, expert: Expert) -> Expert:
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.is_suspended:
        raise ServiceError("suspended", _("Your account is suspended; you cannot go on shift."))
    expert.on_shift = True
    expert.last_seen_at = timezone.now()
    expert.save(update_fields=["on_shift", "last_seen_at"])
    _announce_shift(expert)
    chat_services.queue_drain()
    return expert


@transaction.atomic
def expert_shift_end(*, expert: Expert) -> Expert:
    """Off shift: open chats continue, no new ones arrive."""
    Expert.objects.filter(pk=expert.pk).update(on_shift=False)
    expert.refresh_from_db()
    _announce_shift(expert)
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


@transaction.atomic
def expert_suspend(*, expert: Expert, staff_member, reason: str) -> Expert:
    """Off shift at once, chats back to the front of the queue, no redemptions."""
    if not reason.strip():
        raise ServiceError("bad_field", _("Give a reason for the suspension."))
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.is_suspended:
        raise ServiceError("invalid_state", _("This expert is already suspended."))
    expert.suspended_at = timezone.now()
    expert.suspension_reason = reason.strip()[:300]
    expert.on_shift = False
    expert.save(update_fields=["suspended_at", "suspension_reason", "on_shift"])
    chat_services.expert_chats_requeue(expert=expert, event="expert_unavailable")
    realtime.send_after_commit(realtime.expert_group(expert.pk), {"type": "suspended"})
    audit_record(actor=staff_member, action="suspend", subject=expert, reason=reason)
    return expert


@transaction.atomic
def expert_reinstate(*, expert: Expert, staff_member, reason: str = "") -> Expert:
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if not expert.is_suspended:
        raise ServiceError("invalid_state", _("This expert is not suspended."))
    expert.suspended_at = None
    expert.suspension_reason = ""
    expert.save(update_fields=["suspended_at", "suspension_reason"])
    audit_record(actor=staff_member, action="reinstate", subject=expert, reason=reason)
    return expert


@transaction.atomic
def expert_set_chat_limit(*, expert: Expert, limit: int, staff_member) -> Expert:
    """Between 1 and the brand maximum; never below the chats they have open now."""
    if not 1 <= limit <= settings.CHAT_BRAND_MAX_CONCURRENT:
        raise ServiceError(
            "bad_field",
            _("The limit must be between 1 and %(max)d.") % {"max": settings.CHAT_BRAND_MAX_CONCURRENT},
        )
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if limit < expert.open_chat_count:
        raise ServiceError(
            "invalid_state",
            _("%(name)s has %(open)d chats open; lower the limit once they finish.")
            % {"name": expert.display_name, "open": expert.open_chat_count},
        )
    expert.max_concurrent_chats = limit
    expert.save(update_fields=["max_concurrent_chats"])
    audit_record(actor=staff_member, action="set_chat_limit", subject=expert, reason=str(limit))
    chat_services.queue_drain()
    return expert
