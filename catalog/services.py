"""Writes of the catalog: loading the brand's product feed."""

import csv
import json
from pathlib import Path

from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import CatalogProduct
from config.errors import ServiceError


class CatalogRowForm(forms.ModelForm):
    in_stock = forms.BooleanField(required=False, initial=True)
    # A feed's address without a scheme is a shop page: https (Django 6's default too).
    url = forms.URLField(max_length=500, assume_scheme="https")
    image_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = CatalogProduct
        fields = ["sku", "name", "price", "currency", "url", "image_url", "in_stock"]

    def validate_unique(self) -> None:  # an existing SKU is an update, not an error
        pass


@transaction.atomic
def catalog_load(*, rows: list[dict]) -> dict[str, int]:
    """Create or update every product of the feed by SKU. Any bad row refuses the whole
    feed, naming each bad row, and nothing changes."""
    cleaned, problems = [], []
    for number, row in enumerate(rows, start=1):
        row = {key: ("" if value is None else str(value)) for key, value in row.items()}
        row["in_stock"] = row.get("in_stock", "1").strip().lower() not in ("0", "false", "no", "")
        row.setdefault("currency", "EUR")
        form = CatalogRowForm(row)
        if form.is_valid():
            cleaned.append(form.cleaned_data)
        else:
            details = "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()
            )
            problems.append(_("row %(n)d: %(details)s") % {"n": number, "details": details})
    if problems:
        raise ServiceError("bad_feed", "\n".join(problems))
    existing = set(
        CatalogProduct.objects.filter(sku__in=[row["sku"] for row in cleaned]).values_list(
            "sku", flat=True
        )
    )
    now = timezone.now()
    for row in cleaned:
        CatalogProduct.objects.update_or_create(sku=row["sku"], defaults={**row, "updated_at": now})
    return {"created": len(cleaned) - len(existing), "updated": len(existing)}


def catalog_load_file(*, feed: Path) -> dict[str, int]:
    """A CSV feed (a header row: sku,name,price,currency,url,image_url,in_stock) or a
    JSON list of such objects; refused as a whole, with the reason, if unreadable."""
    try:
        text = feed.read_text(encoding="utf-8-sig")
        rows = (
            json.loads(text) if feed.suffix == ".json" else list(csv.DictReader(text.splitlines()))
        )
    except (OSError, ValueError, csv.Error) as error:
        raise ServiceError(
            "bad_feed", _("%(feed)s cannot be read: %(error)s") % {"feed": feed, "error": error}
        ) from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ServiceError("bad_feed", _("%(feed)s is not a list of products.") % {"feed": feed})
    return catalog_load(rows=rows)
