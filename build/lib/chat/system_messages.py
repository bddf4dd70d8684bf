"""Lines the chat itself writes ("Anna joined the chat"). They are stored as an
event with parameters and put into words in each reader's own language."""

from django.utils.translation import gettext_lazy as _

TEXTS = {
    "joined": _("%(name)s joined the chat."),
    "resolved": _("The expert marked this chat as resolved."),
    "transferred": _("%(from)s handed this chat to %(to)s."),
    "customer_left": _("The customer left the chat."),
    "customer_gone": _(
        "The customer lost the connection and has not come back. "
        "You can resolve this chat; it does not count against you."
    ),
    "customer_back": _("The customer is back."),
    "abandoned": _("The customer was away too long; the chat left the queue."),
    "requeued": _("Your expert lost their connection. You are first in line for the next one."),
    "expert_unavailable": _(
        "Your expert is no longer available. You are first in line for the next one."
    ),
    "taken_over": _("%(name)s from our team has taken over this chat."),
    "closed_by_staff": _("Our team closed this chat."),
}


def system_text(event: str, params: dict) -> str:
    return str(TEXTS[event]) % params
