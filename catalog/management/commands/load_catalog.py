"""python manage.py load_catalog FEED: the brand's products from a CSV file (a header
row: sku,name,price,currency,url,image_url,in_stock) or a JSON list of such objects.
With CATALOG_FEED set, the scheduler loads that file every hour (catalog/jobs.py)."""

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
            counts = services.catalog_load_file(feed=feed)
        except ServiceError as refused:
            raise CommandError(
                f"{feed} was not loaded, nothing changed:\n{refused.message}"
            ) from None
        self.stdout.write(f"{counts['created']} products added, {counts['updated']} updated")
