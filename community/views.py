from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from chat import selectors as chat_selectors
from chat.models import Conversation, OfflineMessage
from community import selectors
from community.decorators import staff_required


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated and selectors.active_expert_for_user(user=user):
        return redirect("console")
    if user.is_authenticated and user.is_staff:
        return redirect("staff_overview")
    return render(request, "home.html")


def _console_strings() -> dict[str, str]:
    """UI text for frontend/console.js, translated here so the script has none of its own.

    Placeholders use the %(name)s form; console.js fills them in.
    """
    return {
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Reconnecting…"),
        "retry_in": _("Trying again in %(seconds)s s."),
        "retrying": _("Trying now…"),
        "signed_out": _("You have been logged out. Log in again to keep chatting."),
        "forbidden": _(
            "Your account cannot use the console right now. Contact staff if this is unexpected."
        ),
        "on_shift": _("On shift"),
        "off_shift": _("Off shift"),
        "load": _("%(open)s / %(max)s chats"),
        "waiting_title": _("Waiting for the next customer…"),
        "waiting_hint": _("New chats appear here automatically."),
        "off_title": _("Go on shift to receive chats"),
        "off_hint": _("Use the switch at the top when you are ready."),
        "offline_hint": _("Chats appear once the console is connected."),
        "customer": _("Customer"),
        "typing": _("%(name)s is typing…"),
        "sending": _("Sending…"),
        "sent": _("Sent"),
        "delivered": _("Delivered"),
        "read": _("Read"),
        "not_sent": _("Not sent."),
        "retry": _("Retry"),
        "too_long": _("%(over)s characters too long (the maximum is %(max)s)."),
        "summary_required": _("Write a short summary first."),
        "resolving": _("Resolving…"),
        "resolve": _("Resolve chat"),
        "transfer_loading": _("Looking for available experts…"),
        "transfer_empty": _("No other expert has a free chat slot right now."),
        "transferring": _("Handing over…"),
        "new_chat": _("New chat: %(topic)s"),
        "resolved": _("Chat resolved. Thanks!"),
        "transferred": _("Chat handed over to %(name)s."),
        "transferred_anon": _("Chat handed over."),
        "requeued": _("“%(topic)s” went back to the queue."),
        "just_now": _("Just now"),
        "not_rated": _("Not rated yet"),
        "sound_test": _("Sound on: you will hear a chime for new chats."),
        "err_not_found": _("This chat is no longer yours."),
        "err_chat_closed": _("This chat has already ended."),
        "err_expert_unavailable": _("That expert is no longer available. Pick someone else."),
        "err_suspended": _("Your account is suspended; you cannot go on shift."),
        "err_too_long": _("That text is too long."),
        "err_generic": _("Something went wrong. Please try again."),
    }


@login_required
def console(request: HttpRequest) -> HttpResponse:
    expert = selectors.active_expert_for_user(user=request.user)
    if expert is None:
        return render(request, "not_an_expert.html", status=403)
    return render(
        request,
        "console.html",
        {
            "expert": expert,
            "past_conversations": chat_selectors.expert_past_conversations(expert=expert),
            "offline_messages": OfflineMessage.objects.filter(handled_at__isnull=True)[:20],
            "strings": _console_strings(),
            "brand_time_zone": settings.BRAND_TIME_ZONE,
        },
    )


@login_required
def past_conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    expert = selectors.active_expert_for_user(user=request.user)
    conversation = chat_selectors.conversation_get(conversation_id=conversation_id)
    if conversation is None or expert is None or conversation.expert_id != expert.pk:
        raise Http404
    return render(
        request,
        "past_conversation.html",
        {
            "conversation": conversation,
            "transcript": chat_selectors.messages_after(
                conversation_id=conversation.pk, last_seq=0
            ),
            "follow_ups": conversation.follow_ups.all(),
            "max_message_length": settings.CHAT_MAX_MESSAGE_LENGTH,
            "brand_time_zone": settings.BRAND_TIME_ZONE,
        },
    )


@staff_required
def staff_overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/overview.html",
        {
            "waiting": Conversation.objects.filter(status="waiting")
            .select_related("visitor")
            .order_by("queued_at"),
            "active": Conversation.objects.filter(status="active")
            .select_related("visitor", "expert")
            .order_by("assigned_at"),
            "offline_messages": OfflineMessage.objects.all()[:50],
            "brand_time_zone": settings.BRAND_TIME_ZONE,
        },
    )
