"""The type-ahead's query can use the search indexes of catalog/migrations/0002 on
PostgreSQL. They index Django's own SQL for `icontains`/`istartswith`
(`UPPER(col::text) LIKE ...`): an index on the bare column would exist and never be
used, and the search would scan every product on every keystroke."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import CatalogProduct
from catalog.selectors import catalog_search

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("the search indexes are PostgreSQL's (set DATABASE_URL)")


def plan_of_search(query: str) -> str:
    """The plan of the search's SQL when a scan is the planner's last resort: any
    index that fits the query is then taken (the catalog here is small)."""
    with CaptureQueriesContext(connection) as captured:
        catalog_search(query=query)
    (search,) = captured.captured_queries
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # no walking the order index
        cursor.execute("EXPLAIN " + search["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_name_substring_and_a_sku_prefix_are_index_lookups():
    CatalogProduct.objects.create(
        sku="CRU-EVO-BLK", name="Crusher Evo, black", price="199.00", url="https://s.example/c"
    )
    plan = plan_of_search("usher ev")
    assert "catalog_name_trgm" in plan and "catalog_sku_prefix" in plan, plan
    assert "Seq Scan" not in plan, plan
