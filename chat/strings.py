"""UI text of the widget, translated on the server and sent in `welcome`,
so the embedded script carries no language tables of its own."""

from django.utils.translation import gettext as _


def widget_strings() -> dict[str, str]:
    return {
        "title": _("Ask a brand expert"),
    }
