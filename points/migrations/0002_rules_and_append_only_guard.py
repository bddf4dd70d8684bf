from django.db import migrations

DEFAULT_RULES = {"chat_resolved": 10, "rating_bonus": 5, "follow_up": 5, "follow_up_helpful": 10}

GUARD = """
CREATE OR REPLACE FUNCTION points_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points ledger entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_ledger_append_only
    BEFORE UPDATE OR DELETE ON points_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION points_ledger_append_only();
"""
UNGUARD = """
DROP TRIGGER IF EXISTS points_ledger_append_only ON points_ledgerentry;
DROP FUNCTION IF EXISTS points_ledger_append_only();
"""


def add_rules(apps, schema_editor):
    rule = apps.get_model("points", "PointsRule")
    for kind, points in DEFAULT_RULES.items():
        rule.objects.get_or_create(kind=kind, defaults={"points": points})


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [
        migrations.RunPython(add_rules, migrations.RunPython.noop),
        migrations.RunPython(guard, unguard),
    ]
