from pathlib import Path

from django.conf import settings
from django_tasks import task

from catalog.services import catalog_load_file


@task()
def catalog_feed_load() -> dict[str, int]:
    """The brand's feed (CATALOG_FEED), every hour: prices and stock stay current."""
    return catalog_load_file(feed=Path(settings.CATALOG_FEED))
