from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Order(models.Model):
    """An order the shop reported (POST /api/orders/), attributed to the chat whose
    product card or page the shopper came from, if it was placed within
    ORDER_ATTRIBUTION_DAYS of that chat."""

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
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-ordered_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self) -> str:
        return f"{self.order_id} ({self.amount} {self.currency})"
