from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = _("Expert points")

    def ready(self) -> None:
        from points import receivers  # noqa: F401  (connects to chat.events)
