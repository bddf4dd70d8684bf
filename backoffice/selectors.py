"""Reads for the staff pages."""

from django.db.models import QuerySet

from chat.models import Conversation, MessageReport, OfflineMessage
from community.models import AuditEntry, ExpertApplication


def live_chats() -> dict[str, QuerySet]:
    """Waiting chats in queue order, active ones by when they were assigned."""
    chats = Conversation.objects.select_related("visitor")
    return {
        "waiting": chats.filter(status=Conversation.Status.WAITING).order_by("queued_at"),
        "active": chats.filter(status=Conversation.Status.ACTIVE)
        .select_related("expert")
        .order_by("assigned_at"),
    }


def recent_offline_messages(*, limit: int = 50) -> QuerySet:
    return OfflineMessage.objects.all()[:limit]


def audit_entries(*, action: str = "") -> QuerySet:
    entries = AuditEntry.objects.select_related("actor")
    return entries.filter(action=action) if action else entries


def audit_actions_used() -> QuerySet:
    return AuditEntry.objects.values_list("action", flat=True).distinct()


def open_reports() -> QuerySet:
    return MessageReport.objects.filter(handled_at__isnull=True).select_related(
        "message", "message__conversation", "message__author__expert"
    )


def report_get(*, report_id: int) -> MessageReport | None:
    return MessageReport.objects.select_related("message").filter(pk=report_id).first()


def pending_applications() -> QuerySet:
    return ExpertApplication.objects.filter(status=ExpertApplication.Status.PENDING).order_by(
        "created_at"
    )


def decided_applications(*, limit: int = 20) -> QuerySet:
    return ExpertApplication.objects.exclude(
        status=ExpertApplication.Status.PENDING
    ).select_related("decided_by")[:limit]
