from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConsoleLease(models.Model):
    """One open console socket of an expert. Its heartbeat moves `expires_at`
    forward; a socket whose process died simply stops doing so. Routing only picks
    experts with a lease that has not expired: nothing here is a counter that a
    lost decrement could leave wrong."""

    expert = models.ForeignKey("Expert", on_delete=models.CASCADE, related_name="leases")
    channel_name = models.CharField(max_length=200, unique=True)
    # The console's IPv4 address or IPv6 /64: chats started from it never route here.
    network = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.expert_id} until {self.expires_at:%H:%M:%S}"


# Whose turn it is for a new chat: fewest open chats, then longest without one (never
# first; SQLite cannot index NULLS FIRST).
TURN_ORDER = (
    F("open_chat_count"),
    ExpressionWrapper(Q(last_assigned_at__isnull=False), output_field=models.BooleanField()),
    F("last_assigned_at"),
    F("id"),
)


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
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspension_reason = models.CharField(max_length=300, blank=True)
    # Moves with every change of on_shift or suspended_at, in the same transaction:
    # the version of the `shift` frame, and (summed) of the widgets' `availability`.
    state_version = models.PositiveIntegerField(default=0)
    # "Shoppers are waiting" mails (community.services.waiting_alerts_send): the
    # expert's choice, the language they read them in, and when the last one went out,
    # moved by a conditional UPDATE so two jobs at once send one mail.
    waiting_alerts = models.BooleanField(
        _("email me when shoppers are waiting"),
        default=False,
        help_text=_(
            "When shoppers have waited a few minutes and fewer experts are online than the "
            "shifts need. At most one email an hour, never while your console is open."
        ),
    )
    language = models.CharField(
        _("language of these emails"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    waiting_alert_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("expert")
        verbose_name_plural = _("experts")
        ordering = ["display_name"]
        permissions = [
            ("moderate_chats", _("Can watch, whisper into, take over and moderate chats")),
            ("manage_experts", _("Can recruit, suspend and set limits for experts")),
            ("view_service_metrics", _("Can see service metrics and the audit log")),
        ]
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
        indexes = [
            # A drain reads the first few free experts in turn under the routing lock,
            # in time that does not grow with the community (chat.services._shared).
            models.Index(
                *TURN_ORDER,
                condition=Q(on_shift=True, suspended_at__isnull=True),
                name="expert_on_shift_turn",
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


class ExpertApplication(models.Model):
    """A customer who wants to become a brand expert."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    name = models.CharField(_("name"), max_length=80)
    email = models.EmailField(_("email"))
    motivation = models.TextField(_("why you"))
    product_areas = models.CharField(_("products you know best"), max_length=300)
    availability = models.CharField(_("when you could take shifts"), max_length=300)
    visitor = models.ForeignKey("chat.Visitor", on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    expert = models.OneToOneField(Expert, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("expert application")
        verbose_name_plural = _("expert applications")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ShiftSlot(models.Model):
    """A shift staff publish; experts sign up for it."""

    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("experts needed"), default=2)
    experts = models.ManyToManyField(Expert, blank=True, related_name="shift_slots")

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class SavedReply(models.Model):
    """A reply an expert types often, picked in the console by typing `/` and its
    shortcut. An expert's own, or shared (no expert) and kept by staff in the admin,
    in English and Dutch. `{name}` becomes the customer's first name."""

    expert = models.ForeignKey(
        Expert, on_delete=models.CASCADE, null=True, blank=True, related_name="saved_replies"
    )
    shortcut = models.SlugField(_("shortcut"), max_length=30)
    body = models.TextField(_("reply"), max_length=2000)
    body_nl = models.TextField(_("reply in Dutch"), max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["shortcut"]
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        constraints = [
            models.UniqueConstraint(
                fields=["expert", "shortcut"], name="saved_reply_shortcut_once_per_expert"
            ),
            models.UniqueConstraint(
                fields=["shortcut"],
                condition=Q(expert__isnull=True),
                name="shared_reply_shortcut_once",
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"
