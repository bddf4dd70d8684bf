from django.contrib import admin

from sales.models import Order


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_id", "amount", "currency", "ordered_at", "conversation", "expert"]
    readonly_fields = [
        "order_id",
        "amount",
        "currency",
        "ordered_at",
        "conversation",
        "expert",
        "received_at",
    ]
