"""python manage.py load_catalog FEED: the brand's products from a CSV file (a header
row: sku,name,price,currency,url,image_url,in_stock) or a JSON list of such objects."""

import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog import services
from config.errors import ServiceError


class Command(BaseCommand):
    help = "Create or update the product catalog from a CSV or JSON feed (by SKU)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("feed", type=Path)

    def handle(self, *args, feed: Path, **options) -> None:
        try:
            text = feed.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(f"cannot read {feed}: {error}") from None
        try:
            rows = (
                json.loads(text)
                if feed.suffix == ".json"
                else list(csv.DictReader(text.splitlines()))
            )
        except (ValueError, csv.Error) as error:
            raise CommandError(f"{feed} is not a valid feed: {error}") from None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise CommandError(f"{feed}: expected a list of products")
        try:
            counts = services.catalog_load(rows=rows)
        except ServiceError as refused:
            raise CommandError(
                f"{feed} was not loaded, nothing changed:\n{refused.message}"
            ) from None
        self.stdout.write(f"{counts['created']} products added, {counts['updated']} updated")
