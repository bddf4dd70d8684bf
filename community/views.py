import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog import selectors as catalog_selectors
from chat import selectors as chat_selectors
from chat import services as chat_services
from community import selectors, services
from community.forms import (
    ApplicationForm,
    CatalogSearchForm,
    FollowUpForm,
    NotificationSettingsForm,
    OfflineMessageActionForm,
    SavedReplyForm,
    ShiftActionForm,
)
from community.permissions import MANAGE_EXPERTS, active_expert_or_404
from config.client_ip import client_ip_from_request, ip_bucket
from config.errors import ServiceError, error_response
from config.forms import error_lines, flash_errors
from config.limits import RateLimited, enforce_limit
from config.middleware import shows_catalog_images


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
        "earlier_follow_ups": _("%(n)s follow-ups"),
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Reconnecting…"),
        "retry_in": _("Trying again in %(seconds)s s."),
        "retrying": _("Trying now…"),
        "signed_out": _("You have been logged out. Log in again to keep chatting."),
        "forbidden": _(
            "Your account cannot use the console right now. Contact staff if this is unexpected."
        ),
        "suspended": _("Your expert account is suspended since %(since)s, so the console closed."),
        "suspended_contact": _("Questions? Write to"),
        "suspended_ask_staff": _("Questions? Ask the staff team."),
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
        "out_of_stock": _("Out of stock"),
        "photo": _("Photo, opens full size"),
        "photo_sending": _("Sending your photo…"),
        "photo_failed": _("The photo could not be sent. Please try again."),
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
        "taken_over": _("Our team took over “%(topic)s”."),
        "whisper_from": _("Whisper from %(name)s · only you see this"),
        "new_message": _("New message from %(name)s:"),
        "note_from": _("Note from %(name)s · experts only"),
        "waiting": _("%(count)s waiting"),
        "message_removed": _("Removed by the moderators · the customer no longer sees it"),
        "staff_from": _("%(name)s (team)"),
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
@shows_catalog_images
def console(request: HttpRequest) -> HttpResponse:
    expert = selectors.active_expert_for_user(user=request.user)
    if expert is None:
        suspension = selectors.suspension_for_user(user_id=request.user.pk)
        if suspension:
            return render(request, "suspended.html", suspension, status=403)
        return render(request, "not_an_expert.html", status=403)
    return render(
        request,
        "console.html",
        {
            "expert": expert,
            "past_conversations": chat_selectors.expert_past_conversations(expert=expert),
            "offline_messages": chat_selectors.offline_messages_for_expert(expert=expert),
            "strings": _console_strings(),
        },
    )


@login_required
@require_POST
def offline_message_action(request: HttpRequest, message_id: int) -> HttpResponse:
    """An expert takes an offline message to answer, or marks it answered."""
    expert = selectors.active_expert_for_user(user=request.user)
    if expert is None:
        raise PermissionDenied
    form = OfflineMessageActionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown action."))
    service = {
        "claim": chat_services.offline_message_claim,
        "answered": chat_services.offline_message_mark_answered,
    }[form.cleaned_data["action"]]
    try:
        service(message_id=message_id, expert=expert)
    except ServiceError as refused:
        messages.error(request, refused.message)
    return redirect("console")


@login_required
def catalog_search(request: HttpRequest) -> HttpResponse:
    """The console's product type-ahead: at most 8 cards, limited per expert."""
    expert = active_expert_or_404(request)
    form = CatalogSearchForm(request.GET)
    try:
        enforce_limit("expert.catalog", str(expert.pk))
    except RateLimited as refused:
        return error_response(refused, status=429)
    if not form.is_valid():
        return JsonResponse({"results": []})
    products = catalog_selectors.catalog_search(query=form.cleaned_data["q"])
    return JsonResponse({"results": [catalog_selectors.product_card(p) for p in products]})


@login_required
def saved_replies(request: HttpRequest) -> HttpResponse:
    """The expert's own replies (add, delete) and the shared ones staff keep."""
    expert = active_expert_or_404(request)
    form = SavedReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            enforce_limit("expert.replies", str(expert.pk))
        except RateLimited as refused:
            form.add_error(None, refused.message)
            status = 429
        if status == 200 and form.is_valid():
            try:
                services.saved_reply_add(expert=expert, **form.cleaned_data)
            except ServiceError as refused:
                form.add_error("shortcut", refused.message)
            else:
                messages.success(
                    request,
                    _("Saved. Type /%(shortcut)s in a chat to use it.")
                    % {"shortcut": form.cleaned_data["shortcut"]},
                )
                return redirect("saved_replies")
    return render(
        request,
        "community/saved_replies.html",
        {
            "form": form,
            "replies": selectors.saved_replies_for(
                expert=expert, language=translation.get_language()
            ),
        },
        status=400 if status == 200 and form.errors else status,
    )


@login_required
@require_POST
def saved_reply_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    expert = active_expert_or_404(request)
    try:
        enforce_limit("expert.replies", str(expert.pk))
        services.saved_reply_delete(expert=expert, reply_id=reply_id)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Reply deleted."))
    return redirect("saved_replies")


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The expert's own notifications: the "shoppers are waiting" mail (off until
    they turn it on) and, in the browser, the console's new-chat notifications."""
    expert = active_expert_or_404(request)
    # Until they first turn the mail on, offer the language they are reading in.
    language = expert.language if expert.waiting_alerts else translation.get_language()
    form = NotificationSettingsForm(
        request.POST or None, instance=expert, initial={"language": language}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.expert_alerts_set(expert=expert, **form.cleaned_data)
        except ServiceError as refused:
            form.add_error("language", refused.message)
        else:
            messages.success(
                request,
                _("Saved. We email you when shoppers wait and the team is short.")
                if form.cleaned_data["waiting_alerts"]
                else _("Saved. We do not email you about waiting shoppers."),
            )
            return redirect("notification_settings")
    return render(
        request,
        "community/notifications.html",
        {"form": form},
        status=400 if form.errors else 200,
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
            "request_key": uuid.uuid4(),
        },
    )


@login_required
@require_POST
def follow_up_send(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A follow-up on a resolved chat: JSON for the page's script, a redirect without it."""
    expert = selectors.active_expert_for_user(user=request.user)
    if expert is None:
        raise PermissionDenied
    form = FollowUpForm(request.POST)
    wants_json = request.get_preferred_type(["text/html", "application/json"]) == "application/json"
    try:
        enforce_limit("expert.followup", str(expert.pk))
        if not form.is_valid():
            raise ServiceError("invalid", error_lines(form)[0])
        follow_up = chat_services.followup_send(
            conversation_id=conversation_id,
            expert=expert,
            body=form.cleaned_data["body"],
            request_key=form.cleaned_data["request_key"],
        )
    except ServiceError as refused:
        if wants_json:
            status = {"not_found": 404, "rate_limited": 429}.get(refused.code, 400)
            return error_response(refused, status=status)
        messages.error(request, refused.message)
    else:
        if wants_json:
            return JsonResponse(
                {"follow_up": {"id": follow_up.pk}, "next_request_key": str(uuid.uuid4())},
                status=201,
            )
        messages.success(request, _("Follow-up sent. The customer sees it on their next visit."))
    return redirect("past_conversation", conversation_id=conversation_id)


def apply(request: HttpRequest) -> HttpResponse:
    """Public: a customer applies to become a brand expert (linked from the widget,
    whose link carries an invite: the name and email given in that chat are filled in)."""
    posted = request.method == "POST"
    invite = (request.POST if posted else request.GET).get("invite", "")
    invited = selectors.application_invited_visitor(token=invite) if invite else None
    initial = {"name": invited.name, "email": invited.email, "invite": invite} if invited else {}
    form = ApplicationForm(request.POST if posted else None, initial=initial)
    if posted:
        try:
            # Every attempt counts, valid or not: a script gets nowhere either way.
            enforce_limit("page.apply", ip_bucket(client_ip_from_request(request)))
            if form.is_valid():
                fields = {k: v for k, v in form.cleaned_data.items() if k != "invite"}
                application = services.application_submit(**fields, visitor=invited)
                request.session["applied_as"] = application.name
                return redirect("apply_thanks")
        except RateLimited as refused:
            form.add_error(None, refused.message)
            return render(request, "community/apply.html", {"form": form}, status=429)
        except ServiceError as refused:
            form.add_error("email" if refused.code == "duplicate" else None, refused.message)
    return render(request, "community/apply.html", {"form": form})


def apply_thanks(request: HttpRequest) -> HttpResponse:
    """After the redirect, so a reload does not send the application again."""
    name = request.session.pop("applied_as", None)
    if name is None:
        return redirect("apply")
    return render(request, "community/apply_thanks.html", {"name": name})


@login_required
def shifts(request: HttpRequest) -> HttpResponse:
    """Experts see upcoming shifts and sign up; staff also publish them."""
    expert = selectors.active_expert_for_user(user=request.user)
    if expert is None and not request.user.is_staff:
        raise PermissionDenied
    if request.method == "POST":
        try:
            done = _shift_action(request, expert)
        except ServiceError as refused:
            messages.error(request, refused.message)
            done = False
        if not done and request.POST.get("action") == "publish":
            # The page again with what staff typed, not an empty form.
            return _shifts_page(request, expert, typed=request.POST, status=400)
        return redirect("shifts")
    return _shifts_page(request, expert)


def _shifts_page(request: HttpRequest, expert, *, typed=None, status: int = 200) -> HttpResponse:
    return render(
        request,
        "community/shifts.html",
        {"slots": selectors.upcoming_shifts(), "expert": expert, "typed": typed or {}},
        status=status,
    )


def _shift_action(request: HttpRequest, expert) -> bool:
    """Publish, sign up or withdraw; False (with the errors flashed) when the form is invalid."""
    form = ShiftActionForm(request.POST)  # times without a zone are the brand's (TIME_ZONE)
    if not form.is_valid():
        flash_errors(request, form)
        return False
    data = form.cleaned_data
    if data["action"] == "publish":
        if not (request.user.is_staff and request.user.has_perm(MANAGE_EXPERTS)):
            raise PermissionDenied
        services.shift_publish(
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            capacity=data["capacity"],
            staff_member=request.user,
        )
    elif expert is None:
        raise PermissionDenied
    elif data["action"] == "sign_up":
        services.shift_sign_up(slot_id=data["slot"], expert=expert)
    else:
        services.shift_withdraw(slot_id=data["slot"], expert=expert)
    return True
