"""The experts' type-ahead (catalog.selectors.catalog_search) stays an index lookup on
a catalog of 10,000 products and more, on PostgreSQL.

In stock first, then by name: one B-tree in that order (in the model's Meta, on every
database) lets a query that matches thousands stop at the first 8.

Django turns `icontains`/`istartswith` into `UPPER(col::text) LIKE UPPER(%s)` there, so
an index on the bare column (`GinIndex(fields=["name"], opclasses=[...])`) is never
used. These index that very expression, a pg_trgm GIN for a substring of the name and
a pattern-ops B-tree for a prefix of the SKU. tests/catalog/test_search_index.py checks
the planner takes them.

`fastupdate = off`: rows a feed load adds go into the GIN at once, not into its
pending list, which every search scans until autovacuum merges it (a 10,000-row load
made searches 5 to 25 times slower for that while). The catalog is read by every
keystroke and written by an hourly feed: slower inserts are the right trade.

They exist only in PostgreSQL, not in the migration state: SQLite (`make run`) has no
GIN or pg_trgm and would fail to rebuild the table around them in a later migration;
its demo catalogs are small enough to scan. Django's OpClass() would need
django.contrib.postgres installed, for two statements."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

CREATE = [
    "CREATE INDEX catalog_name_trgm ON catalog_catalogproduct USING gin "
    "(UPPER(name) gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX catalog_sku_prefix ON catalog_catalogproduct (UPPER(sku) text_pattern_ops)",
]
DROP = ["DROP INDEX IF EXISTS catalog_name_trgm", "DROP INDEX IF EXISTS catalog_sku_prefix"]


def run(statements: list[str]):
    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return forwards


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="catalogproduct",
            index=models.Index(fields=["-in_stock", "name"], name="catalog_in_stock_first"),
        ),
        TrigramExtension(),  # a no-op on other databases
        migrations.RunPython(run(CREATE), run(DROP)),
    ]
