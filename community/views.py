import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.models import Conversation, MessageReport, OfflineMessage
from community import audit, metrics, selectors, services
from community.forms import (
    ApplicationActionForm,
    ApplicationForm,
    AuditFilterForm,
    ExpertActionForm,
    FollowUpForm,
    MetricsPeriodForm,
    OfflineMessageActionForm,
    ReportActionForm,
    ShiftActionForm,
)
from community.models import AuditEntry, Expert, ExpertApplication
from community.permissions import (
    ADJUST_POINTS,
    MANAGE_EXPERTS,
    MODERATE_CHATS,
    VIEW_METRICS,
    staff_required,
)
from config.client_ip import client_ip_from_request, ip_bucket
from config.csv_safe import SafeWriter
from config.errors import ServiceError
from config.forms import error_lines, flash_errors
from config.limits import RateLimited, enforce_limit
from config.redirects import redirect_back
from points import services as points_services
from points.models import LedgerEntry


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
            error = {"code": refused.code, "message": refused.message}
            return JsonResponse({"error": error}, status=status)
        messages.error(request, refused.message)
    else:
        if wants_json:
            return JsonResponse(
                {"follow_up": {"id": follow_up.pk}, "next_request_key": str(uuid.uuid4())},
                status=201,
            )
        messages.success(request, _("Follow-up sent. The customer sees it on their next visit."))
    return redirect("past_conversation", conversation_id=conversation_id)


@staff_required(MODERATE_CHATS)
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
        },
    )


# -- staff: running the expert community -----------------------------------------


@staff_required(MODERATE_CHATS)
def staff_monitor(request: HttpRequest) -> HttpResponse:
    """Filled and kept live by /ws/staff/ (monitor.watch)."""
    return render(request, "staff/monitor.html", {"strings": _monitor_strings()})


def _monitor_strings() -> dict[str, str]:
    return {
        "waiting": _("Waiting"),
        "active": _("Active"),
        "queue": _("In queue"),
        "longest_wait": _("Longest wait"),
        "on_shift": _("On shift"),
        "off_shift": _("Off shift"),
        "open": _("Open"),
        "whisper": _("Whisper to the expert"),
        "whisper_placeholder": _("Only the expert sees this…"),
        "take_over": _("Take over"),
        "reply_placeholder": _("Reply to the customer…"),
        "send": _("Send"),
        "hide": _("Hide"),
        "hidden": _("Hidden by staff"),
        "whispered": _("Whisper"),
        "close_chat": _("Close chat"),
        "no_chats": _("No live chats right now."),
        "no_experts": _("Nobody is on shift."),
        "taken_over_by": _("Taken over by %(name)s"),
        "reconnecting": _("Reconnecting…"),
    }


@staff_required(MANAGE_EXPERTS)
def staff_experts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/experts.html",
        {
            "experts": selectors.experts_for_staff(),
            "max_chat_limit": settings.CHAT_BRAND_MAX_CONCURRENT,
            "request_key": uuid.uuid4().hex,
        },
    )


@staff_required(MANAGE_EXPERTS)
@require_POST
def staff_expert_action(request: HttpRequest, expert_id: int) -> HttpResponse:
    """Suspend, reinstate, set the chat limit or adjust points, each with a reason."""
    expert = get_object_or_404(Expert, pk=expert_id)
    form = ExpertActionForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect_back(request, "staff_experts")
    data, staff = form.cleaned_data, request.user
    action, reason = data["action"], data["reason"]
    if action in ("adjust", "reverse") and not staff.has_perm(ADJUST_POINTS):
        raise PermissionDenied
    if action == "suspend" and not data["confirm"]:
        return render(
            request,
            "staff/expert_suspend_confirm.html",
            {
                "expert": expert,
                "reason": reason,
                "next": request.POST.get("next", ""),
                "back": redirect_back(request, "staff_experts").url,
                "contact": settings.STAFF_CONTACT_EMAIL or staff.email,
            },
        )
    try:
        if action == "suspend":
            services.expert_suspend(expert=expert, staff_member=staff, reason=reason)
        elif action == "reinstate":
            services.expert_reinstate(expert=expert, staff_member=staff, reason=reason)
        elif action == "limit":
            services.expert_set_chat_limit(expert=expert, limit=data["limit"], staff_member=staff)
        elif action == "adjust":
            points_services.points_adjust(
                expert=expert,
                amount=data["amount"],
                reason=reason,
                staff_member=staff,
                idempotency_key=data["request_key"] or uuid.uuid4().hex,
            )
        else:
            entry = get_object_or_404(LedgerEntry, pk=data["entry"], expert=expert)
            points_services.points_reverse(entry=entry, reason=reason, staff_member=staff)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Saved for %(name)s.") % {"name": expert.display_name})
    return redirect_back(request, "staff_experts")


@staff_required(VIEW_METRICS)
def staff_audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    valid = form.is_valid()
    action = form.cleaned_data.get("action", "") if valid else ""
    entries = AuditEntry.objects.select_related("actor")
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, 50).get_page(form.cleaned_data.get("page") if valid else 1)
    return render(
        request,
        "staff/audit.html",
        {
            "form_errors": error_lines(form),
            "entries": page,
            "lines": audit.audit_lines(page.object_list),
            "actions": audit.action_choices(
                AuditEntry.objects.values_list("action", flat=True).distinct()
            ),
            "current_action": action,
        },
        status=200 if valid else 400,
    )


@staff_required(MODERATE_CHATS)
def staff_reports(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/reports.html",
        {
            "reports": MessageReport.objects.filter(handled_at__isnull=True).select_related(
                "message", "message__conversation", "message__author__expert"
            )
        },
    )


@staff_required(MODERATE_CHATS)
@require_POST
def staff_report_action(request: HttpRequest, report_id: int) -> HttpResponse:
    report = get_object_or_404(MessageReport.objects.select_related("message"), pk=report_id)
    form = ReportActionForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("staff_reports")
    try:
        if form.cleaned_data["action"] == "hide":
            chat_services.message_hide(
                conversation_id=report.message.conversation_id,
                seq=report.message.seq,
                staff_member=request.user,
                reason=form.cleaned_data["reason"],
            )
        else:
            chat_services.message_report_dismiss(report_id=report.pk, staff_member=request.user)
    except ServiceError as refused:
        messages.error(request, refused.message)
    return redirect("staff_reports")


@staff_required(VIEW_METRICS)
def staff_metrics(request: HttpRequest) -> HttpResponse:
    form = MetricsPeriodForm(request.GET)
    valid = form.is_valid()
    days = (form.cleaned_data["days"] if valid else None) or 30
    figures = metrics.service_metrics(metrics.period_ending_today(days))
    if valid and form.cleaned_data["format"] == "csv":
        return _metrics_csv(figures)
    if valid and form.cleaned_data["format"] == "experts-csv":
        return _metrics_experts_csv(figures)
    return render(
        request,
        "staff/metrics.html",
        {
            **figures,
            "days": days,
            "form_errors": error_lines(form),
            "chats_chart": metrics.bar_chart_svg(
                [(day.isoformat(), n) for day, n in figures["chats_per_day"]],
                label=_("Chats per day"),
            ),
            "ratings_chart": metrics.bar_chart_svg(
                [(f"{stars}★", n) for stars, n in figures["ratings"]],
                label=_("Rating distribution"),
            ),
        },
        status=200 if valid else 400,
    )


def _csv_response(filename: str) -> tuple[HttpResponse, SafeWriter]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response, SafeWriter(response)


def _metrics_csv(figures: dict) -> HttpResponse:
    """The period's figures, one per row, named as on the page, with their unit."""
    response, writer = _csv_response("service-metrics.csv")
    writer.writerow([_("Figure"), _("Value"), _("Unit")])
    seconds, share, points = _("seconds"), _("share (0-1)"), _("points")
    for label, key, unit in (
        (_("Chats"), "chats_total", ""),
        (_("Chats that left the queue"), "chats_abandoned", ""),
        (_("Median wait"), "wait_median", seconds),
        (_("Wait, 90th percentile"), "wait_p90", seconds),
        (_("Median chat length"), "duration_median", seconds),
        (_("Resolved"), "resolution_rate", share),
        (_("Follow-ups sent"), "follow_ups_sent", ""),
        (_("Follow-ups found helpful"), "follow_ups_helpful", ""),
        (_("Points awarded"), "points_awarded", points),
        (_("Points redeemed"), "points_redeemed", points),
    ):
        value = figures[key]
        if value is not None and unit == seconds:
            value = round(value)
        writer.writerow([label, "" if value is None else value, unit])
    for day, count in figures["chats_per_day"]:
        writer.writerow([_("Chats on %(day)s") % {"day": day.isoformat()}, count, ""])
    for stars, count in figures["ratings"]:
        writer.writerow([_("Ratings of %(stars)d stars") % {"stars": stars}, count, ""])
    return response


def _metrics_experts_csv(figures: dict) -> HttpResponse:
    response, writer = _csv_response("service-metrics-experts.csv")
    writer.writerow([_("Expert"), _("Chats"), _("Resolved"), _("Average rating")])
    for row in figures["experts"]:
        writer.writerow([row["name"], row["chats"], row["resolved"], row["avg_rating"] or ""])
    return response


# -- recruiting and shifts --------------------------------------------------------


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


@staff_required(MANAGE_EXPERTS)
def staff_applications(request: HttpRequest) -> HttpResponse:
    pending = ExpertApplication.objects.filter(status=ExpertApplication.Status.PENDING)
    return render(
        request,
        "staff/applications.html",
        {
            "applications": [
                (application, selectors.applicant_history(email=application.email))
                for application in pending.order_by("created_at")
            ],
            "decided": ExpertApplication.objects.exclude(
                status=ExpertApplication.Status.PENDING
            ).select_related("decided_by")[:20],
        },
    )


@staff_required(MANAGE_EXPERTS)
@require_POST
def staff_application_action(request: HttpRequest, application_id: int) -> HttpResponse:
    form = ApplicationActionForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("staff_applications")
    try:
        if form.cleaned_data["action"] == "accept":
            expert = services.application_accept(
                application_id=application_id,
                staff_member=request.user,
                site_url=request.build_absolute_uri("/"),
            )
            messages.success(
                request,
                _("%(name)s is now an expert; the invitation is on its way.")
                % {"name": expert.display_name},
            )
        else:
            services.application_decline(
                application_id=application_id,
                staff_member=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("Application declined."))
    except ServiceError as refused:
        messages.error(request, refused.message)
    return redirect("staff_applications")


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
