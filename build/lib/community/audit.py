from django.db import models

from community.models import AuditEntry


def audit_record(*, actor, action: str, subject: models.Model, reason: str = "") -> AuditEntry:
    """Write one line of the staff audit log, in the caller's transaction."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        subject_type=subject._meta.model_name,
        subject_id=str(subject.pk),
        subject=str(subject)[:200],
        reason=reason[:300],
    )
