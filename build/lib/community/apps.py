from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = _("Expert community")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from community import signals
        from community.permissions import ensure_groups

        # After the last app's permissions exist (this is the last of our apps).
        post_migrate.connect(ensure_groups, dispatch_uid="community.ensure_groups")
        signals.connect()
