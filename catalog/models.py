from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CatalogProduct(models.Model):
    """A product the brand sells, from its feed (`manage.py load_catalog`), for the
    product cards experts drop into chats. The reward shop's products are separate."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    url = models.URLField(_("product page"), max_length=500)
    image_url = models.URLField(_("image"), max_length=500, blank=True)
    in_stock = models.BooleanField(_("in stock"), default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("catalog product")
        verbose_name_plural = _("catalog products")
        indexes = [
            models.Index(fields=["name"]),
            # The type-ahead's order (catalog_search): for a short, common query the
            # first 8 matches are found walking this, not by sorting thousands. The
            # substring indexes are PostgreSQL-only, in migration 0002.
            models.Index(fields=["-in_stock", "name"], name="catalog_in_stock_first"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"
