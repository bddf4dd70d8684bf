"""Writes for experts: shifts and console presence."""

import logging
from datetime import timedelta

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat import selectors as chat_selectors
from chat import services as chat_services
from community import protocol, selectors
from community.audit import audit_record
from community.models import ConsoleLease, Expert, ExpertApplication, SavedReply, ShiftSlot
from config import jobs
from config.errors import ServiceError
from realtime import async_db, broadcast

logger = logging.getLogger(__name__)


def shift_frame(expert: Expert) -> protocol.Shift:
    return protocol.Shift(type="shift", on_shift=expert.on_shift, version=expert.state_version)


def _announce_shift(expert: Expert) -> None:
    broadcast.send_after_commit(broadcast.expert_group(expert.pk), shift_frame(expert))
    broadcast.ring_staff_monitor()
    chat_services.announce_availability()


@transaction.atomic
def expert_shift_start(*, expert: Expert) -> Expert:
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.is_suspended:
        raise ServiceError("suspended", _("Your account is suspended; you cannot go on shift."))
    expert.on_shift = True
    expert.last_seen_at = timezone.now()
    expert.state_version += 1
    expert.save(update_fields=["on_shift", "last_seen_at", "state_version"])
    _announce_shift(expert)
    chat_services.queue_drain()
    return expert


@transaction.atomic
def expert_shift_end(*, expert: Expert) -> Expert:
    """Off shift: open chats continue, no new ones arrive."""
    Expert.objects.filter(pk=expert.pk).update(on_shift=False, state_version=F("state_version") + 1)
    expert.refresh_from_db()
    _announce_shift(expert)
    return expert


def _lease_expiry():
    return timezone.now() + timedelta(seconds=settings.CHAT_CONSOLE_LEASE_SECONDS)


@transaction.atomic
def expert_console_connected(*, expert: Expert, channel_name: str, network: str = "") -> None:
    """A console socket opened: it holds a lease until its heartbeats stop."""
    was_online = chat_selectors.expert_is_online(expert_id=expert.pk)
    ConsoleLease.objects.update_or_create(
        channel_name=channel_name,
        defaults={"expert": expert, "expires_at": _lease_expiry(), "network": network},
    )
    Expert.objects.filter(pk=expert.pk).update(last_seen_at=timezone.now())
    if not was_online:
        chat_services.announce_expert_presence(expert_id=expert.pk, online=True)
    chat_services.queue_drain()


@transaction.atomic
def expert_console_disconnected(*, expert: Expert, channel_name: str) -> None:
    """The lease goes at once; the grace period for open chats counts from now."""
    ConsoleLease.objects.filter(channel_name=channel_name).delete()
    Expert.objects.filter(pk=expert.pk).update(last_seen_at=timezone.now())
    if not chat_selectors.expert_is_online(expert_id=expert.pk):
        chat_services.announce_expert_presence(expert_id=expert.pk, online=False)


def expert_heartbeat(*, expert: Expert, channel_name: str, network: str = "") -> None:
    renewed = ConsoleLease.objects.filter(channel_name=channel_name).update(
        expires_at=_lease_expiry()
    )
    Expert.objects.filter(pk=expert.pk).update(last_seen_at=timezone.now())
    if not renewed:  # expired and swept (a long stall): the socket is alive, so is the lease
        expert_console_connected(expert=expert, channel_name=channel_name, network=network)


async def expert_heartbeat_live(*, expert: Expert, channel_name: str, network: str = "") -> None:
    """`expert_heartbeat` for the console's pings: on PostgreSQL, one statement on
    its event loop; only a lease that was swept meanwhile takes the database thread."""
    if not async_db.available():
        return await broadcast.database_call(
            expert_heartbeat, expert=expert, channel_name=channel_name, network=network
        )
    now = timezone.now()
    rows = await async_db.fetch(
        f"WITH renewed AS (UPDATE {ConsoleLease._meta.db_table} SET expires_at = %s"
        " WHERE channel_name = %s RETURNING 1)"
        f" UPDATE {Expert._meta.db_table} SET last_seen_at = %s WHERE id = %s"
        " RETURNING (SELECT count(*) FROM renewed)",
        [_lease_expiry(), channel_name, now, expert.pk],
    )
    if not rows or not rows[0][0]:
        await broadcast.database_call(
            expert_console_connected, expert=expert, channel_name=channel_name, network=network
        )


def expired_leases_sweep() -> int:
    """Forget leases of consoles that stopped beating (their process died) and tell
    the customers of experts who are now offline. Safe in every process at once."""
    now = timezone.now()
    swept = 0
    for lease in ConsoleLease.objects.filter(expires_at__lte=now).select_related("expert"):
        with transaction.atomic():
            deleted, _kinds = ConsoleLease.objects.filter(pk=lease.pk, expires_at__lte=now).delete()
            if deleted and not chat_selectors.expert_is_online(expert_id=lease.expert_id):
                chat_services.announce_expert_presence(expert_id=lease.expert_id, online=False)
            swept += deleted
    return swept


@transaction.atomic
def expert_suspend(*, expert: Expert, staff_member, reason: str) -> Expert:
    """Off shift at once, chats back to the front of the queue, no redemptions."""
    if not reason.strip():
        raise ServiceError("bad_field", _("Give a reason for the suspension."))
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.is_suspended:
        raise ServiceError("invalid_state", _("This expert is already suspended."))
    expert.suspended_at = timezone.now()
    expert.suspension_reason = reason.strip()[:300]
    expert.on_shift = False
    expert.state_version += 1
    expert.save(update_fields=["suspended_at", "suspension_reason", "on_shift", "state_version"])
    chat_services.announce_availability()
    # Their sockets close when they hear of it (community/signals.py).
    chat_services.expert_chats_requeue(expert=expert, event="expert_unavailable")
    audit_record(actor=staff_member, action="suspend", subject=expert, reason=reason)
    return expert


@transaction.atomic
def expert_reinstate(*, expert: Expert, staff_member, reason: str = "") -> Expert:
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if not expert.is_suspended:
        raise ServiceError("invalid_state", _("This expert is not suspended."))
    expert.suspended_at = None
    expert.suspension_reason = ""
    expert.state_version += 1
    expert.save(update_fields=["suspended_at", "suspension_reason", "state_version"])
    audit_record(actor=staff_member, action="reinstate", subject=expert, reason=reason)
    return expert


@transaction.atomic
def expert_set_chat_limit(*, expert: Expert, limit: int, staff_member) -> Expert:
    """Between 1 and the brand maximum; never below the chats they have open now."""
    if not 1 <= limit <= settings.CHAT_BRAND_MAX_CONCURRENT:
        raise ServiceError(
            "bad_field",
            _("The limit must be between 1 and %(max)d.")
            % {"max": settings.CHAT_BRAND_MAX_CONCURRENT},
        )
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if limit < expert.open_chat_count:
        raise ServiceError(
            "invalid_state",
            _("%(name)s has %(open)d chats open; lower the limit once they finish.")
            % {"name": expert.display_name, "open": expert.open_chat_count},
        )
    expert.max_concurrent_chats = limit
    expert.save(update_fields=["max_concurrent_chats"])
    audit_record(actor=staff_member, action="set_chat_limit", subject=expert, reason=str(limit))
    chat_services.queue_drain()
    return expert


# -- recruiting -------------------------------------------------------------------


def application_submit(
    *,
    name: str,
    email: str,
    motivation: str,
    product_areas: str,
    availability: str,
    visitor=None,
) -> ExpertApplication:
    """A customer applies to become an expert; one open application per address."""
    email = email.strip().lower()
    if ExpertApplication.objects.filter(
        email=email, status=ExpertApplication.Status.PENDING
    ).exists():
        raise ServiceError("duplicate", _("You already applied; we will get back to you soon."))
    application = ExpertApplication(
        name=name.strip(),
        email=email,
        motivation=motivation.strip(),
        product_areas=product_areas.strip(),
        availability=availability.strip(),
        visitor=visitor,
    )
    try:
        application.full_clean(exclude=["visitor", "decided_by", "expert"])
    except ValidationError as invalid:
        raise ServiceError("bad_field", " ".join(invalid.messages)) from None
    application.save()
    broadcast.send_after_commit(
        broadcast.STAFF, protocol.ApplicationNew(type="application.new", id=application.pk)
    )
    return application


def _locked_pending_application(application_id: int) -> ExpertApplication:
    application = (
        ExpertApplication.objects.select_for_update()
        .filter(pk=application_id, status=ExpertApplication.Status.PENDING)
        .first()
    )
    if application is None:
        raise ServiceError("invalid_state", _("This application was already decided."))
    return application


@transaction.atomic
def application_accept(*, application_id: int, staff_member, site_url: str) -> Expert:
    """Create the expert account and email an invitation to choose a password."""
    application = _locked_pending_application(application_id)
    users = get_user_model()
    if users.objects.filter(email__iexact=application.email).exists():
        raise ServiceError(
            "duplicate", _("Someone with this email address already has an account.")
        )
    first, _space, last = application.name.partition(" ")
    user = users.objects.create_user(
        username=application.email, email=application.email, first_name=first, last_name=last
    )
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=application.email, verified=True, primary=True)
    expert = Expert.objects.create(user=user, display_name=application.name)
    application.status = ExpertApplication.Status.ACCEPTED
    application.decided_by = staff_member
    application.decided_at = timezone.now()
    application.expert = expert
    application.save()
    audit_record(actor=staff_member, action="accept_application", subject=application)
    link = site_url.rstrip("/") + reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    jobs.mail_enqueue(
        subject=_("Welcome to the %(brand)s experts!") % {"brand": settings.BRAND_NAME},
        message=_(
            "Hi %(name)s,\n\nYou are now a %(brand)s brand expert. Choose your password "
            "here to log in to the expert console:\n\n%(link)s\n"
        )
        % {"name": first, "brand": settings.BRAND_NAME, "link": link},
        to=[application.email],
    )
    return expert


@transaction.atomic
def application_decline(*, application_id: int, staff_member, reason: str) -> ExpertApplication:
    application = _locked_pending_application(application_id)
    application.status = ExpertApplication.Status.DECLINED
    application.decided_by = staff_member
    application.decided_at = timezone.now()
    application.decision_reason = reason.strip()[:300]
    application.save()
    audit_record(
        actor=staff_member, action="decline_application", subject=application, reason=reason
    )
    return application


# -- shifts -----------------------------------------------------------------------


def shift_publish(*, starts_at, ends_at, capacity: int, staff_member) -> ShiftSlot:
    if ends_at <= starts_at:
        raise ServiceError("bad_field", _("A shift must end after it starts."))
    if capacity < 1:
        raise ServiceError("bad_field", _("A shift needs at least one expert."))
    with transaction.atomic():
        slot = ShiftSlot.objects.create(starts_at=starts_at, ends_at=ends_at, capacity=capacity)
        audit_record(actor=staff_member, action="publish_shift", subject=slot)
    return slot


@transaction.atomic
def shift_sign_up(*, slot_id: int, expert: Expert) -> ShiftSlot:
    slot = (
        ShiftSlot.objects.select_for_update().filter(pk=slot_id, ends_at__gt=timezone.now()).first()
    )
    if slot is None:
        raise ServiceError("not_found", _("This shift is over or does not exist."))
    if expert.is_suspended:
        raise ServiceError("suspended", _("Your account is suspended; you cannot take shifts."))
    if slot.experts.filter(pk=expert.pk).exists():
        return slot
    if slot.experts.count() >= slot.capacity:
        raise ServiceError("full", _("This shift is already fully staffed."))
    slot.experts.add(expert)
    return slot


@transaction.atomic
def shift_withdraw(*, slot_id: int, expert: Expert) -> None:
    slot = ShiftSlot.objects.select_for_update().filter(pk=slot_id).first()
    if slot is None:
        raise ServiceError("not_found", _("This shift is over or does not exist."))
    slot.experts.remove(expert)


# -- saved replies ----------------------------------------------------------------

MAX_SAVED_REPLIES = 100


def saved_reply_add(*, expert: Expert, shortcut: str, body: str) -> SavedReply:
    """One of the expert's own replies; a shortcut they already use is refused."""
    if SavedReply.objects.filter(expert=expert).count() >= MAX_SAVED_REPLIES:
        raise ServiceError(
            "too_many",
            _("You have %(n)d saved replies, the most there can be. Delete one first.")
            % {"n": MAX_SAVED_REPLIES},
        )
    try:
        with transaction.atomic():
            return SavedReply.objects.create(expert=expert, shortcut=shortcut, body=body)
    except IntegrityError:
        raise ServiceError(
            "duplicate",
            _("You already have a reply called /%(shortcut)s.") % {"shortcut": shortcut},
        ) from None


def saved_reply_delete(*, expert: Expert, reply_id: int) -> None:
    """Only the expert's own: shared replies are kept by staff."""
    deleted, _rows = SavedReply.objects.filter(pk=reply_id, expert=expert).delete()
    if not deleted:
        raise ServiceError("not_found", _("This reply does not exist or is not yours."))


# -- "shoppers are waiting" mails -------------------------------------------------


def expert_alerts_set(*, expert: Expert, waiting_alerts: bool, language: str) -> Expert:
    """The expert's own choice: mails when shoppers wait, and their language."""
    if language not in dict(settings.LANGUAGES):
        raise ServiceError("bad_field", _("Choose one of the languages offered."))
    Expert.objects.filter(pk=expert.pk).update(waiting_alerts=waiting_alerts, language=language)
    expert.refresh_from_db(fields=["waiting_alerts", "language"])
    return expert


def waiting_alerts_send() -> int:
    """When shoppers have waited too long and fewer experts are on shift than the
    running shifts need, mail every expert who asked for it and could come online.
    Each expert at most once per CHAT_WAITING_ALERT_EVERY_SECONDS, however many
    jobs run at once: the mail is enqueued in the transaction of a conditional
    UPDATE of their last-mailed time, which only one transaction can win."""
    staffing = selectors.staffing_now()
    if not staffing.short_handed:
        return 0
    if not settings.SITE_URL:
        logger.warning("waiting alerts need SITE_URL for the console link; none sent")
        return 0
    now = timezone.now()
    not_since = now - timedelta(seconds=settings.CHAT_WAITING_ALERT_EVERY_SECONDS)
    sent = 0
    for expert in selectors.waiting_alert_recipients(last_mailed_before=not_since):
        with transaction.atomic():
            claimed = (
                Expert.objects.filter(pk=expert.pk)
                .filter(
                    Q(waiting_alert_sent_at__isnull=True) | Q(waiting_alert_sent_at__lt=not_since)
                )
                .update(waiting_alert_sent_at=now)
            )
            if claimed:
                _waiting_alert_mail(expert=expert, staffing=staffing)
                sent += 1
    return sent


def _waiting_alert_mail(*, expert: Expert, staffing: selectors.Staffing) -> None:
    site = settings.SITE_URL.rstrip("/")
    with translation.override(expert.language):
        subject = ngettext(
            "%(count)d shopper is waiting", "%(count)d shoppers are waiting", staffing.waiting
        ) % {"count": staffing.waiting}
        message = _(
            "Hi %(name)s,\n\n"
            "%(waiting)s: the first since %(since)s, and %(serving)d of the %(wanted)d "
            "experts the shifts need now are online.\n\n"
            "If you can help, open the console and go on shift:\n%(console)s\n\n"
            "You get this email because you asked for it, at most once an hour. "
            "To stop it, untick “Email me when shoppers are waiting” here:\n%(settings)s\n"
        ) % {
            "name": expert.user.first_name or expert.display_name,
            "waiting": subject,
            "since": date_format(timezone.localtime(staffing.oldest_queued_at), "TIME_FORMAT"),
            "serving": staffing.serving,
            "wanted": staffing.wanted,
            "console": site + reverse("console"),
            "settings": site + reverse("notification_settings"),
        }
    jobs.mail_enqueue(subject=subject, message=message, to=[expert.user.email])
