"""Follow-ups after a resolved chat and messages left while nobody was on shift."""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import events, protocol, selectors, text
from chat.models import (
    Conversation,
    FollowUp,
    OfflineMessage,
    Visitor,
)
from chat.services._shared import _message_text
from community.models import Expert
from config import jobs
from config.errors import ServiceError
from config.limits import enforce_limit
from realtime import broadcast

# A follow-up carries real content: this many visible characters, spaces not counted.
FOLLOW_UP_MIN_CHARACTERS = 20


@transaction.atomic
def followup_send(
    *, conversation_id: int, expert: Expert, body: str, request_key: uuid.UUID | None = None
) -> FollowUp:
    """A follow-up after a resolved chat; the customer sees it on the next visit.
    The same request_key again returns the follow-up it already sent."""
    if request_key is not None:
        already = FollowUp.objects.filter(expert=expert, request_key=request_key).first()
        if already is not None:
            return already
    conversation = (
        Conversation.objects.select_related("visitor")
        .filter(pk=conversation_id, expert=expert)
        .first()
    )
    if conversation is None:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    if conversation.status != Conversation.Status.RESOLVED:
        raise ServiceError("invalid_state", _("Follow-ups are for resolved chats."))
    body = _message_text(body, empty=_("A follow-up cannot be empty."))
    minimum = FOLLOW_UP_MIN_CHARACTERS
    if text.visible_length(body) < minimum:
        raise ServiceError(
            "too_short",
            _("A follow-up needs real content: at least %(min)d characters, not counting spaces.")
            % {"min": minimum},
        )
    try:
        with transaction.atomic():
            follow_up = FollowUp.objects.create(
                conversation=conversation, expert=expert, body=body, request_key=request_key
            )
    except IntegrityError:  # the same form, posted twice at once
        return FollowUp.objects.get(expert=expert, request_key=request_key)
    events.follow_up_sent.send(sender=FollowUp, follow_up=follow_up)
    broadcast.send_after_commit(
        broadcast.visitor_group(conversation.visitor_id),
        protocol.FollowUpFrame(type="followup", follow_up=selectors.follow_up_data(follow_up)),
    )
    visitor = conversation.visitor
    if visitor.email:
        # What the customer typed goes only to an address they proved is theirs.
        about = f"{conversation.topic}\n\n" if visitor.confirmed_email == visitor.email else ""
        jobs.mail_enqueue(
            subject=_("%(name)s followed up on your question") % {"name": expert.display_name},
            message=f"{about}{body}",
            to=[visitor.email],
        )
    return follow_up


def followup_mark_seen(*, follow_up_id: int, visitor: Visitor) -> None:
    FollowUp.objects.filter(
        pk=follow_up_id, conversation__visitor=visitor, seen_at__isnull=True
    ).update(seen_at=timezone.now())


def followup_dismiss(*, follow_up_id: int, visitor: Visitor) -> None:
    """The customer closes a follow-up: it leaves the widget, in every open tab."""
    dismissed = FollowUp.objects.filter(
        pk=follow_up_id, conversation__visitor=visitor, dismissed_at__isnull=True
    ).update(dismissed_at=timezone.now())
    if dismissed:
        broadcast.send_after_commit(
            broadcast.visitor_group(visitor.pk),
            protocol.FollowUpDismissed(type="followup.dismissed", follow_up=follow_up_id),
        )


@transaction.atomic
def followup_mark_helpful(*, follow_up_id: int, visitor: Visitor) -> FollowUp:
    """The customer found a follow-up helpful: once per follow-up."""
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("conversation", "expert")
        .filter(pk=follow_up_id, conversation__visitor=visitor)
        .first()
    )
    if follow_up is None:
        raise ServiceError("not_found", _("This follow-up does not exist or is not yours."))
    if follow_up.marked_helpful_at is None:
        follow_up.marked_helpful_at = timezone.now()
        follow_up.seen_at = follow_up.seen_at or follow_up.marked_helpful_at
        follow_up.save(update_fields=["marked_helpful_at", "seen_at"])
        events.follow_up_found_helpful.send(sender=FollowUp, follow_up=follow_up)
    return follow_up


def offline_message_leave(
    *, visitor: Visitor, name: str, email: str, body: str, network: str = ""
) -> OfflineMessage:
    try:
        validate_email(email)
    except ValidationError:
        raise ServiceError("bad_field", _("Enter a valid email address.")) from None
    body = _message_text(body, empty=_("A message cannot be empty."))
    if network:
        enforce_limit("widget.offline", network)
    message = OfflineMessage.objects.create(visitor=visitor, name=name, email=email, body=body)
    broadcast.send_after_commit(
        broadcast.STAFF, protocol.OfflineNew(type="offline.new", id=message.pk, email=email)
    )
    return message


def offline_message_claim(*, message_id: int, expert: Expert) -> None:
    """The expert takes an offline message to answer; from now on only they (and
    staff) see the customer's address. One expert per message."""
    claimed = OfflineMessage.objects.filter(
        pk=message_id, handled_at__isnull=True, claimed_by__isnull=True
    ).update(claimed_by=expert, claimed_at=timezone.now())
    if not claimed and not OfflineMessage.objects.filter(pk=message_id, claimed_by=expert).exists():
        raise ServiceError("not_found", _("Another expert already answers this message."))


def offline_message_mark_answered(*, message_id: int, expert: Expert) -> None:
    answered = OfflineMessage.objects.filter(
        pk=message_id, claimed_by=expert, handled_at__isnull=True
    ).update(handled_at=timezone.now())
    if not answered:
        raise ServiceError("not_found", _("This message is not yours to answer."))
