"""Writes to the points ledger. Every entry is appended with an idempotency key
tied to its source, the expert's account row locked, and the cached balance
moved in the same transaction."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.models import Conversation, FollowUp, Message
from chat.services.followups import FOLLOW_UP_MIN_CHARACTERS
from chat.text import visible_length
from community.audit import audit_record
from community.models import Expert
from config.errors import ServiceError
from points import selectors
from points.models import AWARD_KINDS, Account, EntryKind, FlaggedAward, LedgerEntry
from points.protocol import LeaderboardChanged, Points
from realtime import broadcast
from sales.models import Order

# Anti-gaming thresholds: an award needs a real exchange, not a click.
MIN_EXPERT_ANSWER_CHARACTERS = 20
GOOD_RATING = 4


def _locked_account(expert_id: int) -> Account:
    Account.objects.bulk_create([Account(expert_id=expert_id)], ignore_conflicts=True)
    return Account.objects.select_for_update().get(expert_id=expert_id)


def _post_entry(
    *, expert_id: int, amount: int, kind: str, idempotency_key: str, **source
) -> LedgerEntry | None:
    """Append one entry; returns None if its key was already used (a retry)."""
    with transaction.atomic():
        account = _locked_account(expert_id)
        # Under the account lock a concurrent twin has either committed or not started.
        if LedgerEntry.objects.filter(idempotency_key=idempotency_key).exists():
            return None
        if account.balance + amount < 0:
            raise ServiceError(
                "insufficient_points", _("Not enough points: this would make the balance negative.")
            )
        try:
            with transaction.atomic():
                entry = LedgerEntry.objects.create(
                    expert_id=expert_id,
                    amount=amount,
                    kind=kind,
                    idempotency_key=idempotency_key,
                    **source,
                )
        except IntegrityError:
            # The same key under another expert's lock, or a reversal reversed twice.
            return None
        Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
        broadcast.send_after_commit(
            broadcast.LEADERBOARD, LeaderboardChanged(type="leaderboard.changed", entry=entry.pk)
        )
        broadcast.send_after_commit(
            broadcast.expert_group(expert_id),
            Points(
                type="points", balance=account.balance + amount, entry=selectors.entry_data(entry)
            ),
        )
        return entry


def _award(
    *, expert_id: int, kind: str, idempotency_key: str, memo: str, occurred_at: datetime, **source
):
    """`occurred_at` is when the rewarded event happened; the entry keeps it."""
    points = selectors.rule_points(kind)
    if points <= 0:
        return None
    reasons = selectors.award_suspicions(expert_id=expert_id, kind=kind, **source)
    if reasons:
        # Held for staff instead of awarded silently; a retry finds the same flag.
        FlaggedAward.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "expert_id": expert_id,
                "kind": kind,
                "points": points,
                "memo": memo,
                "reasons": reasons,
                "occurred_at": occurred_at,
                "conversation_id": _conversation_id(source),
                "follow_up": source.get("follow_up"),
            },
        )
        return None
    return _post_entry(
        expert_id=expert_id,
        amount=points,
        kind=kind,
        idempotency_key=idempotency_key,
        rule_points=points,
        memo=memo,
        occurred_at=occurred_at,
        **source,
    )


def _conversation_id(source: dict) -> int | None:
    conversation = source.get("conversation")
    return conversation.pk if conversation else source.get("conversation_id")


@transaction.atomic
def flagged_award_decide(
    *, flagged_award_id: int, staff_member, approve: bool, reason: str = ""
) -> LedgerEntry | None:
    """Staff approve a held award (it becomes the ledger entry it would have been)
    or reject it (nothing is written). Nobody decides on their own award."""
    flag = FlaggedAward.objects.select_for_update().filter(pk=flagged_award_id).first()
    if flag is None or flag.approved is not None:
        raise ServiceError("invalid_state", _("This award was already decided."))
    _refuse_own_balance(expert_id=flag.expert_id, staff_member=staff_member)
    if not approve and not reason.strip():
        raise ServiceError("bad_field", _("Give a reason for rejecting the award."))
    flag.approved = approve
    flag.decided_by = staff_member
    flag.decided_at = timezone.now()
    flag.save(update_fields=["approved", "decided_by", "decided_at"])
    audit_record(
        actor=staff_member,
        action="approve_award" if approve else "reject_award",
        subject=flag,
        reason=reason,
    )
    if not approve:
        return None
    return _post_entry(
        expert_id=flag.expert_id,
        amount=flag.points,
        kind=flag.kind,
        idempotency_key=flag.idempotency_key,
        rule_points=flag.points,
        memo=flag.memo,
        occurred_at=flag.occurred_at,  # the chat's time, not the approval's
        conversation_id=flag.conversation_id,
        follow_up=flag.follow_up,
    )


def chat_is_a_real_exchange(*, conversation: Conversation) -> bool:
    """A customer asked and the expert really answered: at least
    MIN_EXPERT_ANSWER_CHARACTERS visible characters (zero-width and control
    characters do not count; length is never punished)."""
    messages = Message.objects.filter(conversation=conversation)
    asked = messages.filter(sender=Message.Sender.CUSTOMER).exists()
    answered = sum(
        visible_length(body)
        for body in messages.filter(sender=Message.Sender.EXPERT).values_list("body", flat=True)
    )
    return asked and answered >= MIN_EXPERT_ANSWER_CHARACTERS


def points_award_for_resolved_chat(*, conversation: Conversation) -> LedgerEntry | None:
    if conversation.status != Conversation.Status.RESOLVED or conversation.expert_id is None:
        return None
    if not chat_is_a_real_exchange(conversation=conversation):
        return None
    return _award(
        expert_id=conversation.expert_id,
        kind=EntryKind.CHAT_RESOLVED,
        idempotency_key=f"chat-resolved:{conversation.pk}",
        # Ledger memos never copy what customers wrote: entries outlive erasure requests.
        memo=_("Chat #%(id)d") % {"id": conversation.pk},
        occurred_at=conversation.resolved_at,
        conversation=conversation,
    )


def points_award_for_rating(*, conversation: Conversation) -> LedgerEntry | None:
    if (conversation.rating or 0) < GOOD_RATING or conversation.expert_id is None:
        return None
    if not chat_is_a_real_exchange(conversation=conversation):
        return None
    return _award(
        expert_id=conversation.expert_id,
        kind=EntryKind.RATING_BONUS,
        idempotency_key=f"rating-bonus:{conversation.pk}",
        memo=_("Rated %(stars)d/5") % {"stars": conversation.rating},
        occurred_at=conversation.rated_at or timezone.now(),
        conversation=conversation,
    )


def points_award_for_follow_up(*, follow_up: FollowUp) -> LedgerEntry | None:
    """One award per chat, however many follow-ups: more messages are not more help."""
    if visible_length(follow_up.body) < FOLLOW_UP_MIN_CHARACTERS:
        return None
    return _award(
        expert_id=follow_up.expert_id,
        kind=EntryKind.FOLLOW_UP,
        idempotency_key=f"follow-up:{follow_up.conversation_id}",
        memo=_("Follow-up on chat #%(id)d") % {"id": follow_up.conversation_id},
        occurred_at=follow_up.created_at,
        conversation_id=follow_up.conversation_id,
        follow_up=follow_up,
    )


def points_award_for_helpful_follow_up(*, follow_up: FollowUp) -> LedgerEntry | None:
    return _award(
        expert_id=follow_up.expert_id,
        kind=EntryKind.FOLLOW_UP_HELPFUL,
        idempotency_key=f"follow-up-helpful:{follow_up.pk}",
        memo=_("Follow-up on chat #%(id)d") % {"id": follow_up.conversation_id},
        occurred_at=follow_up.marked_helpful_at or timezone.now(),
        conversation_id=follow_up.conversation_id,
        follow_up=follow_up,
    )


def points_award_for_assisted_sales(*, now: datetime | None = None) -> int:
    """The scheduled award for chat-assisted sales: each order whose return window
    has passed earns its chat's expert POINTS_ASSISTED_SALE points, once. Nothing at
    all while that is 0 (the default). Returns how many orders were awarded."""
    if settings.POINTS_ASSISTED_SALE <= 0:
        return 0
    now = now or timezone.now()
    awarded = [
        points_award_for_assisted_sale(order_id=order_id, now=now)
        for order_id in selectors.assisted_sales_due(now=now)
    ]
    return sum(entry is not None for entry in awarded)


@transaction.atomic
def points_award_for_assisted_sale(*, order_id: int, now: datetime) -> LedgerEntry | None:
    """One order's award, decided under a lock on its chat: two workers running the
    job at once, or two orders of one chat, cannot both pass the per-chat cap.

    No award while the feature is off, before the return window ends, for an order no
    chat or expert is credited with, to a suspended expert, or past the cap. Orders
    cannot be reported as refunded yet: staff reverse the entry instead."""
    points = settings.POINTS_ASSISTED_SALE
    if points <= 0:
        return None
    order = Order.objects.filter(pk=order_id, conversation__isnull=False).first()
    if order is None or order.expert_id is None:
        return None
    final_at = order.ordered_at + timedelta(days=settings.ORDER_RETURN_WINDOW_DAYS)
    # Locked first, as resolving a chat does, then the account (in _post_entry).
    Conversation.objects.select_for_update().filter(pk=order.conversation_id).first()
    awarded_in_chat = LedgerEntry.objects.filter(
        kind=EntryKind.ASSISTED_SALE, conversation_id=order.conversation_id
    )
    if (
        final_at > now
        or Expert.objects.filter(pk=order.expert_id, suspended_at__isnull=False).exists()
        or awarded_in_chat.filter(order=order).exists()
        or awarded_in_chat.count() >= settings.POINTS_ASSISTED_SALE_CAP_PER_CHAT
    ):
        return None
    return _post_entry(
        expert_id=order.expert_id,
        amount=points,
        kind=EntryKind.ASSISTED_SALE,
        idempotency_key=f"assisted-sale:{order.pk}",
        rule_points=points,
        # The shop's order number; never what the customer bought or who they are.
        memo=_("Order %(order)s after chat #%(chat)d")
        % {"order": order.order_id[:100], "chat": order.conversation_id},
        # The sale became final when its return window ended: that is the event.
        occurred_at=final_at,
        conversation_id=order.conversation_id,
        order=order,
    )


def _refuse_own_balance(*, expert_id: int, staff_member) -> None:
    """Four eyes: staff who are also experts never move their own points."""
    if Expert.objects.filter(pk=expert_id, user_id=staff_member.pk).exists():
        raise ServiceError(
            "own_balance", _("Someone else on the team must change your own points.")
        )


@transaction.atomic
def points_adjust(
    *, expert: Expert, amount: int, reason: str, staff_member, idempotency_key: str
) -> LedgerEntry:
    """A manual correction by staff; the reason and who made it are kept."""
    _refuse_own_balance(expert_id=expert.pk, staff_member=staff_member)
    if not reason.strip():
        raise ServiceError("bad_field", _("Give a reason for the adjustment."))
    if amount == 0:
        raise ServiceError("bad_field", _("An adjustment cannot be zero."))
    entry = _post_entry(
        expert_id=expert.pk,
        amount=amount,
        kind=EntryKind.ADJUSTMENT,
        idempotency_key=f"adjustment:{idempotency_key}",
        memo=reason.strip()[:300],
        staff_member=staff_member,
    )
    if entry is None:
        raise ServiceError("duplicate", _("This adjustment was already made."))
    audit_record(
        actor=staff_member, action="adjust_points", subject=expert, reason=f"{amount:+d}: {reason}"
    )
    return entry


@transaction.atomic
def points_reverse(*, entry: LedgerEntry, reason: str, staff_member) -> LedgerEntry:
    """Undo an award with a new, linked entry; an entry can be reversed once."""
    _refuse_own_balance(expert_id=entry.expert_id, staff_member=staff_member)
    if not reason.strip():
        raise ServiceError("bad_field", _("Give a reason for the reversal."))
    if entry.kind not in (*AWARD_KINDS, EntryKind.ADJUSTMENT):
        raise ServiceError("invalid_state", _("Only awards and adjustments can be reversed."))
    reversal = _post_entry(
        expert_id=entry.expert_id,
        amount=-entry.amount,
        kind=EntryKind.REVERSAL,
        idempotency_key=f"reversal:{entry.pk}",
        memo=reason.strip()[:300],
        staff_member=staff_member,
        reverses=entry,
        conversation_id=entry.conversation_id,
    )
    if reversal is None:
        raise ServiceError("already_reversed", _("This entry was already reversed."))
    audit_record(actor=staff_member, action="reverse_points", subject=entry, reason=reason)
    return reversal


def points_hold_for_redemption(*, redemption) -> LedgerEntry:
    """Debit the cost when a reward is redeemed; refused if the balance is short."""
    entry = _post_entry(
        expert_id=redemption.expert_id,
        amount=-redemption.points,
        kind=EntryKind.REDEMPTION_HOLD,
        idempotency_key=f"redemption-hold:{redemption.pk}",
        memo=redemption.product.name[:300],
        redemption=redemption,
    )
    if entry is None:
        raise ServiceError("duplicate", _("These points are already held."))
    return entry


def points_release_for_redemption(*, redemption) -> LedgerEntry | None:
    """Give the held points back (rejected, cancelled or expired); once per redemption."""
    return _post_entry(
        expert_id=redemption.expert_id,
        amount=redemption.points,
        kind=EntryKind.REDEMPTION_RELEASE,
        idempotency_key=f"redemption-release:{redemption.pk}",
        memo=redemption.product.name[:300],
        redemption=redemption,
    )
