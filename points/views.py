from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from community.permissions import (
    ADJUST_POINTS,
    MODERATE_CHATS,
    active_expert_or_404,
    staff_required,
)
from config.csv_safe import SafeWriter
from config.errors import ServiceError
from config.forms import flash_errors, id_field
from points import selectors, services


class FlaggedAwardDecisionForm(forms.Form):
    award = id_field(label=_("Award"))
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = forms.CharField(max_length=300, required=False)


@login_required
def statement(request: HttpRequest) -> HttpResponse:
    expert = active_expert_or_404(request)
    entries = list(selectors.statement(expert=expert))
    entries.reverse()  # newest first on screen; the running balance is computed oldest first
    page = Paginator(entries, STATEMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "points/statement.html",
        {
            "expert": expert,
            "entries": page.object_list,
            "page": page,
            "total": len(entries),
            "balance": selectors.balance(expert=expert),
            "rules": selectors.rules_for_experts(),
            "assisted_sale": selectors.assisted_sale_rule(),
            "held": selectors.flagged_awards_pending().filter(expert=expert).count(),
        },
    )


# Newest first; the CSV has them all.
STATEMENT_PAGE_SIZE = 50


@login_required
def statement_csv(request: HttpRequest) -> HttpResponse:
    expert = active_expert_or_404(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="points-statement.csv"'
    writer = SafeWriter(response)
    writer.writerow([_("Date"), _("Kind"), _("Points"), _("Balance"), _("Chat"), _("Memo")])
    for entry in selectors.statement(expert=expert):
        writer.writerow(
            [
                entry.occurred_at.isoformat(),
                entry.get_kind_display(),
                entry.amount,
                entry.running_balance,
                entry.conversation_id or "",
                entry.memo,
            ]
        )
    return response


@staff_required(MODERATE_CHATS)
def staff_leaderboard(request: HttpRequest) -> HttpResponse:
    """Filled and kept live by /ws/staff/."""
    return render(request, "points/staff_leaderboard.html")


@staff_required(ADJUST_POINTS)
def staff_flagged_awards(request: HttpRequest) -> HttpResponse:
    """Awards held back because they look farmed: staff approve or reject each."""
    if request.method == "POST":
        form = FlaggedAwardDecisionForm(request.POST)
        if form.is_valid():
            try:
                services.flagged_award_decide(
                    flagged_award_id=form.cleaned_data["award"],
                    staff_member=request.user,
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, _("Decision saved."))
        else:
            flash_errors(request, form)
        return redirect("staff_flagged_awards")
    return render(
        request,
        "points/staff_flagged_awards.html",
        {"flagged": selectors.flagged_awards_pending()},
    )
