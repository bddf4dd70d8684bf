import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from community.permissions import DECIDE_REDEMPTIONS, active_expert_or_404, staff_required
from config.errors import ServiceError
from config.forms import error_lines, flash_errors
from config.redirects import redirect_back
from rewards import selectors, services
from rewards.forms import QueueFilterForm, RedeemForm, RedemptionActionForm
from rewards.models import Product, Redemption


@login_required
def shop(request: HttpRequest) -> HttpResponse:
    expert = active_expert_or_404(request)
    return render(
        request,
        "rewards/shop.html",
        {
            **selectors.shop_for_expert(expert=expert),
            "redemptions": selectors.expert_redemptions(expert=expert)[:20],
            # One key per rendered form: a double submit redeems once.
            "request_key": uuid.uuid4().hex,
        },
    )


@login_required
@require_POST
def redeem(request: HttpRequest, product_id: int) -> HttpResponse:
    expert = active_expert_or_404(request)
    form = RedeemForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("rewards_shop")
    try:
        redemption = services.redemption_place(
            expert=expert,
            product_id=product_id,
            shipping_address=form.cleaned_data["shipping_address"],
            request_key=form.cleaned_data["request_key"] or uuid.uuid4().hex,
        )
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("Redeemed %(product)s. Staff will approve it soon.")
            % {"product": redemption.product.name},
        )
    return redirect("rewards_shop")


@login_required
@require_POST
def cancel(request: HttpRequest, redemption_id: int) -> HttpResponse:
    expert = active_expert_or_404(request)
    try:
        services.redemption_cancel(redemption_id=redemption_id, expert=expert)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Redemption cancelled; your points are back."))
    return redirect("rewards_shop")


def _queue_filters(request: HttpRequest) -> tuple[QueueFilterForm, str, int | None]:
    # Without a status filter the queue shows what waits for a decision.
    form = QueueFilterForm({"status": Redemption.Status.PENDING, **request.GET.dict()})
    if not form.is_valid():
        return form, Redemption.Status.PENDING, None
    return form, form.cleaned_data["status"], form.cleaned_data["product"]


def _queue_path(*, status: str, product: int | None) -> str:
    return (
        f"{reverse('staff_redemptions')}?{urlencode({'status': status, 'product': product or ''})}"
    )


@staff_required(DECIDE_REDEMPTIONS)
def staff_queue(request: HttpRequest) -> HttpResponse:
    form, status, product = _queue_filters(request)
    return render(
        request,
        "rewards/staff_queue.html",
        {
            "redemptions": selectors.staff_redemption_queue(
                status=status or None, product_id=product
            ),
            "statuses": Redemption.Status.choices,
            "products": Product.objects.order_by("name"),
            "current_status": status,
            "current_product": str(product or ""),
            "filter_query": urlencode({"status": status, "product": product or ""}),
            "back": request.get_full_path(),
            "form_errors": error_lines(form),
        },
        status=200 if form.is_valid() else 400,
    )


@staff_required(DECIDE_REDEMPTIONS)
def staff_redemption_row(request: HttpRequest, redemption_id: int) -> HttpResponse:
    """One queue row for a page that heard the redemption change; it says whether the
    page's filters would list it, so a new one is added and a changed one redrawn."""
    _form, status, product = _queue_filters(request)
    redemption = selectors.staff_redemption_queue().filter(pk=redemption_id).first()
    if redemption is None:
        raise Http404
    listed = selectors.staff_redemption_queue(status=status or None, product_id=product)
    return render(
        request,
        "rewards/_staff_redemption_row.html",
        {
            "redemption": redemption,
            "listed": listed.filter(pk=redemption_id).exists(),
            "back": _queue_path(status=status, product=product),
        },
    )


@staff_required(DECIDE_REDEMPTIONS)
@require_POST
def staff_action(request: HttpRequest) -> HttpResponse:
    """Approve (one or many), reject with a reason, mark shipped or delivered."""
    form = RedemptionActionForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect_back(request, "staff_redemptions")
    action, ids, note = (form.cleaned_data[f] for f in ("action", "redemption", "note"))
    if not ids:
        messages.error(request, _("Select at least one redemption."))
        return redirect_back(request, "staff_redemptions")
    try:
        if action == "approve":
            outcome = services.redemptions_approve_many(
                redemption_ids=ids, staff_member=request.user
            )
            messages.success(request, _("Approved %(n)d.") % {"n": len(outcome["approved"])})
            if outcome["refused"]:
                messages.warning(
                    request,
                    _("%(n)d could not be approved: no longer pending.")
                    % {"n": len(outcome["refused"])},
                )
        elif action in ("reject", "ship", "deliver") and len(ids) == 1:
            if action == "reject":
                redemption = services.redemption_reject(
                    redemption_id=ids[0], staff_member=request.user, reason=note
                )
                done = _("Rejected %(product)s for %(expert)s; their points are back.")
            elif action == "ship":
                redemption = services.redemption_ship(
                    redemption_id=ids[0], staff_member=request.user, tracking_note=note
                )
                done = _("Marked %(product)s for %(expert)s as shipped; they can see it.")
            else:
                redemption = services.redemption_deliver(
                    redemption_id=ids[0], staff_member=request.user
                )
                done = _("Marked %(product)s for %(expert)s as delivered.")
            messages.success(
                request,
                done
                % {
                    "product": redemption.product.name,
                    "expert": redemption.expert.display_name,
                },
            )
        else:
            messages.error(request, _("Choose an action for one redemption at a time."))
    except ServiceError as refused:
        messages.error(request, refused.message)
    return redirect_back(request, "staff_redemptions")
