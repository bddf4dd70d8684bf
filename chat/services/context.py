"""What the expert knows of the customer's visit: the shop pages they look at while
their chat is open (URL, title and a product the page names; nothing else, and
nothing outside a chat)."""

from urllib.parse import urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import protocol
from chat.models import Conversation, Visitor
from config.errors import ServiceError
from realtime import broadcast

PAGE_TRAIL_LENGTH = 20


def _clean_url(url: str) -> str:
    """An http(s) address without credentials or fragment; anything else is refused."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError("bad_field", _("url must be an http or https address."))
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


@transaction.atomic
def conversation_page_note(
    *, conversation_id: int, visitor: Visitor, url: str, title: str = "", product: str = ""
) -> dict | None:
    """Add the page to the chat's trail and tell its followers; None when it is the
    page already shown (a reload, a second tab) or the chat is closed."""
    page = {"url": _clean_url(url), "title": title.strip(), "product": product.strip()}
    conversation = (
        Conversation.objects.select_for_update()
        .filter(pk=conversation_id, visitor=visitor)
        .only("pk", "status", "pages")
        .first()
    )
    if conversation is None:
        raise ServiceError("not_found", _("This chat does not exist or is not yours."))
    if conversation.status not in (Conversation.Status.WAITING, Conversation.Status.ACTIVE):
        return None
    last = conversation.pages[-1] if conversation.pages else None
    if last and all(last.get(key) == value for key, value in page.items()):
        return None
    page["at"] = timezone.now().isoformat()
    conversation.pages = [*conversation.pages, page][-PAGE_TRAIL_LENGTH:]
    conversation.save(update_fields=["pages"])
    broadcast.send_after_commit(
        broadcast.conversation_group(conversation.pk),
        protocol.PageFrame(type="page", conversation=conversation.pk, page=page),
    )
    return page
