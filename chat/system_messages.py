"""Lines the chat itself writes ("Anna joined the chat"). They are stored as an
event with parameters and put into words in each reader's own language, and for
each reader: the customer never reads "the customer left", the expert never reads
"you are first in line"."""

from django.utils.translation import gettext_lazy as _

TEXTS = {
    "joined": _("%(name)s joined the chat."),
    "resolved": _("The expert marked this chat as resolved."),
    "transferred": _("%(from)s handed this chat to %(to)s."),
    "customer_left": {
        "customer": _("You left the chat."),
        "expert": _("The customer left the chat."),
    },
    "customer_gone": {
        "customer": _("You were away for a while."),
        "expert": _(
            "The customer lost the connection and has not come back. "
            "You can resolve this chat; it does not count against you."
        ),
    },
    "customer_back": {
        "customer": _("Welcome back."),
        "expert": _("The customer is back."),
    },
    "abandoned": {
        "customer": _("You were away too long, so the chat left the queue."),
        "expert": _("The customer was away too long; the chat left the queue."),
    },
    "requeued": {
        "customer": _("Your expert lost their connection. You are first in line for the next one."),
        "expert": _(
            "The expert lost their connection; the chat went back to the front of the queue."
        ),
    },
    "expert_unavailable": {
        "customer": _(
            "Your expert is no longer available. You are first in line for the next one."
        ),
        "expert": _(
            "The expert is no longer available; the chat went back to the front of the queue."
        ),
    },
    "taken_over": _("%(name)s from our team has taken over this chat."),
    "closed_by_staff": _("Our team closed this chat."),
}


def system_text(event: str, params: dict, *, reader: str = "expert") -> str:
    """The line for `reader`: "customer", or "expert" (staff read it as experts do)."""
    text = TEXTS[event]
    if isinstance(text, dict):
        text = text["customer" if reader == "customer" else "expert"]
    return str(text) % params
