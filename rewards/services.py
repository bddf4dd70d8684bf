"""Writes of the reward shop: redeeming (points held and one unit reserved in one
transaction) and the redemption life cycle. Locks are always taken product first,
then the points account, so redemptions and releases cannot deadlock."""

from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from community.audit import audit_record
from community.models import Expert
from config.errors import ServiceError
from points import services as points_services
from realtime import broadcast
from rewards import selectors
from rewards.models import Product, Redemption, RedemptionEvent
from rewards.protocol import RedemptionFrame, Stock

Status = Redemption.Status
RELEASING = (Status.REJECTED, Status.CANCELLED, Status.EXPIRED)
# Shipping addresses are kept only while a parcel may still need them.
FORGET_ADDRESS = (*RELEASING, Status.DELIVERED)


def _announce_stock(product: Product) -> None:
    broadcast.send_after_commit(
        broadcast.SHOP, Stock(type="stock", product=product.pk, stock=product.stock)
    )


def _announce_redemption(redemption: Redemption) -> None:
    frame = RedemptionFrame(type="redemption", redemption=selectors.redemption_data(redemption))
    broadcast.send_after_commit(broadcast.expert_group(redemption.expert_id), frame)
    broadcast.send_after_commit(broadcast.STAFF, frame)


def _refuse_unavailable(*, product: Product, expert: Expert) -> None:
    now = timezone.now()
    if expert.is_suspended:
        raise ServiceError("suspended", _("Your account is suspended; you cannot redeem rewards."))
    if not product.is_active:
        raise ServiceError("not_found", _("This reward is not available."))
    if product.available_from and now < product.available_from:
        raise ServiceError(
            "not_open",
            _("This drop opens on %(when)s.")
            % {
                "when": formats.date_format(
                    timezone.localtime(product.available_from), "DATETIME_FORMAT"
                )
            },
        )
    if product.available_until and now >= product.available_until:
        raise ServiceError("closed", _("This drop has closed."))
    if product.stock == 0:
        raise ServiceError("sold_out", _("Sold out: every unit has been claimed."))
    if product.per_expert_limit is not None:
        taken = Redemption.objects.filter(
            expert=expert, product=product, status__in=Redemption.HOLDING
        ).count()
        if taken >= product.per_expert_limit:
            raise ServiceError(
                "limit_reached",
                _("You already have the maximum of %(limit)d for this reward.")
                % {"limit": product.per_expert_limit},
            )


@transaction.atomic
def redemption_place(
    *, expert: Expert, product_id: int, shipping_address: str, request_key: str
) -> Redemption:
    """Hold the points and reserve one unit, or refuse with the reason and change nothing.

    A repeated request (same key, e.g. a double click) returns the first redemption.
    """
    existing = Redemption.objects.filter(expert=expert, request_key=request_key).first()
    if existing:
        return existing
    if not shipping_address.strip():
        raise ServiceError("bad_field", _("Enter the address we should ship to."))
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise ServiceError("not_found", _("This reward is not available."))
    expert = Expert.objects.get(pk=expert.pk)  # suspension is read fresh, not from the caller
    _refuse_unavailable(product=product, expert=expert)
    redemption = Redemption.objects.create(
        expert=expert,
        product=product,
        points=product.points_cost,
        shipping_address=shipping_address.strip(),
        request_key=request_key,
    )
    points_services.points_hold_for_redemption(redemption=redemption)
    if product.stock is not None:
        Product.objects.filter(pk=product.pk).update(stock=F("stock") - 1)
        product.refresh_from_db(fields=["stock"])
        _announce_stock(product)
    RedemptionEvent.objects.create(
        redemption=redemption, to_status=Status.PENDING, actor=expert.user
    )
    _announce_redemption(redemption)
    return redemption


def _transition(
    *,
    redemption_id: int,
    allowed_from: tuple[str, ...],
    to_status: str,
    actor,
    note: str = "",
    owner: Expert | None = None,
) -> Redemption:
    with transaction.atomic():
        redemption = Redemption.objects.select_for_update().filter(pk=redemption_id).first()
        if redemption is None or (owner is not None and redemption.expert_id != owner.pk):
            raise ServiceError("not_found", _("This redemption does not exist."))
        staff_decision = owner is None and actor is not None
        if staff_decision and redemption.expert.user_id == actor.pk:
            # Four eyes: staff who are also experts never decide on their own rewards.
            raise ServiceError(
                "own_request", _("Someone else on the team must handle your own redemption.")
            )
        if redemption.status not in allowed_from:
            raise ServiceError(
                "invalid_transition",
                _("This redemption is %(status)s; that is no longer possible.")
                % {"status": redemption.get_status_display().lower()},
            )
        product = Product.objects.select_for_update().get(pk=redemption.product_id)
        redemption.product = product
        previous = redemption.status
        redemption.status = to_status
        if to_status == Status.SHIPPED:
            redemption.tracking_note = note
        elif note:
            redemption.decision_reason = note
        if to_status in FORGET_ADDRESS:
            redemption.shipping_address = ""
        redemption.save()
        RedemptionEvent.objects.create(
            redemption=redemption, from_status=previous, to_status=to_status, actor=actor, note=note
        )
        if staff_decision:
            audit_record(
                actor=actor, action=f"redemption_{to_status}", subject=redemption, reason=note
            )
        if to_status in RELEASING:
            points_services.points_release_for_redemption(redemption=redemption)
            if product.stock is not None:
                Product.objects.filter(pk=product.pk).update(stock=F("stock") + 1)
                product.refresh_from_db(fields=["stock"])
                _announce_stock(product)
        _announce_redemption(redemption)
        return redemption


def redemption_approve(*, redemption_id: int, staff_member) -> Redemption:
    return _transition(
        redemption_id=redemption_id,
        allowed_from=(Status.PENDING,),
        to_status=Status.APPROVED,
        actor=staff_member,
    )


def redemption_reject(*, redemption_id: int, staff_member, reason: str) -> Redemption:
    if not reason.strip():
        raise ServiceError("bad_field", _("Give the expert a reason."))
    return _transition(
        redemption_id=redemption_id,
        allowed_from=(Status.PENDING,),
        to_status=Status.REJECTED,
        actor=staff_member,
        note=reason.strip()[:300],
    )


def redemption_cancel(*, redemption_id: int, expert: Expert) -> Redemption:
    return _transition(
        redemption_id=redemption_id,
        allowed_from=(Status.PENDING,),
        to_status=Status.CANCELLED,
        actor=expert.user,
        owner=expert,
    )


def redemption_ship(*, redemption_id: int, staff_member, tracking_note: str) -> Redemption:
    return _transition(
        redemption_id=redemption_id,
        allowed_from=(Status.APPROVED,),
        to_status=Status.SHIPPED,
        actor=staff_member,
        note=tracking_note.strip()[:300],
    )


def redemption_deliver(*, redemption_id: int, staff_member) -> Redemption:
    return _transition(
        redemption_id=redemption_id,
        allowed_from=(Status.APPROVED, Status.SHIPPED),
        to_status=Status.DELIVERED,
        actor=staff_member,
    )


def redemptions_approve_many(*, redemption_ids: list[int], staff_member) -> dict[str, list[int]]:
    """Approve each pending one; the others are reported, not half-done."""
    outcome: dict[str, list[int]] = {"approved": [], "refused": []}
    for redemption_id in redemption_ids:
        try:
            redemption_approve(redemption_id=redemption_id, staff_member=staff_member)
            outcome["approved"].append(redemption_id)
        except ServiceError:
            outcome["refused"].append(redemption_id)
    return outcome


def redemptions_expire(*, older_than) -> int:
    """Release pending redemptions nobody decided on in time."""
    expired = 0
    stale = Redemption.objects.filter(status=Status.PENDING, created_at__lt=older_than)
    for redemption_id in stale.values_list("pk", flat=True):
        try:
            _transition(
                redemption_id=redemption_id,
                allowed_from=(Status.PENDING,),
                to_status=Status.EXPIRED,
                actor=None,
                note=_("Not decided in time."),
            )
            expired += 1
        except ServiceError:
            continue  # decided meanwhile
    return expired
