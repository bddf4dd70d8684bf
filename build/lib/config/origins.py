"""Which pages may open which socket: the browser's Origin header, compared exactly.

An origin is scheme, host and port; all three must match an allowed origin. Host
patterns such as ALLOWED_HOSTS' leading dot are never used here: a page on another
port or subdomain of an allowed host is another site (docs/security.d/h2.md).
"""

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalized_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case without a default port; None for anything
    that is not a plain http(s) origin (paths, credentials, "null")."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


def _normalized(origins: Iterable[str]) -> set[str]:
    return {origin for value in origins if (origin := normalized_origin(value))}


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin1")
    return None


def _is_secure(scope: dict) -> bool:
    """As Django decides for the pages: TLS on this hop, or the proxy says so."""
    if scope.get("scheme") in ("wss", "https"):
        return True
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        header = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = _header(scope, header)
        return value is not None and value.split(",", 1)[0].strip() == secure_value
    return False


def own_origin(scope: dict) -> str | None:
    """The origin of the site the socket was opened on: its scheme and Host header,
    provided that host is one of ours."""
    host = _header(scope, b"host")
    if not host or not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
        return None
    return normalized_origin(("https://" if _is_secure(scope) else "http://") + host)


def site_origins(scope: dict) -> set[str]:
    """Console, expert and staff sockets: only the site's own pages."""
    origins = _normalized(settings.SOCKET_ALLOWED_ORIGINS)
    if origin := own_origin(scope):
        origins.add(origin)
    return origins


def widget_origins(scope: dict) -> set[str]:
    """The widget socket: the shops that embed it."""
    return _normalized(settings.WIDGET_ALLOWED_ORIGINS)


class OriginCheck:
    """Refuse the handshake (HTTP 403) unless the Origin header is allowed exactly."""

    def __init__(self, application, allowed: Callable[[dict], set[str]]) -> None:
        self.application = application
        self.allowed = allowed

    async def __call__(self, scope, receive, send):
        origin = normalized_origin(_header(scope, b"origin") or "")
        if origin is None or origin not in self.allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
