from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from community.permissions import MODERATE_CHATS, staff_required
from community.selectors import active_expert_for_user
from config.csv_safe import SafeWriter
from points import selectors


def _expert_or_404(request: HttpRequest):
    expert = active_expert_for_user(user=request.user)
    if expert is None:
        raise Http404
    return expert


@login_required
def statement(request: HttpRequest) -> HttpResponse:
    expert = _expert_or_404(request)
    entries = list(selectors.statement(expert=expert))
    entries.reverse()  # newest first on screen; the running balance is computed oldest first
    return render(
        request,
        "points/statement.html",
        {"expert": expert, "entries": entries, "balance": selectors.balance(expert=expert)},
    )


@login_required
def statement_csv(request: HttpRequest) -> HttpResponse:
    expert = _expert_or_404(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="points-statement.csv"'
    writer = SafeWriter(response)
    writer.writerow([_("Date"), _("Kind"), _("Points"), _("Balance"), _("Chat"), _("Memo")])
    for entry in selectors.statement(expert=expert):
        writer.writerow(
            [
                entry.created_at.isoformat(),
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
