from django.contrib import admin

from points.models import Account, LedgerEntry, PointsRule


@admin.register(PointsRule)
class PointsRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "points", "updated_at"]
    list_editable = ["points"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: corrections are made as new entries from the staff pages."""

    list_display = ["occurred_at", "created_at", "expert", "kind", "amount", "memo", "staff_member"]
    list_filter = ["kind"]
    search_fields = ["expert__display_name", "memo", "idempotency_key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["expert", "balance"]
    readonly_fields = ["expert", "balance"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
