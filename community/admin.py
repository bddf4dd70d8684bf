from django.contrib import admin

from community.models import Expert, SavedReply


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
    # Owned by the services (routing, suspension with its audit entry, the chat limit
    # with its audit entry): staff change them on the Experts page, never by hand here.
    readonly_fields = [
        "open_chat_count",
        "on_shift",
        "last_seen_at",
        "last_assigned_at",
        "suspended_at",
        "max_concurrent_chats",
    ]


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    """Shared replies (no expert) are the team's: staff write them here, in English and
    Dutch. Experts keep their own on /console/replies/."""

    list_display = ["shortcut", "expert", "body"]
    list_filter = [("expert", admin.EmptyFieldListFilter)]
    search_fields = ["shortcut", "body", "body_nl"]
