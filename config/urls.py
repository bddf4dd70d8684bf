from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from chat import views as chat_views
from community import views as community_views
from config import health
from points import views as points_views
from rewards import views as rewards_views
from sales import views as sales_views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/orders/", sales_views.order_report, name="order_report"),
    path("readyz", health.readyz, name="readyz"),
    path("", community_views.home, name="home"),
    path("shop/", chat_views.demo_shop, name="demo_shop"),
    path("widget/transcript/<int:conversation_id>/", chat_views.transcript, name="transcript"),
    path("widget/photos/", chat_views.widget_photo_upload, name="widget_photo_upload"),
    path("console/photos/", chat_views.console_photo_upload, name="console_photo_upload"),
    path("photos/<str:token>/", chat_views.photo, name="chat_photo"),
    path(
        "transcript/confirm/<str:token>/",
        chat_views.transcript_confirm,
        name="transcript_confirm",
    ),
    path("apply/", community_views.apply, name="apply"),
    path("apply/thanks/", community_views.apply_thanks, name="apply_thanks"),
    path("console/", community_views.console, name="console"),
    path("console/shifts/", community_views.shifts, name="shifts"),
    path("console/replies/", community_views.saved_replies, name="saved_replies"),
    path(
        "console/notifications/",
        community_views.notification_settings,
        name="notification_settings",
    ),
    path("console/catalog/search/", community_views.catalog_search, name="catalog_search"),
    path(
        "console/replies/<int:reply_id>/delete/",
        community_views.saved_reply_delete,
        name="saved_reply_delete",
    ),
    path(
        "console/offline/<int:message_id>/",
        community_views.offline_message_action,
        name="offline_message_action",
    ),
    path(
        "console/chats/<int:conversation_id>/",
        community_views.past_conversation,
        name="past_conversation",
    ),
    path(
        "console/chats/<int:conversation_id>/follow-ups/",
        community_views.follow_up_send,
        name="follow_up_send",
    ),
    path("console/points/", points_views.statement, name="points_statement"),
    path("console/points.csv", points_views.statement_csv, name="points_statement_csv"),
    path("console/shop/", rewards_views.shop, name="rewards_shop"),
    path("console/shop/<int:product_id>/redeem/", rewards_views.redeem, name="rewards_redeem"),
    path(
        "console/redemptions/<int:redemption_id>/cancel/",
        rewards_views.cancel,
        name="rewards_cancel",
    ),
    path("staff/", include("backoffice.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.SERVE_MEDIA:  # product images; a proxy in front serves them itself
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )
