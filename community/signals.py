"""Whatever may end a user's session or right rings their sockets, which then check
(realtime.sockets.SignedIn): logout, a password change, deactivation, suspension, a
staff right taken away - through our pages, allauth or the Django admin alike."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from community.models import Expert
from realtime import broadcast


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        # Sent before the session is flushed: that session's sockets close unasked.
        broadcast.ring_user_sockets(user.pk, ended_session=request.session.session_key)


def _user_saved(sender, instance, created, update_fields, **kwargs) -> None:
    # A password, is_active or is_staff may have changed; a login only stamps last_login.
    if not created and update_fields != frozenset({"last_login"}):
        broadcast.ring_user_sockets(instance.pk)


def _user_deleted(sender, instance, **kwargs) -> None:
    broadcast.ring_user_sockets(instance.pk)


def _expert_changed(sender, instance, update_fields=None, created=False, **kwargs) -> None:
    # Shift and presence writes name their fields; suspension and the admin do not.
    if not created and (update_fields is None or "suspended_at" in update_fields):
        broadcast.ring_user_sockets(instance.user_id)


def _group_deleted(sender, instance, **kwargs) -> None:
    for user_id in instance.user_set.values_list("pk", flat=True):
        broadcast.ring_user_sockets(user_id)


def _rights_removed(sender, instance, action, model, pk_set, **kwargs) -> None:
    """A user left a group or lost a permission, or a group lost a permission."""
    if action not in ("pre_remove", "pre_clear"):
        return
    users = get_user_model()
    if isinstance(instance, users):
        user_ids = {instance.pk}
    elif model is users:  # group.user_set / permission.user_set
        user_ids = (
            set(pk_set)
            if pk_set is not None
            else set(instance.user_set.values_list("pk", flat=True))
        )
    else:  # group.permissions / permission.group_set
        groups = (
            [instance]
            if isinstance(instance, Group)
            else (pk_set if pk_set is not None else instance.group_set.all())
        )
        user_ids = set(users.objects.filter(groups__in=groups).values_list("pk", flat=True))
    for user_id in user_ids:
        broadcast.ring_user_sockets(user_id)


def connect() -> None:
    users = get_user_model()
    user_logged_out.connect(_logged_out, dispatch_uid="community.sockets.logged_out")
    post_save.connect(_user_saved, sender=users, dispatch_uid="community.sockets.user_saved")
    post_delete.connect(_user_deleted, sender=users, dispatch_uid="community.sockets.user_deleted")
    for name, signal in (("saved", post_save), ("deleted", post_delete)):
        signal.connect(
            _expert_changed, sender=Expert, dispatch_uid=f"community.sockets.expert_{name}"
        )
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid="community.sockets.group_deleted")
    for through in (
        users.groups.through,
        users.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _rights_removed,
            sender=through,
            dispatch_uid=f"community.sockets.rights.{through.__name__}",
        )
