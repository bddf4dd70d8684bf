from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings


def content_security_policy(*, image_origins: Iterable[str] = ()) -> str:
    """Pages are served with no inline scripts and no third-party resources, but for
    `image_origins` (the catalog's product images) where a page shows them."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            " ".join(["img-src 'self' data:", *image_origins]),
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ]
    )


def shows_catalog_images(view: Callable) -> Callable:
    """For a view whose page shows product cards: their images may come from
    CATALOG_IMAGE_ORIGINS (a brand's CDN)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.csp_image_origins = settings.CATALOG_IMAGE_ORIGINS
        return response

    return wrapped


class ContentSecurityPolicyMiddleware:
    """CSP for the console, staff and account pages. The demo shop stands for a
    brand's own site, which sets its own policy (see README)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path not in settings.CSP_EXEMPT_PATHS and "text/html" in response.get(
            "Content-Type", ""
        ):
            policy = content_security_policy(
                image_origins=getattr(response, "csp_image_origins", ())
            )
            response.setdefault("Content-Security-Policy", policy)
        return response
