"""Staff in a chat: whispers, take-over, hiding and reporting messages, closing chats."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import protocol
from chat.models import (
    Conversation,
    Message,
    MessageReport,
    Visitor,
)
from chat.services._shared import (
    _announce_conversation,
    _append_message,
    _lock_routing,
    _message_text,
    _post_system_message,
    _release_slot,
    queue_drain,
)
from community.audit import audit_record
from config.errors import ServiceError
from realtime import broadcast


@transaction.atomic
def staff_whisper(*, conversation_id: int, staff_member, body: str) -> Message:
    """A note to the expert inside the chat; the customer never receives it."""
    body = _message_text(body, empty=_("A message cannot be empty."))
    conversation = (
        Conversation.objects.select_for_update(of=("self",)).filter(pk=conversation_id).first()
    )
    if conversation is None or conversation.status != Conversation.Status.ACTIVE:
        raise ServiceError("chat_closed", _("You can only whisper into a live chat."))
    message = _append_message(
        conversation_id=conversation.pk,
        sender=Message.Sender.STAFF,
        author=staff_member,
        body=body[: settings.CHAT_MAX_MESSAGE_LENGTH],
        whisper=True,
    )
    audit_record(actor=staff_member, action="whisper", subject=conversation)
    return message


@transaction.atomic
def conversation_take_over(*, conversation_id: int, staff_member) -> Conversation:
    """Staff take the chat from the expert, whose slot is freed for the queue."""
    _lock_routing()
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor", "expert", "staff_member")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None or conversation.status != Conversation.Status.ACTIVE:
        raise ServiceError("chat_closed", _("This chat is not live."))
    if conversation.staff_member_id:
        raise ServiceError("invalid_state", _("Staff already took this chat over."))
    expert = conversation.expert
    _release_slot(expert)
    conversation.expert = None
    conversation.staff_member = staff_member
    conversation.save(update_fields=["expert", "staff_member"])
    name = staff_member.get_full_name() or staff_member.get_username()
    _post_system_message(conversation=conversation, event="taken_over", name=name)
    conversation.refresh_from_db()
    broadcast.send_after_commit(
        broadcast.expert_group(expert.pk),
        protocol.ChatRemoved(
            type="chat.removed", conversation=conversation.pk, reason="taken_over"
        ),
    )
    _announce_conversation(conversation)
    audit_record(actor=staff_member, action="take_over", subject=conversation)
    queue_drain()
    return conversation


@transaction.atomic
def message_hide(*, conversation_id: int, seq: int, staff_member, reason: str) -> Message:
    """Hide a message from the customer and the transcript; it is kept for audit."""
    if not reason.strip():
        raise ServiceError("bad_field", _("Say why the message is hidden."))
    message = (
        Message.objects.select_for_update()
        .filter(conversation_id=conversation_id, seq=seq, hidden_at__isnull=True)
        .first()
    )
    if message is None:
        raise ServiceError("not_found", _("No such message, or it is already hidden."))
    message.hidden_at = timezone.now()
    message.hidden_by = staff_member
    message.hidden_reason = reason.strip()[:300]
    message.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    MessageReport.objects.filter(message=message, handled_at__isnull=True).update(
        handled_at=message.hidden_at, handled_by=staff_member
    )
    frame = protocol.MessageHidden(type="message.hidden", conversation=conversation_id, seq=seq)
    broadcast.send_after_commit(broadcast.conversation_group(conversation_id), frame)
    broadcast.send_after_commit(broadcast.STAFF, frame)
    audit_record(actor=staff_member, action="hide_message", subject=message, reason=reason)
    return message


def message_report(
    *, conversation_id: int, seq: int, visitor: Visitor, reason: str
) -> MessageReport:
    """A customer reports a message they were shown; once per message and customer."""
    message = (
        Message.objects.filter(
            conversation_id=conversation_id,
            conversation__visitor=visitor,
            seq=seq,
            whisper=False,
        )
        .exclude(sender=Message.Sender.CUSTOMER)
        .first()
    )
    if message is None:
        raise ServiceError("not_found", _("This message does not exist or is not yours."))
    report, created = MessageReport.objects.get_or_create(
        message=message, visitor=visitor, defaults={"reason": reason.strip()[:300]}
    )
    if created:
        broadcast.send_after_commit(
            broadcast.STAFF,
            protocol.ReportNew(
                type="report.new", conversation=conversation_id, seq=seq, id=report.pk
            ),
        )
    return report


@transaction.atomic
def conversation_close_by_staff(
    *, conversation_id: int, staff_member, summary: str
) -> Conversation:
    """Staff end a chat they took over (no points: no expert resolved it)."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor")
        .filter(pk=conversation_id, staff_member=staff_member, status=Conversation.Status.ACTIVE)
        .first()
    )
    if conversation is None:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    conversation.status = Conversation.Status.RESOLVED
    conversation.resolved_at = timezone.now()
    conversation.resolution_summary = summary
    conversation.save(update_fields=["status", "resolved_at", "resolution_summary"])
    _post_system_message(conversation=conversation, event="closed_by_staff")
    conversation.refresh_from_db()
    _announce_conversation(conversation)
    audit_record(actor=staff_member, action="close_chat", subject=conversation, reason=summary)
    return conversation


def message_report_dismiss(*, report_id: int, staff_member) -> None:
    """The reported message stays visible; the report is closed and audited."""
    with transaction.atomic():
        report = (
            MessageReport.objects.select_for_update()
            .filter(pk=report_id, handled_at__isnull=True)
            .first()
        )
        if report is None:
            raise ServiceError("not_found", _("This report was already handled."))
        report.handled_at = timezone.now()
        report.handled_by = staff_member
        report.save(update_fields=["handled_at", "handled_by"])
        audit_record(actor=staff_member, action="dismiss_report", subject=report)
