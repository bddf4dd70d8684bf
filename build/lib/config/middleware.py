from django.conf import settings

# Pages are served with no inline scripts and no third-party resources.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


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
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
