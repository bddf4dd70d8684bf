from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from chat import selectors, services
from config.errors import ServiceError

DEMO_PRODUCTS = {
    "AUR-ANC2": "Aurora ANC 2",
    "STR-BUDS": "Stride Buds",
    "STU-ONE": "Studio One",
}


def demo_shop(request: HttpRequest) -> HttpResponse:
    """A stand-in for a brand's shop page with the one-line widget embed. The shop is
    http://localhost:PORT, the chat http://127.0.0.1:PORT: two origins on one machine.
    The port comes from the Host header, which a proxy in front keeps."""
    _host, port = split_domain_port(request.get_host())
    chat_origin = f"{request.scheme}://127.0.0.1" + (f":{port}" if port else "")
    # A product page of the demo shop names its product to the widget (data-product-sku).
    product = DEMO_PRODUCTS.get(request.GET.get("product", ""))
    return render(
        request,
        "shop.html",
        {"chat_origin": chat_origin, "product": product},
    )


def _allow_widget_origin(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if origin in settings.WIDGET_ALLOWED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "X-Visitor-Token"
        response["Access-Control-Allow-Methods"] = "GET, OPTIONS"
        patch_vary_headers(response, ["Origin"])
    return response


@require_http_methods(["GET", "OPTIONS"])
def transcript(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Plain-text transcript for the widget; the visitor token comes in a header,
    never in the URL, so it does not end up in logs or history."""
    if request.method == "OPTIONS":
        return _allow_widget_origin(request, HttpResponse(status=204))
    visitor = selectors.visitor_from_token(request.headers.get("X-Visitor-Token"))
    conversation = (
        selectors.participant_conversation(conversation_id=conversation_id, visitor=visitor)
        if visitor
        else None
    )
    if conversation is None:
        raise Http404
    response = HttpResponse(
        selectors.transcript_text(conversation=conversation),
        content_type="text/plain; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="chat-{conversation.pk}.txt"'
    return _allow_widget_origin(request, response)


@never_cache
@require_http_methods(["GET", "POST"])
def transcript_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation mail. GET only asks: mail scanners open links,
    and only the person who clicks the button confirms the address."""
    delivery = selectors.transcript_delivery_from_token(token=token)
    error = None if delivery else _("This link is invalid or has expired.")
    if request.method == "POST" and delivery:
        try:
            delivery = services.transcript_confirm(token=token)
        except ServiceError as refused:
            error = refused.message
    return render(
        request,
        "chat/transcript_confirm.html",
        {"delivery": delivery, "error": error},
        status=200 if delivery else 400,
    )
