"""Chat-assisted sales: orders the shop reports, attributed to a chat and its expert,
and the widget openings the conversion figures count."""

import hashlib
import hmac
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.models import Conversation
from config.errors import ServiceError
from config.limits import limit_retry_after, shared_cache
from sales.models import Order, WidgetOpen

# The widget's public reference: what crypto.randomUUID() or its fallback makes.
VISITOR_REF = r"[A-Za-z0-9_-]{8,64}"


def signature_valid(*, body: bytes, signature: str) -> bool:
    """`X-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body with ORDER_WEBHOOK_SECRET."""
    secret = settings.ORDER_WEBHOOK_SECRET
    if not secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256="))


def brand_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(settings.BRAND_TIME_ZONE)).date()


def widget_open_note(*, ref: str, network: str) -> None:
    """The shopper with this widget reference opened the chat panel: one row per
    reference and day, however many pages, tabs or retries say so.

    Every panel opening sends this, so a reference already noted today costs one
    cache read. A new one counts against its network's `widget.open` limit; past it
    the opening is quietly not counted (a script inventing references must not fill
    the conversion figures, and a shopper behind a busy network sees nothing).
    """
    if not re.fullmatch(VISITOR_REF, ref):
        raise ServiceError(
            "bad_field", _("ref must be 8 to 64 letters, digits, dashes or underscores.")
        )
    day = brand_day(timezone.now())
    cache = shared_cache()
    noted = f"widget-open:{ref}:{day.isoformat()}"
    if cache.get(noted):
        return
    if network and limit_retry_after("widget.open", network) is not None:
        return
    WidgetOpen.objects.bulk_create([WidgetOpen(ref=ref, day=day)], ignore_conflicts=True)
    cache.set(noted, True, timeout=24 * 3600)


def widget_open_chat(*, ref: str, conversation: Conversation) -> None:
    """The shopper started this chat from the widget: their opening that day is now a
    chatted one (made if the opening itself was not counted)."""
    WidgetOpen.objects.update_or_create(
        ref=ref, day=brand_day(conversation.created_at), defaults={"conversation": conversation}
    )


def _attributed_chat(
    *, chat_id: int | None, visitor_ref: str, ordered_at: datetime
) -> Conversation | None:
    """The chat the card link named, else the latest chat started from the widget with
    this reference: either only if the order came within ORDER_ATTRIBUTION_DAYS of it."""
    window = timedelta(days=settings.ORDER_ATTRIBUTION_DAYS)
    chats = Conversation.objects.filter(
        created_at__gte=ordered_at - window, created_at__lte=ordered_at
    )
    chat = chats.filter(pk=chat_id).first() if chat_id else None
    if chat is None and visitor_ref:
        started = WidgetOpen.objects.filter(ref=visitor_ref, conversation__isnull=False)
        chat = chats.filter(pk__in=started.values("conversation")).order_by("-created_at").first()
    return chat


def order_record(
    *,
    order_id: str,
    amount: Decimal,
    currency: str,
    ordered_at: datetime,
    chat_id: int | None,
    visitor_ref: str = "",
) -> tuple[Order, bool]:
    """Store the order once per order id (a retry returns the first, `created` False;
    the same id with other figures is refused), attributed to the chat the shopper
    came from if the order came within ORDER_ATTRIBUTION_DAYS after it started."""
    chat = _attributed_chat(chat_id=chat_id, visitor_ref=visitor_ref, ordered_at=ordered_at)
    fields = {
        "amount": amount,
        "currency": currency.upper(),
        "ordered_at": ordered_at,
        "conversation": chat,
        "expert_id": chat.expert_id if chat else None,
        "visitor_ref": visitor_ref,
    }
    try:
        with transaction.atomic():
            return Order.objects.create(order_id=order_id, **fields), True
    except IntegrityError:
        first = Order.objects.get(order_id=order_id)
        if (first.amount, first.currency) != (amount, currency.upper()):
            raise ServiceError(
                "conflict",
                _("Order %(id)s was already reported with other figures.") % {"id": order_id},
            ) from None
        return first, False
