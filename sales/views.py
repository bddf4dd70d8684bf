import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.client_ip import client_ip_from_request, ip_bucket
from config.errors import ServiceError, error_response
from config.limits import RateLimited, enforce_limit
from sales import services
from sales.forms import OrderForm


@csrf_exempt  # server to server: the HMAC signature, not a cookie, says who calls
@require_POST
def order_report(request: HttpRequest) -> HttpResponse:
    """The shop reports an order: JSON {order_id, amount, currency, ordered_at, chat_id,
    visitor_ref} (docs/integration.md)."""
    try:
        enforce_limit("api.orders", ip_bucket(client_ip_from_request(request)))
    except RateLimited as refused:
        response = error_response(refused, status=429)
        response["Retry-After"] = str(refused.retry_after)
        return response
    signature = request.headers.get("X-Signature", "")
    if not services.signature_valid(body=request.body, signature=signature):
        refused = ServiceError("bad_signature", "Bad or missing X-Signature.")
        return error_response(refused, status=401)
    try:
        payload = json.loads(request.body)
    except ValueError:
        payload = None
    form = OrderForm(payload if isinstance(payload, dict) else {})
    if not form.is_valid():
        message = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        return error_response(ServiceError("bad_field", message), status=400)
    try:
        order, created = services.order_record(**form.cleaned_data)
    except ServiceError as refused:
        return error_response(refused, status=409)
    return JsonResponse(
        {"order_id": order.order_id, "attributed": order.conversation_id is not None},
        status=201 if created else 200,
    )
