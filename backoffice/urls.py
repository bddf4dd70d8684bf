"""Every staff page, under /staff/. The pages about points and rewards stay in
their apps (points/views.py, rewards/views.py); the rest is backoffice/views.py."""

from django.urls import path

from backoffice import views
from chat import views as chat_views
from points import views as points_views
from rewards import views as rewards_views

urlpatterns = [
    path("", views.staff_overview, name="staff_overview"),
    path("monitor/", views.staff_monitor, name="staff_monitor"),
    path("photos/", chat_views.staff_photo_upload, name="staff_photo_upload"),
    path("experts/", views.staff_experts, name="staff_experts"),
    path("experts/<int:expert_id>/action/", views.staff_expert_action, name="staff_expert_action"),
    path("metrics/", views.staff_metrics, name="staff_metrics"),
    path("applications/", views.staff_applications, name="staff_applications"),
    path(
        "applications/<int:application_id>/action/",
        views.staff_application_action,
        name="staff_application_action",
    ),
    path("audit/", views.staff_audit, name="staff_audit"),
    path("reports/", views.staff_reports, name="staff_reports"),
    path("reports/<int:report_id>/action/", views.staff_report_action, name="staff_report_action"),
    path("leaderboard/", points_views.staff_leaderboard, name="staff_leaderboard"),
    path("awards/", points_views.staff_flagged_awards, name="staff_flagged_awards"),
    path("redemptions/", rewards_views.staff_queue, name="staff_redemptions"),
    path(
        "redemptions/<int:redemption_id>/row/",
        rewards_views.staff_redemption_row,
        name="staff_redemption_row",
    ),
    path("redemptions/action/", rewards_views.staff_action, name="staff_redemption_action"),
]
