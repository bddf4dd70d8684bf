"""Chat-assisted sales: orders the shop reports, attributed to a chat and its expert."""

import hashlib
import hmac
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chat.models import Conversation
from config.errors import ServiceError
from sales.models import Order


def signature_valid(*, body: bytes, signature: str) -> bool:
    """`X-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body with ORDER_WEBHOOK_SECRET."""
    secret = settings.ORDER_WEBHOOK_SECRET
    if not secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256="))


def order_record(
    *, order_id: str, amount: Decimal, currency: str, ordered_at: datetime, chat_id: int | None
) -> tuple[Order, bool]:
    """Store the order once per order id (a retry returns the first, `created` False;
    the same id with other figures is refused), attributed to the chat if the order
    came within ORDER_ATTRIBUTION_DAYS after the chat started."""
    chat = Conversation.objects.filter(pk=chat_id).first() if chat_id else None
    window = timedelta(days=settings.ORDER_ATTRIBUTION_DAYS)
    if chat and not (chat.created_at <= ordered_at <= chat.created_at + window):
        chat = None
    fields = {
        "amount": amount,
        "currency": currency.upper(),
        "ordered_at": ordered_at,
        "conversation": chat,
        "expert_id": chat.expert_id if chat else None,
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
