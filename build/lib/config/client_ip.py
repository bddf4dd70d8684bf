"""The real client IP, believed from forwarding headers only when the peer is a
trusted proxy (settings.TRUSTED_PROXIES, CIDRs). Every limit keys on it."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=1)
def _trusted_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress._BaseNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _parse(value: str | None) -> Address | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:port"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "1.2.3.4:port"
        value = value.split(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _is_trusted(address: Address | None) -> bool:
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if address is None:
        # A unix-socket peer: only a local proxy can reach it, trusted when any proxy is.
        return bool(networks)
    return any(address in network for network in networks)


def is_trusted_peer(peer: str | None) -> bool:
    return _is_trusted(_parse(peer))


def resolve_client_ip(peer: str | None, forwarded_for: str | None) -> str:
    """Walk X-Forwarded-For from the right, past trusted proxies: the first hop
    nobody we trust vouches for is the client. Without a trusted peer the header
    is the client's own words and is ignored."""
    address = _parse(peer)
    if _is_trusted(address) and forwarded_for:
        for hop in reversed(forwarded_for.split(",")):
            hop_address = _parse(hop)
            if hop_address is None:
                break  # garbage in the chain: trust stops at the last good hop
            address = hop_address
            if not _is_trusted(hop_address):
                break
    return str(address) if address is not None else "unknown"


def client_ip_from_scope(scope: dict) -> str:
    client = scope.get("client")
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin1") or None
    return resolve_client_ip(client[0] if client else None, forwarded)


def client_ip_from_request(request: HttpRequest) -> str:
    return resolve_client_ip(
        request.META.get("REMOTE_ADDR") or None, request.META.get("HTTP_X_FORWARDED_FOR")
    )


def ip_bucket(ip: str) -> str:
    """What one client controls: the address for IPv4, its /64 for IPv6."""
    address = _parse(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address) if address is not None else "unknown"
