"""Transcripts by email (with confirmation of the address) and erasure of a customer."""

from functools import reduce
from operator import or_

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import events, protocol, selectors
from chat.models import (
    ERASED_EMAIL,
    Conversation,
    FollowUp,
    Message,
    MessageReport,
    OfflineMessage,
    Photo,
    TranscriptDelivery,
    Visitor,
)
from chat.services.photos import photo_files_delete
from community.audit import audit_record
from community.models import AuditEntry, ExpertApplication
from config import jobs
from config.errors import ServiceError
from config.limits import enforce_limit
from realtime import broadcast

# What erasure leaves in place of text a customer typed.
ERASED = "[erased]"


@transaction.atomic
def transcript_email(
    *, conversation_id: int, visitor: Visitor, network: str, site_url: str
) -> TranscriptDelivery:
    """Mail the transcript to the visitor's address, once per chat and address.

    An address the visitor has not confirmed first gets a short mail with a link
    (and no text the customer typed); the transcript follows when it is opened.
    """
    conversation = Conversation.objects.filter(pk=conversation_id, visitor=visitor).first()
    if conversation is None:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    visitor.refresh_from_db(fields=["email", "confirmed_email"])  # confirmed in a browser
    if not visitor.email:
        raise ServiceError("no_email", _("Leave your email address first."))
    delivery, created = TranscriptDelivery.objects.get_or_create(
        conversation=conversation, email=visitor.email
    )
    if not created:
        if delivery.sent_at:
            raise ServiceError(
                "already_sent",
                _("The transcript of this chat was already sent to %(email)s.")
                % {"email": delivery.email},
            )
        raise ServiceError(
            "confirmation_pending",
            _("We already sent a link to %(email)s. Open it to receive the transcript.")
            % {"email": delivery.email},
        )
    if network:
        enforce_limit("widget.transcript", network)
    if visitor.confirmed_email == visitor.email:
        _transcript_send(delivery)
    else:
        link = site_url.rstrip("/") + reverse(
            "transcript_confirm",
            kwargs={"token": signing.dumps(delivery.pk, salt=selectors.TRANSCRIPT_CONFIRM_SALT)},
        )
        jobs.mail_enqueue(
            subject=_("Confirm your email address for %(brand)s") % {"brand": settings.BRAND_NAME},
            message=_(
                "Someone asked for a chat transcript from %(brand)s to be sent to this "
                "address. If that was you, open this link within two days:\n\n%(link)s\n\n"
                "If it was not you, ignore this mail: nothing more will be sent."
            )
            % {"brand": settings.BRAND_NAME, "link": link},
            to=[delivery.email],
        )
    return delivery


def _transcript_send(delivery: TranscriptDelivery) -> None:
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["sent_at"])
    transcript = selectors.transcript_text(conversation=delivery.conversation)
    jobs.mail_enqueue(
        # Never the topic: a subject line must carry nothing a stranger typed.
        subject=_("Your chat transcript from %(brand)s") % {"brand": settings.BRAND_NAME},
        message=transcript,
        to=[delivery.email],
    )


@transaction.atomic
def transcript_confirm(*, token: str) -> TranscriptDelivery:
    """The link in the confirmation mail was opened: the address is the visitor's,
    and the transcript goes out (once)."""
    delivery = selectors.transcript_delivery_from_token(token=token)
    if delivery is None:
        raise ServiceError("bad_link", _("This link is invalid or has expired."))
    delivery = TranscriptDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.sent_at is None:
        Visitor.objects.filter(pk=delivery.conversation.visitor_id).update(
            confirmed_email=delivery.email
        )
        _transcript_send(delivery)
    return delivery


@transaction.atomic
def visitor_erase(*, email: str, staff_member) -> dict[str, int]:
    """Right to erasure: everything a customer wrote or left, under every address they
    used (chat/selectors.customer_records), and their visitor tokens.

    Conversations, ratings and ledger entries stay, so metrics and balances do not
    change; audit entries keep who did what and when, without the customer's words.
    Returns how many visitors, offline messages and applications were erased.
    """
    visitor_ids, addresses = selectors.customer_records(email=email)
    visitors = list(Visitor.objects.select_for_update().filter(pk__in=visitor_ids))
    conversations = Conversation.objects.filter(visitor__in=visitor_ids)
    messages = Message.objects.filter(conversation__in=conversations)
    reports = MessageReport.objects.filter(visitor__in=visitor_ids)
    offline = OfflineMessage.objects.filter(
        Q(visitor__in=visitor_ids) | selectors.matching_address("email", addresses)
    )
    applications = ExpertApplication.objects.filter(
        Q(visitor__in=visitor_ids) | selectors.matching_address("email", addresses)
    )
    about_customer = [
        ("visitor", [str(pk) for pk in visitor_ids]),
        ("conversation", conversations.values_list("pk", flat=True)),
        ("message", messages.values_list("pk", flat=True)),
        ("messagereport", reports.values_list("pk", flat=True)),
        ("offlinemessage", offline.values_list("pk", flat=True)),
        ("expertapplication", applications.values_list("pk", flat=True)),
    ]
    AuditEntry.objects.filter(
        reduce(
            or_,
            [
                Q(subject_type=kind, subject_id__in=[str(pk) for pk in ids])
                for kind, ids in about_customer
            ]
            + [Q(subject__icontains=a) | Q(reason__icontains=a) for a in addresses],
        )
    ).update(subject=ERASED, reason="")

    # Photos the customer sent go, files and all (once the erasure has committed).
    customer = Message.Sender.CUSTOMER
    photos = list(Photo.objects.filter(conversation__in=conversations, message__sender=customer))
    for photo in photos:
        transaction.on_commit(lambda photo=photo: photo_files_delete(photo), robust=True)
    Photo.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
    messages.exclude(sender=Message.Sender.SYSTEM).update(body=ERASED, client_id="")
    messages.update(hidden_reason="")  # staff may have quoted the customer
    reports.update(reason="")
    FollowUp.objects.filter(conversation__in=conversations).update(body=ERASED)
    conversations.update(
        topic=ERASED, rating_comment="", resolution_summary="", customer_network="", pages=[]
    )
    TranscriptDelivery.objects.filter(conversation__in=conversations).delete()
    events.customer_erased.send(
        sender=Conversation, conversation_ids=list(conversations.values_list("pk", flat=True))
    )
    erased = {
        "offline_messages": offline.update(name="", email=ERASED_EMAIL, body=ERASED),
        "applications": applications.update(
            name=ERASED,
            email=ERASED_EMAIL,
            motivation=ERASED,
            product_areas="",
            availability="",
            decision_reason="",
        ),
        "visitors": len(visitors),
    }
    for visitor in visitors:
        visitor.name, visitor.email, visitor.confirmed_email = "", "", ""
        # Old tokens stop working, and an open widget is closed (it starts afresh).
        visitor.token_generation += 1
        visitor.save(update_fields=["name", "email", "confirmed_email", "token_generation"])
        broadcast.send_after_commit(
            broadcast.visitor_group(visitor.pk), protocol.VisitorRevoked(type="visitor.revoked")
        )
        audit_record(actor=staff_member, action="erase_customer", subject=visitor)
    return erased
