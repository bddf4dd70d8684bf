from django.contrib import admin

from sales.models import Order, WidgetOpen


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_id", "amount", "currency", "ordered_at", "conversation", "expert"]
    search_fields = ["order_id", "visitor_ref"]
    readonly_fields = [
        "order_id",
        "amount",
        "currency",
        "ordered_at",
        "conversation",
        "expert",
        "visitor_ref",
        "received_at",
    ]


@admin.register(WidgetOpen)
class WidgetOpenAdmin(admin.ModelAdmin):
    """Counted by the widget (sales.services.widget_open_note): looked at, never edited."""

    list_display = ["ref", "day", "opened_at", "conversation"]
    list_filter = ["day"]
    search_fields = ["ref"]
    readonly_fields = ["ref", "day", "opened_at", "conversation"]

    def has_add_permission(self, request) -> bool:
        return False
