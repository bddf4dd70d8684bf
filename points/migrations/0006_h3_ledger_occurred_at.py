"""Ledger entries get the time of the event they reward (`occurred_at`), besides the
time they were written (`created_at`). Existing entries take their written time.

The backfill is the one UPDATE the ledger ever sees: the append-only trigger
(0002) is switched off for it, inside this migration's transaction, and on again."""

import django.utils.timezone
from django.db import migrations, models

BACKFILL = [
    "UPDATE points_ledgerentry SET occurred_at = created_at WHERE occurred_at IS NULL",
    "UPDATE points_flaggedaward SET occurred_at = created_at WHERE occurred_at IS NULL",
]


def backfill(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE points_ledgerentry DISABLE TRIGGER points_ledger_append_only"
        )
    for statement in BACKFILL:
        schema_editor.execute(statement)
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE points_ledgerentry ENABLE TRIGGER points_ledger_append_only"
        )


class Migration(migrations.Migration):
    dependencies = [("points", "0005_flagged_awards")]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="occurred_at",
            field=models.DateTimeField(null=True, verbose_name="happened at"),
        ),
        migrations.AddField(
            model_name="flaggedaward",
            name="occurred_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="ledgerentry",
            name="occurred_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="happened at"
            ),
        ),
        migrations.AlterField(
            model_name="flaggedaward",
            name="occurred_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="created_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="written at"
            ),
        ),
        migrations.AlterModelOptions(
            name="ledgerentry",
            options={
                "ordering": ["occurred_at", "pk"],
                "permissions": [("adjust_points", "Can adjust and reverse points")],
                "verbose_name": "ledger entry",
                "verbose_name_plural": "ledger entries",
            },
        ),
        migrations.RemoveIndex(model_name="ledgerentry", name="points_ledg_expert__e82aa5_idx"),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["expert", "occurred_at"], name="points_ledg_expert__245f9f_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["occurred_at"], name="points_ledg_occurre_fdf9df_idx"),
        ),
    ]
