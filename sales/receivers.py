"""Sales' side of what happens in chats (chat.events)."""

import secrets

from django.dispatch import receiver

from chat import events
from sales.models import Order, WidgetOpen


@receiver(events.customer_erased, dispatch_uid="sales.customer_erased")
def unlink_widget_references(sender, conversation_ids: list[int], **kwargs) -> None:
    """The widget reference ties the customer's browser (it keeps the reference) to
    their chats and orders. Each reference of theirs becomes a new random one: the
    openings and orders still count in the conversion figures, as one shopper, but
    nothing leads from the browser to them any more."""
    refs = set(
        WidgetOpen.objects.filter(conversation_id__in=conversation_ids).values_list(
            "ref", flat=True
        )
    )
    for ref in refs:
        unlinked = secrets.token_urlsafe(16)
        WidgetOpen.objects.filter(ref=ref).update(ref=unlinked)
        Order.objects.filter(visitor_ref=ref).update(visitor_ref=unlinked)
