from django.contrib import admin

from community.models import Expert


@admin.register(Expert)
class ExpertAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "on_shift",
        "open_chat_count",
        "max_concurrent_chats",
        "suspended_at",
    ]
    list_filter = ["on_shift"]
    search_fields = ["display_name", "user__email"]
    # Routing state is owned by the services; editing it by hand would break the cap.
    readonly_fields = [
        "open_chat_count",
        "on_shift",
        "last_seen_at",
        "last_assigned_at",
    ]
