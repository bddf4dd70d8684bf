"""The customer's socket (widget.py) and what every chat socket shares (base.py);
the expert console's socket is community/consumers.py, the staff monitor's
backoffice/consumers.py."""

from chat.consumers.widget import WidgetConsumer

__all__ = ["WidgetConsumer"]
