"""Who may do what. Customers have no account; experts are users with an Expert
profile (group "Experts"); staff rights are Django permissions, granted to the
"Staff" group; superusers have every right."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from community.selectors import active_expert_for_user

MODERATE_CHATS = "community.moderate_chats"
MANAGE_EXPERTS = "community.manage_experts"
VIEW_METRICS = "community.view_service_metrics"
ADJUST_POINTS = "points.adjust_points"
DECIDE_REDEMPTIONS = "rewards.decide_redemptions"

STAFF_GROUP = "Staff"
EXPERTS_GROUP = "Experts"
STAFF_PERMISSIONS = (
    MODERATE_CHATS,
    MANAGE_EXPERTS,
    VIEW_METRICS,
    ADJUST_POINTS,
    DECIDE_REDEMPTIONS,
)


def may_moderate(user) -> bool:
    """The staff socket's right: watch, whisper into and moderate live chats."""
    return user.is_staff and user.has_perm(MODERATE_CHATS)


def staff_required(permission: str):
    """Anonymous users are sent to log in; signed-in users without the right get a 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not (request.user.is_staff and request.user.has_perm(permission)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # docs/security.md's matrix is checked on it
        return wrapped

    return decorator


def active_expert_or_404(request):
    """The signed-in user's active expert profile, for the expert's own pages."""
    expert = active_expert_for_user(user=request.user)
    if expert is None:
        raise Http404
    return expert


def ensure_groups(**kwargs) -> None:
    """post_migrate (also after a test flush): the two groups with their rights."""
    from django.contrib.auth.models import Group, Permission

    staff, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    Group.objects.get_or_create(name=EXPERTS_GROUP)
    wanted = [perm.split(".") for perm in STAFF_PERMISSIONS]
    permissions = [
        p
        for p in Permission.objects.select_related("content_type")
        if [p.content_type.app_label, p.codename] in wanted
    ]
    staff.permissions.set(permissions)
