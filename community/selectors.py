from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import AuditEntry, Expert, SavedReply, ShiftSlot
from config.errors import ServiceError

# The widget's "become an expert" link carries a signed chat id, so the application
# form can fill in the name and email the customer gave in that chat.
APPLY_INVITE_SALT = "community.apply-invite"
APPLY_INVITE_MAX_AGE = timedelta(days=30)


def active_expert_for_user(*, user) -> Expert | None:
    """The user's expert profile, unless they have none or are suspended."""
    return Expert.objects.filter(user=user, suspended_at__isnull=True).first()


# The same question about the user row `u`, for the sockets' session checks
# (realtime.sockets.SignedIn.right_sql).
ACTIVE_EXPERT_SQL = (
    f"EXISTS (SELECT 1 FROM {Expert._meta.db_table} e"
    " WHERE e.user_id = u.id AND e.suspended_at IS NULL)"
)


def suspension_for_user(*, user_id) -> dict | None:
    """Since when the user's expert profile is suspended, and whom they can write to
    about it (STAFF_CONTACT_EMAIL, else the staff member who suspended them)."""
    expert = Expert.objects.filter(user_id=user_id, suspended_at__isnull=False).first()
    if expert is None:
        return None
    contact = settings.STAFF_CONTACT_EMAIL
    if not contact:
        suspended_by = (
            AuditEntry.objects.filter(
                action="suspend", subject_type="expert", subject_id=str(expert.pk)
            )
            .select_related("actor")
            .order_by("-at")
            .first()
        )
        contact = suspended_by.actor.email if suspended_by else ""
    return {"since": expert.suspended_at, "contact": contact}


def experts_for_staff():
    """Every expert with their load, balance and resolved chats: one query."""
    return (
        Expert.objects.select_related("user", "points_account")
        .annotate(resolved=Count("conversations", filter=Q(conversations__status="resolved")))
        .order_by("suspended_at", "display_name")
    )


def next_staffed_shift_start():
    """When the next expert is expected, for the widget when nobody is on shift."""
    return (
        ShiftSlot.objects.filter(starts_at__gt=timezone.now(), experts__isnull=False)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )


def applicant_history(*, email: str) -> dict:
    """The applicant's past chats as a customer, found by the email they left."""
    from chat.models import Conversation

    chats = Conversation.objects.filter(visitor__email__iexact=email).select_related("expert")
    rated = [c.rating for c in chats if c.rating]
    return {
        "chats": list(chats.order_by("-created_at")[:10]),
        "average_rating_given": round(sum(rated) / len(rated), 1) if rated else None,
    }


def application_invite(*, conversation_id: int, visitor) -> str:
    """A token for the application form, for the customer of this chat only."""
    from chat.models import Conversation

    if (
        visitor is None
        or not Conversation.objects.filter(pk=conversation_id, visitor=visitor).exists()
    ):
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    return signing.dumps(conversation_id, salt=APPLY_INVITE_SALT)


def application_invited_visitor(*, token: str):
    """The customer a valid invite token was made for, or None."""
    from chat.models import Visitor

    try:
        conversation_id = signing.loads(token, salt=APPLY_INVITE_SALT, max_age=APPLY_INVITE_MAX_AGE)
    except signing.BadSignature:
        return None
    return Visitor.objects.filter(conversations__pk=conversation_id).first()


def upcoming_shifts(*, limit: int = 50):
    """Shifts that have not ended, soonest first, with who signed up."""
    upcoming = ShiftSlot.objects.filter(ends_at__gt=timezone.now()).order_by("starts_at")
    return upcoming.prefetch_related("experts")[:limit]


def saved_replies_for(*, expert: Expert, language: str) -> list[dict]:
    """The expert's own replies, then the shared ones they have not replaced with their
    own shortcut. A shared one's `body` is in the console's language (Dutch where staff
    wrote it), and `bodies` has each language staff wrote it in, so the console can
    put it in the chat in the customer's language."""
    own = list(SavedReply.objects.filter(expert=expert))
    taken = {reply.shortcut for reply in own}
    shared = SavedReply.objects.filter(expert__isnull=True).exclude(shortcut__in=taken)
    replies = [
        {"id": reply.pk, "shortcut": reply.shortcut, "body": reply.body, "shared": False}
        for reply in own
    ]
    for reply in shared:
        bodies = {settings.LANGUAGE_CODE: reply.body}
        if reply.body_nl:
            bodies["nl"] = reply.body_nl
        replies.append(
            {
                "id": reply.pk,
                "shortcut": reply.shortcut,
                "body": bodies.get(language, reply.body),
                "bodies": bodies,
                "shared": True,
            }
        )
    return replies


@dataclass(frozen=True)
class Staffing:
    """The queue against the team, for the "shoppers are waiting" mails."""

    waiting: int  # chats waiting for an expert
    oldest_queued_at: datetime | None
    longest_wait_seconds: int
    serving: int  # on shift with a console open: experts who can take a chat now
    wanted: int  # "experts needed" of the shifts running now, as staff published them

    @property
    def short_handed(self) -> bool:
        return (
            self.waiting > 0
            and self.longest_wait_seconds > settings.CHAT_WAITING_ALERT_SECONDS
            and self.serving < self.wanted
        )


def staffing_now() -> Staffing:
    from chat.models import Conversation
    from chat.selectors import live_lease_exists

    now = timezone.now()
    queue = Conversation.objects.filter(status=Conversation.Status.WAITING).aggregate(
        waiting=Count("pk"), oldest=Min("queued_at")
    )
    wanted = ShiftSlot.objects.filter(starts_at__lte=now, ends_at__gt=now).aggregate(
        wanted=Sum("capacity")
    )["wanted"]
    serving = Expert.objects.filter(live_lease_exists(), on_shift=True, suspended_at__isnull=True)
    return Staffing(
        waiting=queue["waiting"],
        oldest_queued_at=queue["oldest"],
        longest_wait_seconds=int((now - queue["oldest"]).total_seconds()) if queue["oldest"] else 0,
        serving=serving.count(),
        wanted=wanted or 0,
    )


def waiting_alert_recipients(*, last_mailed_before: datetime):
    """Experts who asked for the mail and could help: active, not suspended, with an
    address, no console open (those hear of new chats there), not mailed since."""
    from chat.selectors import live_lease_exists

    return (
        Expert.objects.filter(
            waiting_alerts=True,
            suspended_at__isnull=True,
            user__is_active=True,
        )
        .exclude(user__email="")
        .exclude(live_lease_exists())
        .filter(
            Q(waiting_alert_sent_at__isnull=True) | Q(waiting_alert_sent_at__lt=last_mailed_before)
        )
        .select_related("user")
    )
