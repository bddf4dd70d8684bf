from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    """Something experts can redeem points for; a drop when it opens at a set time."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(_("image"), upload_to="rewards/", blank=True)
    points_cost = models.PositiveIntegerField(_("points"), validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Leave empty for unlimited.")
    )
    limited_edition = models.BooleanField(_("limited edition"), default=False)
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)
    per_expert_limit = models.PositiveSmallIntegerField(
        _("limit per expert"), null=True, blank=True, help_text=_("Leave empty for no limit.")
    )
    is_active = models.BooleanField(_("listed"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["points_cost", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(condition=Q(points_cost__gte=1), name="product_costs_points"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.is_active
            and (self.available_from is None or self.available_from <= now)
            and (self.available_until is None or now < self.available_until)
        )


class Redemption(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    # Statuses that still hold the points and the stock unit.
    HOLDING = (Status.PENDING, Status.APPROVED, Status.SHIPPED, Status.DELIVERED)

    expert = models.ForeignKey(
        "community.Expert", on_delete=models.PROTECT, related_name="redemptions"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="redemptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    points = models.PositiveIntegerField(help_text=_("The cost when redeemed."))
    shipping_address = models.TextField(_("shipping address"), blank=True)
    tracking_note = models.CharField(_("tracking"), max_length=300, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Chosen by the redeem form, so a double submit redeems once.
    request_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        permissions = [("decide_redemptions", _("Can approve, reject and ship redemptions"))]
        constraints = [
            models.UniqueConstraint(
                fields=["expert", "request_key"], name="redemption_request_once"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.product} for {self.expert} ({self.status})"


class RedemptionEvent(models.Model):
    """Who moved a redemption from one status to the next, and when."""

    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.redemption_id}: {self.from_status} → {self.to_status}"
