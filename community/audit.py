"""The staff audit log: writing a line, and reading lines back in plain words."""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from community.models import AuditEntry

# Every action code written to the log, as staff read it, and how loud it looks.
ACTIONS: dict[str, tuple[Any, str]] = {
    "suspend": (gettext_lazy("Suspended an expert"), "danger"),
    "reinstate": (gettext_lazy("Reinstated an expert"), "accent"),
    "set_chat_limit": (gettext_lazy("Changed a chat limit"), "accent"),
    "adjust_points": (gettext_lazy("Adjusted points"), "accent"),
    "reverse_points": (gettext_lazy("Reversed points"), "accent"),
    "approve_award": (gettext_lazy("Approved held points"), "accent"),
    "reject_award": (gettext_lazy("Rejected held points"), "danger"),
    "whisper": (gettext_lazy("Whispered to an expert"), "warn"),
    "take_over": (gettext_lazy("Took over a chat"), "warn"),
    "close_chat": (gettext_lazy("Closed a chat"), "warn"),
    "hide_message": (gettext_lazy("Hid a message"), "danger"),
    "dismiss_report": (gettext_lazy("Dismissed a report"), ""),
    "accept_application": (gettext_lazy("Accepted an application"), "accent"),
    "decline_application": (gettext_lazy("Declined an application"), ""),
    "publish_shift": (gettext_lazy("Published a shift"), ""),
    "erase_customer": (gettext_lazy("Erased a customer's data"), "danger"),
    "redemption_approved": (gettext_lazy("Approved a redemption"), "accent"),
    "redemption_rejected": (gettext_lazy("Rejected a redemption"), "danger"),
    "redemption_shipped": (gettext_lazy("Shipped a redemption"), ""),
    "redemption_delivered": (gettext_lazy("Marked a redemption delivered"), ""),
}


def audit_record(*, actor, action: str, subject: models.Model, reason: str = "") -> AuditEntry:
    """Write one line of the staff audit log, in the caller's transaction."""
    if action not in ACTIONS:  # every line must read as words on the audit page
        raise ValueError(f"unknown audit action {action!r}: add it to community.audit.ACTIONS")
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        subject_type=subject._meta.model_name,
        subject_id=str(subject.pk),
        subject=str(subject)[:200],
        reason=reason[:300],
    )


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label[0]) if label else action.replace("_", " ").capitalize()


def action_choices(actions) -> list[tuple[str, str]]:
    """(code, words) for the filter, in the order staff read them."""
    return sorted(((code, action_label(code)) for code in actions), key=lambda pair: pair[1])


@dataclass
class AuditLine:
    entry: AuditEntry
    action: str  # the action in words
    tone: str
    subject: str  # what it was done to, in words
    kind: str  # what sort of thing that is
    url: str | None  # where staff see it now


def audit_lines(entries) -> list[AuditLine]:
    """The entries with their action and subject in words, and a link to each subject;
    one query per kind of subject, however many lines."""
    entries = list(entries)
    ids: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        ids[entry.subject_type].add(entry.subject_id)
    found = {kind: _load(kind, pks) for kind, pks in ids.items()}
    lines = []
    for entry in entries:
        subject = found.get(entry.subject_type, {}).get(entry.subject_id)
        words, kind, url = _describe(entry, subject)
        lines.append(
            AuditLine(
                entry=entry,
                action=action_label(entry.action),
                tone=ACTIONS.get(entry.action, (None, ""))[1],
                subject=words,
                kind=kind,
                url=url,
            )
        )
    return lines


def _load(kind: str, pks: set[str]) -> dict[str, models.Model]:
    from chat.models import Conversation, Message, MessageReport
    from community.models import Expert, ExpertApplication, ShiftSlot
    from points.models import FlaggedAward, LedgerEntry
    from rewards.models import Redemption

    queries = {
        "expert": Expert.objects.all(),
        "conversation": Conversation.objects.all(),
        "message": Message.objects.all(),
        "messagereport": MessageReport.objects.select_related("message"),
        "ledgerentry": LedgerEntry.objects.select_related("expert"),
        "flaggedaward": FlaggedAward.objects.select_related("expert"),
        "redemption": Redemption.objects.select_related("product", "expert"),
        "expertapplication": ExpertApplication.objects.all(),
        "shiftslot": ShiftSlot.objects.all(),
    }
    if kind not in queries:
        return {}
    numbers = [int(pk) for pk in pks if pk.isdigit()]
    return {str(obj.pk): obj for obj in queries[kind].filter(pk__in=numbers)}


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "l j F, H:i")


def _chat_url(conversation_id: int) -> str:
    return f"{reverse('staff_monitor')}#chat-{conversation_id}"


def _expert_url(expert_id: int) -> str:
    return f"{reverse('staff_experts')}#expert-{expert_id}-name"


def _describe(entry: AuditEntry, subject) -> tuple[str, str, str | None]:
    """(what, which kind of thing, link) for one audit line."""
    kind = entry.subject_type
    if kind == "visitor":
        return _("A customer"), _("Customer"), None
    if subject is None:  # gone since, or erased: what was written at the time
        return entry.subject, _("Removed"), None
    if kind == "expert":
        return subject.display_name, _("Expert"), _expert_url(subject.pk)
    if kind == "conversation":
        return (
            _("Chat #%(id)s: %(topic)s") % {"id": subject.pk, "topic": subject.topic},
            _("Chat"),
            _chat_url(subject.pk),
        )
    if kind == "message":
        return (
            _("Message %(seq)s in chat #%(chat)s")
            % {"seq": subject.seq, "chat": subject.conversation_id},
            _("Message"),
            _chat_url(subject.conversation_id),
        )
    if kind == "messagereport":
        message = subject.message
        return (
            _("Report on message %(seq)s in chat #%(chat)s")
            % {"seq": message.seq, "chat": message.conversation_id},
            _("Report"),
            _chat_url(message.conversation_id),
        )
    if kind in ("ledgerentry", "flaggedaward"):
        amount = subject.amount if kind == "ledgerentry" else subject.points
        return (
            _("%(amount)+d points for %(name)s (%(what)s)")
            % {
                "amount": amount,
                "name": subject.expert.display_name,
                "what": subject.get_kind_display(),
            },
            _("Points entry") if kind == "ledgerentry" else _("Held points"),
            _expert_url(subject.expert_id),
        )
    if kind == "redemption":
        return (
            _("%(product)s for %(name)s")
            % {"product": subject.product.name, "name": subject.expert.display_name},
            _("Redemption"),
            f"{reverse('staff_redemptions')}?status={subject.status}",
        )
    if kind == "expertapplication":
        return (
            _("Application from %(name)s") % {"name": subject.name},
            _("Application"),
            reverse("staff_applications"),
        )
    if kind == "shiftslot":
        return (
            _("Shift on %(start)s–%(end)s")
            % {
                "start": _when(subject.starts_at),
                "end": formats.time_format(timezone.localtime(subject.ends_at), "H:i"),
            },
            _("Shift"),
            reverse("shifts"),
        )
    return entry.subject, kind, None
