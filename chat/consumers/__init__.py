"""The chat's WebSocket consumers, one module per socket; config/asgi.py routes them."""

from chat.consumers.console import ConsoleConsumer
from chat.consumers.staff import StaffConsumer
from chat.consumers.widget import WidgetConsumer

__all__ = ["ConsoleConsumer", "StaffConsumer", "WidgetConsumer"]
