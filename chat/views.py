from django.conf import settings
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat import selectors, services
from chat.forms import PhotoUploadForm
from community.permissions import MODERATE_CHATS, may_moderate, staff_required
from community.selectors import active_expert_for_user, suspension_for_user
from config.client_ip import client_ip_from_request, ip_bucket
from config.errors import ServiceError, error_response
from config.limits import RateLimited

# The demo shop's product pages (the catalog of `load_demo` links to them).
DEMO_PRODUCTS = {
    "AUR-ANC2": {
        "name": "Aurora ANC 2",
        "pitch": "Silence, tuned to you.",
        "blurb": "Adaptive noise cancelling that learns your commute, 40 hours of battery "
        "and warm, detailed sound from custom 40 mm drivers.",
        "price": 279,
        "was": 329,
        "art": "over-ear",
    },
    "STR-BUDS": {
        "name": "Stride Buds",
        "pitch": "Made to stay in.",
        "blurb": "Sweat-proof earbuds with secure fit wings for running, 8 hours a charge "
        "and three sizes of ear tips in the box.",
        "price": 149,
        "was": None,
        "art": "earbuds",
    },
    "STU-ONE": {
        "name": "Studio One",
        "pitch": "Hear every detail.",
        "blurb": "Open-back reference headphones for mixing and long listening, with "
        "velour pads and a replaceable cable.",
        "price": 349,
        "was": None,
        "art": "over-ear",
    },
}


def demo_shop(request: HttpRequest) -> HttpResponse:
    """A stand-in for a brand's shop page with the one-line widget embed. The shop is
    http://localhost:PORT, the chat http://127.0.0.1:PORT: two origins on one machine.
    The port comes from the Host header, which a proxy in front keeps."""
    _host, port = split_domain_port(request.get_host())
    chat_origin = f"{request.scheme}://127.0.0.1" + (f":{port}" if port else "")
    # A product page of the demo shop names its product to the widget (data-product-sku).
    sku = request.GET.get("product", "")
    product = {"sku": sku, **DEMO_PRODUCTS[sku]} if sku in DEMO_PRODUCTS else None
    return render(
        request,
        "shop.html",
        {
            "chat_origin": chat_origin,
            "product": product,
            "hero": product or DEMO_PRODUCTS["AUR-ANC2"],
        },
    )


def _allow_widget_origin(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if origin in settings.WIDGET_ALLOWED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "X-Visitor-Token"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
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


# What multipart framing adds to a photo's bytes (boundaries, headers, the other fields).
MULTIPART_ALLOWANCE = 16 * 1024
# Refusals of a photo upload, by code (the rest are 400).
UPLOAD_STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "chat_closed": 409,
    "too_large": 413,
    "rate_limited": 429,
}


def _photo_upload(request: HttpRequest, **participant) -> JsonResponse:
    """Parse, check and store an upload for the widget's or the console's endpoint."""
    too_large = ServiceError(
        "too_large",
        _("Photos can be at most %(size)s.")
        % {"size": filesizeformat(settings.CHAT_PHOTO_MAX_BYTES)},
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Refused on what the request says, before its body is parsed.
    if declared > settings.CHAT_PHOTO_MAX_BYTES + MULTIPART_ALLOWANCE:
        return error_response(too_large, status=413)
    form = PhotoUploadForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            message = "; ".join(f"{field}: {' '.join(e)}" for field, e in form.errors.items())
            raise ServiceError("bad_field", message)
        upload = form.cleaned_data["photo"]
        if upload.size > settings.CHAT_PHOTO_MAX_BYTES:
            raise too_large
        message, created = services.photo_post(
            conversation_id=form.cleaned_data["conversation"],
            upload=upload,
            client_id=form.cleaned_data["client_id"],
            **participant,
        )
    except ServiceError as refused:
        response = error_response(refused, status=UPLOAD_STATUS.get(refused.code, 400))
        if isinstance(refused, RateLimited):
            response["Retry-After"] = str(refused.retry_after)
        return response
    return JsonResponse(
        {
            "conversation": message.conversation_id,
            "client_id": message.client_id,
            "seq": message.seq,
        },
        status=201 if created else 200,
    )


@csrf_exempt  # the visitor token in a header, never a cookie, says who uploads
@require_http_methods(["POST", "OPTIONS"])
def widget_photo_upload(request: HttpRequest) -> HttpResponse:
    """A customer attaches a photo from the widget, on the shop's origin: the
    visitor token comes in X-Visitor-Token, as for transcripts."""
    if request.method == "OPTIONS":
        return _allow_widget_origin(request, HttpResponse(status=204))
    visitor = selectors.visitor_from_token(request.headers.get("X-Visitor-Token"))
    if visitor is None:
        refused = ServiceError("not_found", _("This chat does not exist or is not yours."))
        return _allow_widget_origin(request, error_response(refused, status=404))
    network = ip_bucket(client_ip_from_request(request))
    response = _photo_upload(
        request, visitor=visitor, network="" if network == "unknown" else network
    )
    return _allow_widget_origin(request, response)


@require_POST
def console_photo_upload(request: HttpRequest) -> HttpResponse:
    """The expert attaches a photo from the console (its session and CSRF token)."""
    expert = active_expert_for_user(user=request.user) if request.user.is_authenticated else None
    if expert is None:
        suspended = request.user.is_authenticated and suspension_for_user(user_id=request.user.pk)
        refused = ServiceError(
            "forbidden",
            _("Your expert account is suspended.")
            if suspended
            else _("Log in as an expert to send photos."),
        )
        return error_response(refused, status=403)
    return _photo_upload(request, expert=expert)


@staff_required(MODERATE_CHATS)
@require_POST
def staff_photo_upload(request: HttpRequest) -> HttpResponse:
    """Staff attach a photo (a receipt, a diagram) to a chat they took over, from the
    monitor; the service refuses any other chat."""
    return _photo_upload(request, staff_member=request.user)


@require_GET
def photo(request: HttpRequest, token: str) -> HttpResponse:
    """A photo or its thumbnail, for whoever holds a live signed link (chat members
    get them in frames). Once staff hid its message, only the chat's expert and staff
    still see it, signed in."""
    found = selectors.photo_from_link(token)
    if found is None:
        raise Http404
    photo, variant = found
    message = getattr(photo, "message", None)
    if message is None:  # erased
        raise Http404
    if message.hidden_at and not (
        request.user.is_authenticated
        and (
            may_moderate(request.user)
            or photo.conversation.expert_id
            and photo.conversation.expert.user_id == request.user.pk
        )
    ):
        raise Http404
    name = photo.thumbnail if variant == "thumbnail" else photo.image
    response = FileResponse(storages["photos"].open(name), content_type="image/jpeg")
    # Only this browser may keep it, and no longer than the link works.
    response["Cache-Control"] = f"private, max-age={settings.CHAT_PHOTO_URL_MAX_AGE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}.jpg"'
    return response
