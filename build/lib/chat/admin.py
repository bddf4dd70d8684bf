from django.contrib import admin

from chat.models import Conversation, FollowUp, Message, OfflineMessage, Visitor


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["seq", "sender", "author", "body", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["pk", "topic", "status", "expert", "created_at", "rating"]
    list_filter = ["status", "rating"]
    search_fields = ["topic", "visitor__name", "visitor__email"]
    readonly_fields = ["last_seq", "customer_read_seq", "expert_read_seq", "status", "expert"]
    inlines = [MessageInline]


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "email", "created_at"]
    search_fields = ["name", "email"]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["conversation", "expert", "created_at", "seen_at", "marked_helpful_at"]


@admin.register(OfflineMessage)
class OfflineMessageAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "created_at", "handled_at"]
