"""Staff pages: the overview, live monitor, experts, applications, reports, metrics
and audit log. Reads go through backoffice/selectors.py, writes through the apps' services."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backoffice import metrics
from backoffice import selectors as backoffice_selectors
from chat import services as chat_services
from community import audit, selectors, services
from community.forms import (
    ApplicationActionForm,
    AuditFilterForm,
    ExpertActionForm,
    MetricsPeriodForm,
    ReportActionForm,
)
from community.models import Expert
from community.permissions import (
    ADJUST_POINTS,
    MANAGE_EXPERTS,
    MODERATE_CHATS,
    VIEW_METRICS,
    staff_required,
)
from config.csv_safe import SafeWriter
from config.errors import ServiceError
from config.forms import error_lines, flash_errors
from config.middleware import shows_catalog_images
from config.redirects import redirect_back
from points import services as points_services
from points.models import LedgerEntry


@staff_required(MODERATE_CHATS)
def staff_overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/overview.html",
        {
            **backoffice_selectors.live_chats(),
            "offline_messages": backoffice_selectors.recent_offline_messages(),
        },
    )


@staff_required(MODERATE_CHATS)
@shows_catalog_images
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
    entries = backoffice_selectors.audit_entries(action=action)
    page = Paginator(entries, 50).get_page(form.cleaned_data.get("page") if valid else 1)
    return render(
        request,
        "staff/audit.html",
        {
            "form_errors": error_lines(form),
            "entries": page,
            "lines": audit.audit_lines(page.object_list),
            "actions": audit.action_choices(backoffice_selectors.audit_actions_used()),
            "current_action": action,
        },
        status=200 if valid else 400,
    )


@staff_required(MODERATE_CHATS)
def staff_reports(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/reports.html",
        {"reports": backoffice_selectors.open_reports()},
    )


@staff_required(MODERATE_CHATS)
@require_POST
def staff_report_action(request: HttpRequest, report_id: int) -> HttpResponse:
    report = backoffice_selectors.report_get(report_id=report_id)
    if report is None:
        raise Http404
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
        (_("Customer satisfaction"), "csat", share),
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
        (_("Orders within the attribution window"), "orders_attributed", ""),
        (_("Chat-assisted sales"), "assisted_revenue", figures["currency"]),
        (_("Shoppers who opened the chat and chatted"), "conversion_chatted.shoppers", ""),
        (_("Shoppers who chatted and ordered"), "conversion_chatted.converted", ""),
        (_("Conversion of shoppers who chatted"), "conversion_chatted.rate", share),
        (_("Shoppers who opened the chat without chatting"), "conversion_not_chatted.shoppers", ""),
        (_("Shoppers who did not chat and ordered"), "conversion_not_chatted.converted", ""),
        (_("Conversion of shoppers who did not chat"), "conversion_not_chatted.rate", share),
    ):
        key, _dot, attribute = key.partition(".")
        value = getattr(figures[key], attribute) if attribute else figures[key]
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
    writer.writerow(
        [
            _("Expert"),
            _("Chats"),
            _("Resolved"),
            _("Average rating"),
            _("Chat-assisted sales"),
            _("Shoppers who chatted"),
            _("Shoppers who chatted and ordered"),
        ]
    )
    for row in figures["experts"]:
        writer.writerow(
            [
                row["name"],
                row["chats"],
                row["resolved"],
                row["avg_rating"] or "",
                row["revenue"],
                row["conversion"].shoppers,
                row["conversion"].converted,
            ]
        )
    return response


@staff_required(MANAGE_EXPERTS)
def staff_applications(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/applications.html",
        {
            "applications": [
                (application, selectors.applicant_history(email=application.email))
                for application in backoffice_selectors.pending_applications()
            ],
            "decided": backoffice_selectors.decided_applications(),
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
