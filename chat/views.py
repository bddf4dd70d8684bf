from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods

from chat import selectors


def demo_shop(request: HttpRequest) -> HttpResponse:
    """A stand-in for a brand's shop page with the one-line widget embed."""
    return render(request, "shop.html")


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
