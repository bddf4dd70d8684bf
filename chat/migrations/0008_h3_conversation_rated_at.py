from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chat", "0007_visitor_token_generation")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="rated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Chats are rated right after they end: the best guess for older ratings.
        migrations.RunSQL(
            "UPDATE chat_conversation SET rated_at = COALESCE(resolved_at, created_at)"
            " WHERE rating IS NOT NULL",
            migrations.RunSQL.noop,
        ),
    ]
