from django.contrib import admin

from rewards.models import Product, Redemption, RedemptionEvent


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """The catalog and drops are managed here by staff."""

    list_display = [
        "name",
        "points_cost",
        "stock",
        "limited_edition",
        "available_from",
        "available_until",
        "per_expert_limit",
        "is_active",
    ]
    list_filter = ["limited_edition", "is_active"]
    search_fields = ["name"]


class RedemptionEventInline(admin.TabularInline):
    model = RedemptionEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    """Read-only: statuses change through the staff queue, which keeps the ledger right."""

    list_display = ["created_at", "expert", "product", "status", "points"]
    list_filter = ["status", "product"]
    inlines = [RedemptionEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
