from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Order(models.Model):
    """An order the shop reported (POST /api/orders/), attributed to the chat whose
    product card the shopper came from (or the latest chat of the widget reference it
    carries), if it was placed within ORDER_ATTRIBUTION_DAYS of that chat."""

    order_id = models.CharField(_("order id"), max_length=100, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    ordered_at = models.DateTimeField(_("ordered at"))
    conversation = models.ForeignKey(
        "chat.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    expert = models.ForeignKey(
        "community.Expert", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    # The widget reference the shop carried to checkout (BrandChat.attribution()), as
    # reported: the conversion figures match it against widget openings.
    visitor_ref = models.CharField(_("widget reference"), max_length=64, blank=True, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-ordered_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self) -> str:
        return f"{self.order_id} ({self.amount} {self.currency})"


class WidgetOpen(models.Model):
    """A shopper opened the chat panel on this day (in BRAND_TIME_ZONE): at most one
    row per widget `ref` and day. `ref` is the widget's public reference, not the
    visitor's token, so the shop may carry it to checkout (BrandChat.attribution())."""

    ref = models.CharField(_("widget reference"), max_length=64)
    day = models.DateField(_("day"))
    opened_at = models.DateTimeField(_("first opened at"), default=timezone.now)
    # The chat the shopper started from the widget that day (the latest), if any: it
    # tells chatted from not chatted, and leads an order that names only the ref to it.
    conversation = models.ForeignKey(
        "chat.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("widget opening")
        verbose_name_plural = _("widget openings")
        constraints = [
            models.UniqueConstraint(fields=["ref", "day"], name="widget_open_once_per_ref_and_day")
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.ref} {self.day}"
