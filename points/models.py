from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    CHAT_RESOLVED = "chat_resolved", _("Resolved chat")
    RATING_BONUS = "rating_bonus", _("Good rating")
    FOLLOW_UP = "follow_up", _("Follow-up sent")
    FOLLOW_UP_HELPFUL = "follow_up_helpful", _("Follow-up marked helpful")
    ASSISTED_SALE = "assisted_sale", _("Chat-assisted sale")
    ADJUSTMENT = "adjustment", _("Staff adjustment")
    REVERSAL = "reversal", _("Reversal")
    REDEMPTION_HOLD = "redemption_hold", _("Reward redemption")
    REDEMPTION_RELEASE = "redemption_release", _("Redemption released")


RULE_KINDS = (
    EntryKind.CHAT_RESOLVED,
    EntryKind.RATING_BONUS,
    EntryKind.FOLLOW_UP,
    EntryKind.FOLLOW_UP_HELPFUL,
)
# Used until staff set a value of their own (the first migration stores these too).
DEFAULT_RULE_POINTS = {
    EntryKind.CHAT_RESOLVED: 10,
    EntryKind.RATING_BONUS: 5,
    EntryKind.FOLLOW_UP: 5,
    EntryKind.FOLLOW_UP_HELPFUL: 10,
}
# Awards from the rules above and from settings (POINTS_ASSISTED_SALE); staff may
# reverse any of them.
AWARD_KINDS = (*RULE_KINDS, EntryKind.ASSISTED_SALE)
# What counts towards the leaderboard: points earned, not points spent.
EARNING_KINDS = (*AWARD_KINDS, EntryKind.ADJUSTMENT, EntryKind.REVERSAL)


class PointsRule(models.Model):
    """The current value of each kind of award; staff change it in the admin.

    Entries copy the value when they are written, so a change never rewrites history.
    """

    kind = models.CharField(
        _("award"), max_length=24, choices=[(k.value, k.label) for k in RULE_KINDS], unique=True
    )
    points = models.PositiveIntegerField(_("points"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.points}"


class Account(models.Model):
    """Cached balance, moved in the same transaction as every entry; `points_audit`
    checks it against the sum of the entries."""

    expert = models.OneToOneField(
        "community.Expert", on_delete=models.CASCADE, related_name="points_account"
    )
    balance = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.expert}: {self.balance}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Ledger entries are append-only; post a correcting entry instead.")

    def delete(self):
        raise TypeError("Ledger entries are append-only; post a correcting entry instead.")


class LedgerEntry(models.Model):
    expert = models.ForeignKey(
        "community.Expert", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    amount = models.IntegerField(_("points"))
    kind = models.CharField(max_length=24, choices=EntryKind.choices)
    # Where the entry came from (at most a few are set).
    conversation = models.ForeignKey(
        "chat.Conversation", on_delete=models.PROTECT, null=True, blank=True
    )
    follow_up = models.ForeignKey("chat.FollowUp", on_delete=models.PROTECT, null=True, blank=True)
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    redemption = models.ForeignKey(
        "rewards.Redemption", on_delete=models.PROTECT, null=True, blank=True
    )
    order = models.ForeignKey(
        "sales.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    rule_points = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("The rule's value when this entry was written.")
    )
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    # When the rewarded event happened (the chat's resolution, the rating, the
    # follow-up); periods, the leaderboard and the statement go by it. `created_at`
    # is when the entry was written: later for an award staff held and approved.
    occurred_at = models.DateTimeField(_("happened at"), default=timezone.now)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        permissions = [("adjust_points", _("Can adjust and reverse points"))]
        ordering = ["occurred_at", "pk"]
        indexes = [
            # The leaderboard's per-expert sums for a period, and the statement.
            models.Index(fields=["expert", "occurred_at"]),
            # Points awarded in a period (service metrics).
            models.Index(fields=["occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.expert}: {self.amount:+d} ({self.get_kind_display()})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Ledger entries are append-only; post a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are append-only; post a correcting entry instead.")


class FlaggedAward(models.Model):
    """An award held back for staff because it looks farmed (the reasons say why).

    Approved, it becomes a ledger entry with the idempotency key it would have had;
    rejected, nothing is written. Ledger rows themselves are never updated."""

    class Reason(models.TextChoices):
        SAME_NETWORK = "same_network", _("The customer used the same network as the expert")
        QUICK_FIVE_STARS = "quick_five_stars", _("Five stars for a very short chat")
        REPEAT_RATER = "repeat_rater", _("The same customer rated this expert many times")

    expert = models.ForeignKey(
        "community.Expert", on_delete=models.CASCADE, related_name="flagged_awards"
    )
    kind = models.CharField(max_length=24, choices=EntryKind.choices)
    points = models.PositiveIntegerField()
    memo = models.CharField(max_length=300)
    idempotency_key = models.CharField(max_length=120, unique=True)
    conversation = models.ForeignKey(
        "chat.Conversation", on_delete=models.CASCADE, null=True, blank=True
    )
    follow_up = models.ForeignKey("chat.FollowUp", on_delete=models.CASCADE, null=True, blank=True)
    reasons = models.JSONField(default=list)
    # The rewarded event's time, which the ledger entry keeps if staff approve.
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved = models.BooleanField(null=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("flagged award")
        verbose_name_plural = _("flagged awards")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def reason_labels(self) -> list[str]:
        return [str(self.Reason(code).label) for code in self.reasons]
