from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Expert(models.Model):
    """A paid brand expert who staffs the chat on shifts."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expert"
    )
    display_name = models.CharField(_("display name"), max_length=80)
    max_concurrent_chats = models.PositiveSmallIntegerField(
        _("maximum concurrent chats"),
        default=settings.CHAT_BRAND_MAX_CONCURRENT,
        validators=[MinValueValidator(1), MaxValueValidator(settings.CHAT_BRAND_MAX_CONCURRENT)],
    )
    # Kept in step with the expert's active conversations in the same transaction;
    # the CHECK below is what makes the three-chat cap hold across processes.
    open_chat_count = models.PositiveSmallIntegerField(_("open chats"), default=0)
    on_shift = models.BooleanField(_("on shift"), default=False)
    console_connections = models.PositiveSmallIntegerField(default=0)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspension_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("expert")
        verbose_name_plural = _("experts")
        ordering = ["display_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(open_chat_count__lte=F("max_concurrent_chats")),
                name="expert_open_chats_within_cap",
            ),
            models.CheckConstraint(
                condition=Q(max_concurrent_chats__gte=1)
                & Q(max_concurrent_chats__lte=settings.CHAT_BRAND_MAX_CONCURRENT),
                name="expert_cap_within_brand_maximum",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in self.display_name.split()[:2]).upper()


class AuditEntry(models.Model):
    """Every staff action, for staff to browse and filter."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    subject_type = models.CharField(max_length=40)
    subject_id = models.CharField(max_length=40)
    subject = models.CharField(_("subject"), max_length=200)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.subject}"
