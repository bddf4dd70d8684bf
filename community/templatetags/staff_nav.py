from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from community.permissions import (
    ADJUST_POINTS,
    DECIDE_REDEMPTIONS,
    MANAGE_EXPERTS,
    MODERATE_CHATS,
    VIEW_METRICS,
)

register = template.Library()

# (url name, label, right needed, other url names that belong to the same tab)
STAFF_PAGES = [
    ("staff_overview", _("Overview"), MODERATE_CHATS, ()),
    ("staff_monitor", _("Live monitor"), MODERATE_CHATS, ()),
    ("staff_experts", _("Experts"), MANAGE_EXPERTS, ()),
    ("staff_applications", _("Applications"), MANAGE_EXPERTS, ()),
    ("shifts", _("Shifts"), MANAGE_EXPERTS, ()),
    ("staff_redemptions", _("Redemptions"), DECIDE_REDEMPTIONS, ()),
    ("staff_flagged_awards", _("Held points"), ADJUST_POINTS, ()),
    ("staff_reports", _("Reports"), MODERATE_CHATS, ()),
    ("staff_metrics", _("Metrics"), VIEW_METRICS, ()),
    ("staff_audit", _("Audit log"), VIEW_METRICS, ()),
    ("staff_leaderboard", _("Leaderboard"), MODERATE_CHATS, ()),
]


@register.inclusion_tag("staff/_nav.html", takes_context=True)
def staff_nav(context) -> dict:
    request = context["request"]
    current = request.resolver_match.url_name if request.resolver_match else None
    return {
        "links": [
            {"href": reverse(name), "label": label, "current": current == name or current in also}
            for name, label, permission, also in STAFF_PAGES
            if request.user.has_perm(permission)
        ]
    }
